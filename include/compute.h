/* The compute thread: turns each drain into an immutable snapshot with rates. */
#ifndef TCPTOP_COMPUTE_H
#define TCPTOP_COMPUTE_H

#include "flow_table.h"
#include "snapshot.h"

struct compute_args {
	struct flow_table *table;
	struct snapshot_feed *feed;
	int drained_fd; /* eventfd written by the collector after each drain */
	int built_fd;   /* eventfd written here once a drain's snapshot is built */
	int stop_fd;    /* readable when the program stops (never read) */
};

void *compute_thread(void *args);

/* bytes/s between two cumulative counts over elapsed_ns; 0 for no time or no growth. */
double compute_rate(uint64_t now_count, uint64_t prev_count, uint64_t elapsed_ns);
/* One snapshot of the table's flows with rates over [prev, now]; NULL when out of memory.
 * Exposed for the unit tests. */
struct snapshot *compute_snapshot(struct flow_table *table, const struct drain_stamp *now,
				  const struct drain_stamp *prev);

#endif
