/* The metrics thread's ledger: folds each snapshot it sees into per-process and host
 * counters that never go down (metrics/process_series.h). Only that thread uses it.
 *
 * Bound: a process name has series while one of its flows is in a snapshot and for the
 * grace period after its last one; at most METRICS_MAX_PROCESSES names at once, the flows
 * of further ones counted under comm "[other]" (one more series). */
#ifndef TCPTOP_METRICS_STATE_H
#define TCPTOP_METRICS_STATE_H

#include <stddef.h>
#include <stdint.h>
#include "metrics/process_series.h"
#include "snapshot.h"

#define METRICS_MAX_PROCESSES 4096
#define METRICS_OTHER_COMM "[other]"
#define METRICS_DEFAULT_GRACE_NS (300ULL * 1000000000ULL)

struct flow_mark;

struct metrics_state {
	struct process_series *procs; /* dense, in order of first sight */
	size_t nprocs, procs_room;
	uint32_t *proc_slots; /* open addressing: index into procs + 1, 0 when empty */
	size_t proc_slots_room;
	/* The flows of the last snapshot folded, with the counts already credited; the
	 * other table is filled from the next snapshot, then they swap. */
	struct flow_mark *marks, *next_marks;
	size_t marks_room, next_marks_room;
	struct traffic_counters host;
	uint64_t grace_ns;
	uint64_t expired; /* process names whose series went away */
	uint64_t folded;  /* snapshots folded */
};

void metrics_state_init(struct metrics_state *m, uint64_t grace_ns);
void metrics_state_free(struct metrics_state *m);
/* Credit what each flow of s moved since the last snapshot folded, set the gauges to s's,
 * observe each ESTABLISHED connection's RTT once, and drop the names gone for longer than
 * the grace period. -1 when out of memory. */
int metrics_state_fold(struct metrics_state *m, const struct snapshot *s);

#endif
