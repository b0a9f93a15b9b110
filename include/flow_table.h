/* The flow table: every flow tcptop knows, in an RCU-protected liburcu hash table.
 * One writer (the collector thread) merges cumulative counters into it; the compute
 * thread reads it inside rcu_read_lock() sections without taking any lock. */
#ifndef TCPTOP_FLOW_TABLE_H
#define TCPTOP_FLOW_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>
#include "flow_identity.h"
#include "flow_windows.h"
#include "prog_stat.h"
#include "tcptop_shared.h"

/* A flow's counters as the last drain left them. Written by the collector, read by the
 * compute thread: __atomic accessors only. */
struct flow_node_counts {
	uint64_t tx_bytes, rx_bytes, tx_packets, rx_packets;
	uint64_t last_active_ns;
	uint32_t srtt_us, retrans;
	uint8_t state;
	uint8_t closed; /* final counts are in; no further merges */
	/* A TCP listener's accept queue, its limit and the connections it dropped (the
	 * kernel's sk_drops), from the listeners' walk; listen_known once it has seen it. */
	uint8_t listen_known;
	uint32_t backlog, backlog_max, drops;
};

/* A TCP connection's health (tcp_health.h), allocated at its first sample while the table
 * keeps health (flow_table_keep_health): only runs that show a health column pay for it.
 * sample, its chrono settled at the drain that copied it, is the collector's (__atomic,
 * field by field: flow_table_load_health); the rest is the compute thread's: the chrono
 * totals of the sample its last row used, their jiffies, the shares that row showed. */
struct flow_node_health {
	struct flow_tcp_health sample;
	bool prev_chrono_valid, limited_valid;
	uint8_t limited[3];
	uint8_t prev_type; /* the kind running at that sample */
	uint32_t prev_chrono[3], prev_chrono_at;
};

/* The compute thread's own: the counters at the previous snapshot and the flow's row in it
 * (FLOW_NO_ROW until it has one; set so before publication). close_shown alone is read
 * by another thread: the collector sweeps a closed flow once it is set (__atomic). */
struct flow_node_view {
	uint64_t prev_tx_bytes, prev_rx_bytes;
	uint32_t row_index; /* rows and places fit 32 bits: --max-flows is at most 2^24 */
	uint32_t prev_drops;
	bool prev_valid;
	bool prev_drops_valid;
	uint8_t close_shown; /* a snapshot carried the final row */
	uint64_t cgroup_id;  /* the id cgroup names, looked up once */
	const struct cgroup_name *cgroup;
	struct flow_windows *win; /* NULL until the flow moves a byte after the first drain */
};

/* How a flow left the table (the closed-connection log). */
enum flow_end {
	FLOW_END_CLOSED,       /* the kernel's final record: TCP (its end_state, end_errno) */
	FLOW_END_TIMEOUT,      /* UDP, idle for --udp-timeout */
	FLOW_END_EVICTED,      /* UDP, let go to make room when the flow store was full */
	FLOW_END_BEFORE_START, /* over before tcptop started (TIME_WAIT at start) */
};

/* The collector's bookkeeping, never read by another thread. */
struct flow_node_books {
	uint64_t changed_batch;                  /* the change list the flow is in... */
	uint32_t changed_slot;                   /* ...and where (UINT32_MAX: not stored) */
	uint32_t place_plus_one;                 /* its place (flow_table_merge_at), or 0 */
	union {
		/* Open UDP flows, least recently placed first. */
		struct {
			struct flow_node *idle_prev, *idle_next;
		};
		/* Once out of the table (out of that list first), its free after a grace
		 * period: no thread reads its books then. */
		struct rcu_head rcu;
	};
	uint64_t idle_placed_ns;                 /* last activity when placed in that list */
	struct flow_node *closed_next;           /* closed flows waiting for the sweep */
	bool idle_listed;
	/* Once closed: how, and the end the kernel's final record gave (CLOCK_MONOTONIC). */
	uint8_t end_how; /* enum flow_end */
	uint8_t end_state, end_errno;
	bool unhashed;  /* never in the hash table: in the unhashed list (close_unhashed) */
	bool displaced; /* lost its place to another flow while open, not closed since */
	uint64_t ended_ns;
};

/* One flow, its fields grouped by the thread that writes them. The key and first sight
 * never change; the identity is replaced whole under RCU. */
struct flow_node {
	struct cds_lfht_node ht_node;
	/* The next flow of the table's unhashed list (flows closed before any drain saw them,
	 * which never enter the hash table); rcu_dereference() it. */
	struct flow_node *unhashed_next;
	struct flow_key key;
	/* rcu_dereference() it; replaced whole when the owner changes (flow_identity.h). */
	struct flow_identity_rcu *identity;
	uint64_t first_seen_ns;             /* CLOCK_MONOTONIC */
	struct flow_node_counts counts;     /* collector -> compute */
	struct flow_node_health *health;    /* NULL until its first health sample; __atomic */
	struct flow_node_view view;         /* compute */
	struct flow_node_books books;       /* collector */
};

#define FLOW_NO_ROW UINT32_MAX

/* The flows one published drain changed: inserted, new counters or state, a new identity,
 * or closed; each once. Includes what the collector merged between the previous
 * publication and this one (close records). An entry is NULL where a flow was removed
 * from the table since. */
struct flow_changes {
	struct flow_node *const *nodes;
	size_t count;
	size_t inserted;           /* how many of them are flows new to the table */
	uint64_t generation;       /* of the drain stamp these changes lead up to */
	uint64_t since_generation; /* of the stamp published before it, 0 for none */
	bool complete;             /* false if the list could not grow: assume every flow changed */
};

/* The time of a drain, published with release semantics once the drain is complete. */
struct drain_stamp {
	uint64_t generation; /* 0 before the first drain */
	uint64_t mono_ns;
	uint64_t real_ns;
	uint64_t flows_dropped; /* entries the backend could not store, cumulative */
	uint64_t close_records_lost; /* the backend's, cumulative */
	uint64_t events_missed;      /* runs of the backend's programs the kernel skipped */
	uint64_t ended_unowned; /* flows whose final row had no process, cumulative */
	uint64_t closed_trimmed; /* closed flows let go unshown, over the bound, cumulative */
	uint64_t listen_drops;   /* the host's (netns') ListenDrops, cumulative... */
	bool listen_drops_known; /* ...when the backend can tell */
	uint32_t jiffies, jiffies_before; /* the kernel's, at this drain and the one before, */
	bool jiffies_known;               /* when the backend reads them (backend.h) */
	/* The backend's programs: their names are published once, with the first stamp that
	 * has any, and never change; their counters with every stamp. */
	uint32_t nprogs;
	struct prog_stat progs[PROG_STATS_MAX];
};

struct flow_table;

/* Starts small and is resized by the writer to about one bucket per flow: every walk of
 * a split-ordered table visits each bucket, so a table sized for --max-flows would make
 * each interval cost tens of thousands of steps even with a handful of flows. */
struct flow_table *flow_table_new(void);
/* Call with no readers left (after the threads are joined and rcu_barrier()). */
void flow_table_destroy(struct flow_table *table);

/* --- Collector side: one writer thread, registered with RCU. --- */

/* Merge a backend's cumulative record: insert the flow on first sight, else update its
 * counters, state and (if it changed) identity. Ignored once the flow is closed. */
void flow_table_merge(struct flow_table *table, const struct flow_key *key,
		      const struct flow_value *value, uint64_t now_ns);
/* The same for a backend that keeps each flow's record at a numbered place (a slot) and
 * names it: the flow last merged from that place is found without a hash lookup. A
 * place may hold another flow later; the key decides. */
void flow_table_merge_at(struct flow_table *table, size_t place, const struct flow_key *key,
			 const struct flow_value *value, uint64_t now_ns);
/* The flow's final record from the kernel: merge it and mark the flow closed. */
void flow_table_close(struct flow_table *table, const struct flow_key *key,
		      const struct flow_value *value, uint64_t now_ns);
/* The same for the flow last merged from place (flow_table_merge_at), found there rather
 * than by its key when it still is the place's (SIZE_MAX: no place). */
void flow_table_close_at(struct flow_table *table, size_t place, const struct flow_key *key,
			 const struct flow_value *value, uint64_t now_ns);
/* The flow ends for another reason (how): its final record merged when there is one
 * (final may be NULL: the counters it has are final), then marked closed. */
void flow_table_end(struct flow_table *table, const struct flow_key *key,
		    const struct flow_value *final, uint64_t now_ns, enum flow_end how);
/* Mark a flow closed with the counters it has (its backend record is already gone). */
void flow_table_mark_closed(struct flow_table *table, const struct flow_key *key);
/* An owner walk: begin, set_owner for each socket held, end. Flows without an owner get
 * the first holder found, now (end) or when they appear later. */
void flow_table_begin_owner_walk(struct flow_table *table);
void flow_table_end_owner_walk(struct flow_table *table);
/* A TCP listener's accept queue (queued of at most max) and its drops so far, for the
 * flow of this socket cookie (if the table has it). */
void flow_table_set_listen(struct flow_table *table, uint64_t cookie, uint32_t queued, uint32_t max,
			   uint32_t drops);
/* Whether flows keep their health samples (off by default: nothing shows them). */
void flow_table_keep_health(struct flow_table *table, bool keep);
/* A flow's health sample into out, each field read atomically (the collector may be
 * storing the next one: fields of two samples may mix, each true at its moment); NULL
 * when it has none. */
struct flow_node_health *flow_table_load_health(struct flow_node *node,
						struct flow_tcp_health *out);
/* Give every flow of this socket cookie that has no owner yet this one. */
void flow_table_set_owner(struct flow_table *table, uint64_t cookie, uint32_t tgid,
			  const char comm[TCPTOP_COMM_LEN]);
/* Remove flows whose final row a snapshot has already carried (all closed flows with
 * all, at the end): O(closed flows). gone, when not NULL, sees each one first. */
typedef void (*flow_table_gone)(const struct flow_node *node, void *arg);
void flow_table_sweep_closed(struct flow_table *table, bool all, flow_table_gone gone, void *arg);
/* Closed flows waiting to be shown are at most keep: beyond, those that have no row yet
 * (opened and closed within an interval) go unshown, oldest first; gone sees each. The
 * number let go. Only while the compute thread is not building (it owns row_index). */
size_t flow_table_trim_closed(struct flow_table *table, size_t keep, flow_table_gone gone,
			      void *arg);
/* Calls fn for each open UDP flow idle since before idle_since_ns, the longest idle
 * about first: O(idle flows), plus one move for each flow active since it was last
 * looked at. fn may close the flow it is given and nothing else. */
void flow_table_for_each_idle_udp(struct flow_table *table, uint64_t idle_since_ns,
				  void (*fn)(const struct flow_key *key, void *ctx), void *ctx);
/* Publishes the stamp and, with it, the flows changed since the previous publication. */
void flow_table_publish_stamp(struct flow_table *table, const struct drain_stamp *stamp);

/* --- Reader side. --- */

void flow_table_read_stamp(struct flow_table *table, struct drain_stamp *out);
/* The changes published with the stamp flow_table_read_stamp() returned. They stay valid
 * until the collector drains again, which it does only after the reader (the compute
 * thread) has signalled that it is done with this drain. */
void flow_table_read_changes(struct flow_table *table, struct flow_changes *out);
/* Calls fn on every flow, inside one read-side section, until fn returns false; false
 * when it stopped. For readers registered with RCU; fn may keep a node only until the
 * next drain's sweep. */
bool flow_table_each(struct flow_table *table, bool (*fn)(struct flow_node *node, void *arg),
		     void *arg);
/* Flows in the table now: O(1), kept by the writer. */
size_t flow_table_count(struct flow_table *table);

#endif
