/* A backend collects flows into the flow table. Nothing outside a backend knows which one
 * runs: the eBPF backend (the real one) or the replay backend (synthetic flows for tests
 * and benchmarks). */
#ifndef TCPTOP_BACKEND_H
#define TCPTOP_BACKEND_H

#include <stdint.h>
#include <stdio.h>
#include "flow_table.h"
#include "options.h"
#include "prog_stat.h"
#include "tcptop_shared.h"

struct backend;

struct backend_ops {
	const char *name;
	/* Load (probing for the best hook set that works) and prepare; on failure reports
	 * one line and returns <0. */
	int (*open)(struct backend *b, const struct options *opt);
	/* Attach the hooks and walk what existed before start into the table. */
	int (*attach)(struct backend *b, struct flow_table *table);
	/* Merge every changed flow and every close record into the table. */
	int (*drain)(struct backend *b, struct flow_table *table, uint64_t now_ns);
	/* An fd that becomes readable when close records pile up between drains, or -1. */
	int (*event_fd)(struct backend *b);
	/* Consume pending close records only (called when event_fd is readable). */
	int (*drain_events)(struct backend *b, struct flow_table *table, uint64_t now_ns);
	/* Remove an idle flow, returning its final counts; <0 if it was already gone. */
	int (*expire)(struct backend *b, const struct flow_key *key, struct flow_value *final);
	/* Flows that could not be stored since start (map full). */
	uint64_t (*flows_dropped)(struct backend *b);
	/* Close records that found the kernel's ring full since start (their flows' final
	 * counts were read from where they were kept instead). */
	uint64_t (*close_records_lost)(struct backend *b);
	/* The host's TCP listen drops so far into *out; false (or NULL) when it cannot tell. */
	bool (*listen_drops)(struct backend *b, uint64_t *out);
	/* The kernel's jiffies at this drain and at the one before (health samples' chronos
	 * are settled at them); false (or NULL) when it does not read them. */
	bool (*jiffies)(struct backend *b, uint32_t *now, uint32_t *before);
	/* The counters of the backend's BPF programs, up to room of them (NULL: it has
	 * none); how many were filled. */
	size_t (*prog_stats)(struct backend *b, struct prog_stat *out, size_t room);
	/* What drain, drain_events and expire need a capability for from now on (enum
	 * caps_need of util/caps.h); NULL: nothing. Main keeps that much for itself and the
	 * collector and drops the rest. */
	unsigned (*steady_needs)(struct backend *b);
	/* One line for -v: which hook set is active and why. */
	const char *(*describe)(struct backend *b);
	void (*close)(struct backend *b);
};

struct backend {
	const struct backend_ops *ops;
	void *state;
};

extern const struct backend_ops backend_ebpf_ops;
extern const struct backend_ops backend_replay_ops;

/* Bytes the replay backend's flow number index moves at each drain. */
uint64_t replay_tx_per_drain(uint64_t index);
uint64_t replay_rx_per_drain(uint64_t index);

#endif
