/* The compute thread. Rates come from the measured time between two drains
 * (CLOCK_MONOTONIC), never the nominal interval: a late timer must not inflate them. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "compute.h"
#include "report.h"
#include "snapshot_builder.h"
#include "stage_time.h"
#include "wakeup.h"

double compute_rate(uint64_t now_count, uint64_t prev_count, uint64_t elapsed_ns)
{
	if (!elapsed_ns || now_count <= prev_count)
		return 0.0;
	return (double)(now_count - prev_count) * 1e9 / (double)elapsed_ns;
}

static void record_baseline(struct flow_table *table)
{
	struct cds_lfht_iter iter;
	struct flow_node *node;

	urcu_memb_read_lock();
	cds_lfht_for_each_entry(flow_table_ht(table), &iter, node, ht_node) {
		node->prev_tx_bytes = __atomic_load_n(&node->tx_bytes, __ATOMIC_RELAXED);
		node->prev_rx_bytes = __atomic_load_n(&node->rx_bytes, __ATOMIC_RELAXED);
		node->prev_valid = true;
	}
	urcu_memb_read_unlock();
}

struct snapshot *compute_snapshot(struct flow_table *table, const struct drain_stamp *now,
				  const struct drain_stamp *prev)
{
	struct snapshot_builder builder;
	struct snapshot *s;

	snapshot_builder_init(&builder, NULL);
	s = snapshot_builder_build(&builder, table, now, prev);
	snapshot_builder_free(&builder);
	return s;
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
	if (s)
		snapshot_publish(args->feed, s);
	else
		report_error("out of memory building a snapshot; skipping it");
}

void *compute_thread(void *arg)
{
	struct compute_args *args = arg;
	struct drain_stamp prev = { 0 }, now;
	struct stage_time timing = { 0 };
	struct snapshot_builder builder;

	urcu_memb_register_thread();
	snapshot_builder_init(&builder, args->feed);
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
