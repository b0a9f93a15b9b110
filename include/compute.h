/* The compute thread: turns each drain into an immutable snapshot with rates
 * (snapshot_builder.h), published for every reader. */
#ifndef TCPTOP_COMPUTE_H
#define TCPTOP_COMPUTE_H

#include "cgroup/cgroup_ids.h"
#include "flow_table.h"
#include "snapshot.h"

struct compute_args {
	struct flow_table *table;
	struct snapshot_feed *feed;
	int drained_fd; /* eventfd written by the collector after each drain */
	int built_fd;   /* eventfd written here once a drain's snapshot is built */
	int stop_fd;    /* readable when the program stops (never read) */
	struct cgroup_ids *cgroups; /* names for cgroup ids, or NULL */
};

/* Once per drain the collector signals, the next snapshot, published to the feed. */
void *compute_thread(void *args);

#endif
