/* The compute thread: waits for each drain, has the snapshot builder make its snapshot,
 * publishes it, and tells the collector it may merge the next drain. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "compute.h"
#include "util/report.h"
#include "snapshot_builder.h"
#include "util/stage_time.h"
#include "util/wakeup.h"

static bool record_counts(struct flow_node *node, void *unused)
{
	(void)unused;
	node->view.prev_tx_bytes = __atomic_load_n(&node->counts.tx_bytes, __ATOMIC_RELAXED);
	node->view.prev_rx_bytes = __atomic_load_n(&node->counts.rx_bytes, __ATOMIC_RELAXED);
	node->view.prev_valid = true;
	return true;
}

/* Rates need two samples: the first drain's counters are where they start from. */
static void record_baseline(struct flow_table *table)
{
	flow_table_each(table, record_counts, NULL);
}

static void use_drain(struct compute_args *args, struct snapshot_builder *builder,
		      const struct drain_stamp *now, const struct drain_stamp *prev,
		      struct stage_time *timing)
{
	uint64_t start_ns = stage_time_start();
	struct snapshot *s;

	if (!prev->generation) {
		record_baseline(args->table); /* rates need two samples */
		return;
	}
	s = snapshot_builder_build(builder, args->table, now, prev);
	stage_time_add(timing, start_ns);
	if (s) {
		s->build_ns = stage_time_start() - start_ns;
		snapshot_publish(args->feed, s);
	} else {
		report_error("out of memory building a snapshot; skipping it");
	}
}

void *compute_thread(void *arg)
{
	struct compute_args *args = arg;
	struct drain_stamp prev = { 0 }, now;
	struct stage_time timing = { 0 };
	struct snapshot_builder builder;

	urcu_memb_register_thread();
	snapshot_builder_init(&builder, args->feed);
	builder.cgroups = args->cgroups;
	while (wakeup_wait(args->stop_fd, args->drained_fd, -1) == WAKEUP_SIGNALLED) {
		flow_table_read_stamp(args->table, &now);
		if (now.generation != prev.generation) {
			use_drain(args, &builder, &now, &prev, &timing);
			prev = now;
		}
		/* This drain's counters are read: the collector may merge the next one. */
		if (wakeup_signal(args->built_fd) < 0)
			break;
	}
	stage_time_report(&timing, "snapshot build");
	snapshot_builder_free(&builder);
	urcu_memb_unregister_thread();
	return NULL;
}
