/* Builds each snapshot from the one before it and the flows the last drain changed. An
 * unchanged flow's row is copied (its rates are 0, only its age moves), so an interval
 * costs a visit to each changed flow, instead of a visit to every flow in the table; and
 * when the memory of a released snapshot comes back, only the rows written since it are
 * copied into it. Used by the compute thread alone. */
#ifndef TCPTOP_SNAPSHOT_BUILDER_H
#define TCPTOP_SNAPSHOT_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include "cgroup/cgroup_ids.h"
#include "flow_table.h"
#include "snapshot.h"
#include "touched_rows.h"

struct row_source;

struct snapshot_builder {
	struct snapshot_feed *feed; /* where snapshots go, for their memory to come back */
	struct snapshot *last;      /* a reference on the last snapshot built, or NULL */
	struct row_source *sources; /* for each row of last: its flow and first sight */
	struct row_source *spare;   /* the next build's, when it lays rows out anew */
	bool *taken;                /* rows of last whose flow changed, during such a build */
	size_t room;                /* rows the three arrays above have room for */
	struct touched_rows touched; /* where the last builds wrote rows */
	struct cgroup_ids *cgroups;  /* names for the rows' cgroup ids; NULL: none */
};

/* feed may be NULL (snapshots that are not published). */
void snapshot_builder_init(struct snapshot_builder *b, struct snapshot_feed *feed);
/* Drops the builder's reference on the last snapshot. */
void snapshot_builder_free(struct snapshot_builder *b);
/* The table's flows at drain now with rates over [prev, now]: from the last snapshot
 * and the drain's changes when they follow each other, else from every flow. The caller
 * owns one reference. NULL when out of memory; the next build then reads every flow. */
struct snapshot *snapshot_builder_build(struct snapshot_builder *b, struct flow_table *table,
					const struct drain_stamp *now,
					const struct drain_stamp *prev);
/* One snapshot of the table's flows with rates over [prev, now], from a builder of its
 * own (tests); NULL when out of memory. */
struct snapshot *snapshot_build_once(struct flow_table *table, const struct drain_stamp *now,
				     const struct drain_stamp *prev);
/* bytes/s between two cumulative counts over elapsed_ns; 0 for no time or no growth.
 * Rates come from the measured time between two drains (CLOCK_MONOTONIC), never the
 * nominal interval: a late timer must not inflate them. */
double snapshot_rate(uint64_t now_count, uint64_t prev_count, uint64_t elapsed_ns);

#endif
