/* The compute thread. Rates come from the measured time between two drains
 * (CLOCK_MONOTONIC), never the nominal interval: a late timer must not inflate them. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "compute.h"
#include "report.h"
#include "stage_time.h"
#include "wakeup.h"

double compute_rate(uint64_t now_count, uint64_t prev_count, uint64_t elapsed_ns)
{
	if (!elapsed_ns || now_count <= prev_count)
		return 0.0;
	return (double)(now_count - prev_count) * 1e9 / (double)elapsed_ns;
}

static void fill_row(struct flow_row *row, struct flow_node *node, const struct drain_stamp *now,
		     uint64_t elapsed_ns)
{
	uint64_t prev_tx = node->prev_valid ? node->prev_tx_bytes : 0;
	uint64_t prev_rx = node->prev_valid ? node->prev_rx_bytes : 0;

	row->key = node->key;
	row->id = rcu_dereference(node->identity)->id;
	row->closed = __atomic_load_n(&node->closed, __ATOMIC_ACQUIRE);
	row->state = __atomic_load_n(&node->state, __ATOMIC_RELAXED);
	row->tx_bytes = __atomic_load_n(&node->tx_bytes, __ATOMIC_RELAXED);
	row->rx_bytes = __atomic_load_n(&node->rx_bytes, __ATOMIC_RELAXED);
	row->tx_packets = __atomic_load_n(&node->tx_packets, __ATOMIC_RELAXED);
	row->rx_packets = __atomic_load_n(&node->rx_packets, __ATOMIC_RELAXED);
	row->srtt_us = __atomic_load_n(&node->srtt_us, __ATOMIC_RELAXED);
	row->retrans = __atomic_load_n(&node->retrans, __ATOMIC_RELAXED);
	row->tx_rate = compute_rate(row->tx_bytes, prev_tx, elapsed_ns);
	row->rx_rate = compute_rate(row->rx_bytes, prev_rx, elapsed_ns);
	row->age_s = now->mono_ns > node->first_seen_ns ?
			     (double)(now->mono_ns - node->first_seen_ns) / 1e9 : 0.0;
	/* The compute thread alone owns the prev_* fields. */
	node->prev_tx_bytes = row->tx_bytes;
	node->prev_rx_bytes = row->rx_bytes;
	node->prev_valid = true;
	if (row->closed)
		__atomic_store_n(&node->close_shown, 1, __ATOMIC_RELEASE);
}

static void add_to_totals(struct snapshot_totals *t, const struct flow_row *row)
{
	if (row->id.proto == TCPTOP_PROTO_UDP)
		t->udp_flows++;
	else
		t->tcp_flows++;
	t->tx_rate += row->tx_rate;
	t->rx_rate += row->rx_rate;
	t->tx_bytes += row->tx_bytes;
	t->rx_bytes += row->rx_bytes;
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

/* Room for the rows; grown (before publication, so realloc is safe) if flows arrived. */
static struct snapshot *ensure_room(struct snapshot *s, size_t *capacity)
{
	struct snapshot *grown;
	size_t cap;

	if (s->nrows < *capacity)
		return s;
	cap = *capacity * 2 + 64;
	grown = realloc(s, sizeof(*s) + cap * sizeof(s->rows[0]));
	if (!grown)
		return NULL;
	*capacity = cap;
	return grown;
}

struct snapshot *compute_snapshot(struct flow_table *table, const struct drain_stamp *now,
				  const struct drain_stamp *prev)
{
	uint64_t elapsed_ns = now->mono_ns - prev->mono_ns;
	size_t capacity = flow_table_count(table) + 64;
	struct snapshot *s = snapshot_alloc(capacity), *grown;
	struct cds_lfht_iter iter;
	struct flow_node *node;

	if (!s)
		return NULL;
	s->generation = now->generation;
	s->time.tv_sec = (time_t)(now->real_ns / 1000000000ULL);
	s->time.tv_nsec = (long)(now->real_ns % 1000000000ULL);
	s->interval_s = (double)elapsed_ns / 1e9;
	s->flows_dropped = now->flows_dropped;
	urcu_memb_read_lock();
	cds_lfht_for_each_entry(flow_table_ht(table), &iter, node, ht_node) {
		grown = ensure_room(s, &capacity);
		if (!grown)
			break; /* out of memory: publish the rows we have */
		s = grown;
		fill_row(&s->rows[s->nrows], node, now, elapsed_ns);
		add_to_totals(&s->totals, &s->rows[s->nrows]);
		s->nrows++;
	}
	urcu_memb_read_unlock();
	return s;
}

static void use_drain(struct compute_args *args, const struct drain_stamp *now,
		      const struct drain_stamp *prev, struct stage_time *timing)
{
	uint64_t start_ns = stage_time_start();
	struct snapshot *s;

	if (!prev->generation) {
		record_baseline(args->table); /* rates need two samples */
		return;
	}
	s = compute_snapshot(args->table, now, prev);
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

	urcu_memb_register_thread();
	while (wakeup_wait(args->stop_fd, args->drained_fd, -1) == WAKEUP_SIGNALLED) {
		flow_table_read_stamp(args->table, &now);
		if (now.generation != prev.generation) {
			use_drain(args, &now, &prev, &timing);
			prev = now;
		}
		/* This drain's counters are read: the collector may merge the next one. */
		if (wakeup_signal(args->built_fd) < 0)
			break;
	}
	stage_time_report(&timing, "snapshot build");
	urcu_memb_unregister_thread();
	return NULL;
}
