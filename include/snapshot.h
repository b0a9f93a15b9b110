/* Snapshots: immutable sets of rows built by the compute thread, published through RCU.
 * Readers take a reference inside a short read-side section and may then hold the
 * snapshot as long as they like (e.g. while a pipe write blocks) without a lock. */
#ifndef TCPTOP_SNAPSHOT_H
#define TCPTOP_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <urcu/urcu-memb.h>
#include "flow_identity.h"
#include "flow_row.h"
#include "prog_stat.h"

struct snapshot_totals {
	size_t tcp_flows, udp_flows;
	size_t unowned_flows; /* rows that name no process */
	double tx_rate, rx_rate;
	uint64_t tx_bytes, rx_bytes;
};

struct snapshot {
	struct rcu_head rcu;
	long refs; /* __atomic: the feed's reference and each reader's */
	uint64_t generation;
	struct timespec time;  /* CLOCK_REALTIME of the drain the rows come from */
	uint64_t mono_ns;      /* the same drain's CLOCK_MONOTONIC: the ages are as of it */
	double interval_s;     /* measured time since the previous snapshot's drain */
	uint64_t build_ns;     /* what building it took (the compute thread's stage) */
	/* Losses since start, as the drain saw them (output/losses.h shows them). */
	uint64_t flows_dropped;
	uint64_t close_records_lost;
	uint64_t events_missed; /* runs of the BPF programs the kernel skipped */
	uint32_t nprogs;        /* the backend's BPF programs, cumulative counters */
	struct prog_stat progs[PROG_STATS_MAX];
	uint64_t closed_trimmed;
	/* Flows that ended, their final row shown, without a known process (cumulative). */
	uint64_t ended_unowned;
	/* Connections the host's TCP listeners dropped in this interval (ListenDrops), when
	 * the backend can tell (listen_drops_known). */
	uint64_t listen_drops;
	bool listen_drops_known;
	struct snapshot_totals totals;
	/* The rows written anew since the snapshot of generation changed_since (0: any row
	 * may differ, e.g. laid out anew): every other row is as it was there, but for its
	 * age. Their places, ascending, each once; the array follows the rows' room. */
	uint64_t changed_since;
	uint32_t *changed;
	size_t nchanged;
	size_t nrows;
	size_t capacity;            /* rows there is room for */
	/* Row slots [0, held) each hold a reference on their row's identity (or a NULL one):
	 * the memory's, kept while it is reused, dropped when it is freed. nrows once built;
	 * a builder that reuses the memory moves the references of the rows it rewrites. */
	size_t held;
	struct snapshot_feed *home; /* takes the memory back for reuse when released, or NULL */
	struct flow_row rows[];
};

#define SNAPSHOT_MAX_SUBSCRIBERS 4
#define SNAPSHOT_SPARES 2

struct snapshot_feed {
	struct snapshot *current; /* RCU-protected */
	/* __atomic: the memory of the last snapshots released, newest first, for the next
	 * ones built: above malloc's mmap threshold every fresh snapshot would be page faults
	 * to zero-fill. Two, because a writer slower than the interval releases the snapshot
	 * it held right after the feed released the one before: with one spare, every other
	 * snapshot came from fresh memory (1M rows: a third of the build time). */
	struct snapshot *spare[SNAPSHOT_SPARES];
	int subscriber_fds[SNAPSHOT_MAX_SUBSCRIBERS];
	int nsubscribers;
};

/* Room for nrows rows, zeroed, nrows still 0; the caller holds the one reference. Every
 * slot holds a NULL identity: give a row's id a reference of its own (flow_identity_new,
 * flow_identity_hold), which the snapshot drops when its memory is freed. */
struct snapshot *snapshot_alloc(size_t nrows);
/* The same with the rows left unwritten, for a builder that writes each row it counts;
 * in the memory of home's newest spare snapshot when it is big enough (home may be NULL). Its
 * rows are then still those of the snapshot of *rows_generation (else 0). */
struct snapshot *snapshot_alloc_raw(struct snapshot_feed *home, size_t nrows,
				    uint64_t *rows_generation);
/* Slots [held, n) of s made to hold a NULL identity, so that a row written there moves
 * its reference (flow_identity_move). */
void snapshot_hold_slots(struct snapshot *s, size_t n);
/* The references of slots [nrows, held) dropped: a snapshot built keeps only its rows'. */
void snapshot_trim_slots(struct snapshot *s);
/* Room for nrows rows in s, not yet published; NULL (s unchanged) when out of memory. */
struct snapshot *snapshot_grow(struct snapshot *s, size_t nrows);
/* Another reference on s, which the caller already holds one on. */
struct snapshot *snapshot_hold(struct snapshot *s);
void snapshot_feed_init(struct snapshot_feed *feed);
/* Call after rcu_barrier(), when no thread reads the feed any more. */
void snapshot_feed_destroy(struct snapshot_feed *feed);
/* An eventfd that becomes readable whenever a snapshot is published; -1 on error.
 * Subscribe before the threads start. */
int snapshot_feed_subscribe(struct snapshot_feed *feed);
/* Publish s (which must not change afterwards); the caller's reference becomes the
 * feed's, and the previous snapshot's is released after a grace period. The calling
 * thread must be registered with RCU. */
void snapshot_publish(struct snapshot_feed *feed, struct snapshot *s);
/* The latest snapshot with a reference held, or NULL before the first one. */
struct snapshot *snapshot_acquire(struct snapshot_feed *feed);
void snapshot_release(struct snapshot *s);

#endif
