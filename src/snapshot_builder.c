/* The snapshot builder. When few flows changed, the new snapshot starts as a copy of the
 * last one's rows: the memory of a released snapshot comes back still holding its rows,
 * and only the rows written since are copied into it (touched_rows.h), else all rows.
 * Among the rows the last build wrote, closed ones (shown once) are dropped and rates
 * stop; each changed flow's row is rewritten in place, or appended for a new flow; then
 * every row's age moves. When most flows changed, the rows are laid out anew in the order
 * of the changes (which is the drain's, stable from one drain to the next), unchanged
 * rows after them, so that the next builds read flows and write rows in the same order
 * instead of jumping across the array.
 * A flow's node remembers its row (row_index) and the builder each row's node, so that a
 * moved row stays found. Nodes are read inside one RCU read-side section: the changed
 * ones are live (the collector never frees a flow in a published change list), and the
 * node of a dropped closed row, which the sweep may already have freed, is never touched. */
#include <stdlib.h>
#include <string.h>
#include "util/array_grow.h"
#include "snapshot_builder.h"
#include "tcp_health.h"

struct row_source {
	struct flow_node *node;
};

void snapshot_builder_init(struct snapshot_builder *b, struct snapshot_feed *feed)
{
	memset(b, 0, sizeof(*b));
	b->feed = feed;
}

void snapshot_builder_free(struct snapshot_builder *b)
{
	snapshot_release(b->last);
	free(b->sources);
	free(b->spare);
	free(b->taken);
	touched_rows_free(&b->touched);
	memset(b, 0, sizeof(*b));
}

static bool reserve(struct snapshot_builder *b, size_t n)
{
	if (n <= b->room)
		return true;
	if (!array_grow((void **)&b->sources, n, sizeof(*b->sources)) ||
	    !array_grow((void **)&b->spare, n, sizeof(*b->spare)) ||
	    !array_grow((void **)&b->taken, n, sizeof(*b->taken)))
		return false;
	b->room = n;
	return true;
}

/* A snapshot with room for capacity rows and the builder's arrays to match; *rows_of
 * says whose rows its memory still holds (snapshot_alloc_raw). */
static struct snapshot *start(struct snapshot_builder *b, size_t capacity, uint64_t *rows_of)
{
	struct snapshot *s = snapshot_alloc_raw(b->feed, capacity, rows_of);

	if (s && !reserve(b, capacity)) {
		snapshot_release(s);
		return NULL;
	}
	return s;
}

/* Room for one more row in *s: grown if flows came that the capacity did not foresee. */
static bool room_for_row(struct snapshot_builder *b, struct snapshot **s, size_t *capacity)
{
	struct snapshot *grown;
	size_t cap = *capacity * 2 + 64;

	if ((*s)->nrows < *capacity)
		return true;
	grown = snapshot_grow(*s, cap);
	if (!grown)
		return false;
	*s = grown;
	*capacity = cap;
	return reserve(b, cap);
}

/* The flow's cgroup name, looked up again only when its identity says another id. */
static const struct cgroup_name *row_cgroup(struct cgroup_ids *cgroups, struct flow_node *node,
					    uint64_t id, uint64_t now_ns)
{
	if (!node->view.cgroup || node->view.cgroup_id != id) {
		node->view.cgroup = cgroup_ids_name(cgroups, id, now_ns);
		node->view.cgroup_id = id;
	}
	return node->view.cgroup;
}

/* The row's window averages at now, from the flow's buckets (zero without any). */
static void rate_windows(struct flow_row *row, struct flow_windows *w, uint64_t now_ns)
{
	if (!w) {
		memset(row->tx_rate_win, 0, sizeof(row->tx_rate_win));
		memset(row->rx_rate_win, 0, sizeof(row->rx_rate_win));
		return;
	}
	flow_windows_rates(w, now_ns, row->tx_rate_win, row->rx_rate_win);
}

/* The bytes the flow moved in the interval that ends now into its windows; their buckets
 * are made at its first byte (a flow new since the last drain counts from that drain).
 * A flow that ends in the interval it first moved bytes has its one row's averages from
 * buckets of the moment: kept, they would be freed unread (under churn, nearly every
 * connection). */
static void fill_windows(struct flow_row *row, struct flow_node *node, uint64_t tx, uint64_t rx,
			 const struct drain_stamp *now, uint64_t elapsed_ns)
{
	uint64_t start_ns = now->mono_ns - elapsed_ns;
	struct flow_windows once;

	if ((tx || rx) && !node->view.win && row->closed) {
		flow_windows_init(&once, start_ns);
		flow_windows_add(&once, start_ns, now->mono_ns, tx, rx);
		rate_windows(row, &once, now->mono_ns);
		return;
	}
	if ((tx || rx) && !node->view.win) {
		node->view.win = malloc(sizeof(*node->view.win));
		if (node->view.win)
			flow_windows_init(node->view.win, start_ns);
	}
	if (node->view.win && (tx || rx))
		flow_windows_add(node->view.win, start_ns, now->mono_ns, tx, rx);
	rate_windows(row, node->view.win, now->mono_ns);
}

/* A listener's queue and drops, as the listeners' walk left them. */
static void fill_listen(struct flow_row *row, struct flow_node *node, uint64_t elapsed_ns)
{
	row->listen_known = __atomic_load_n(&node->counts.listen_known, __ATOMIC_RELAXED);
	row->backlog = __atomic_load_n(&node->counts.backlog, __ATOMIC_RELAXED);
	row->backlog_max = __atomic_load_n(&node->counts.backlog_max, __ATOMIC_RELAXED);
	row->drops = __atomic_load_n(&node->counts.drops, __ATOMIC_RELAXED);
	row->drop_rate = node->view.prev_drops_valid
				 ? (float)snapshot_rate(row->drops, node->view.prev_drops,
							elapsed_ns)
				 : 0.0f;
	node->view.prev_drops = row->drops;
	node->view.prev_drops_valid = row->listen_known;
}

/* The last health sample; limited over the time since the sample the flow's last row
 * used. A listener has none: the listeners' dump gives its queues. */
static void fill_health(struct flow_row *row, struct flow_node *node, const struct drain_stamp *now)
{
	struct flow_health_row *out = &row->health;
	uint8_t percent[TCP_LIMIT_COUNT];
	struct flow_node_health *view;
	struct flow_tcp_health h;

	if (row->listen_known) {
		/* Its queues are backlog and backlog_max (view/columns.c), in this memory. */
		memset(out->limited, 0, sizeof(out->limited));
		out->known = 0;
		return;
	}
	memset(out, 0, sizeof(*out));
	view = flow_table_load_health(node, &h);
	if (!view)
		return;
	out->known = h.known & (TCPTOP_HEALTH_QUEUES | TCPTOP_HEALTH_CWND);
	out->sendq = h.sendq;
	out->recvq = h.recvq;
	out->cwnd = h.cwnd;
	out->delivery_rate = (float)tcp_health_delivery_rate(&h);
	if (!(h.known & TCPTOP_HEALTH_CHRONO)) {
		view->prev_chrono_valid = view->limited_valid = false;
		return;
	}
	/* Intervals with no sample went whole to the kind running at the last one (the rows
	 * said so, health_idle): the shares are of the time since the drain before. */
	if (view->prev_chrono_valid && now->jiffies_known &&
	    (int32_t)(now->jiffies_before - view->prev_chrono_at) > 0 &&
	    (int32_t)(h.chrono_start - now->jiffies_before) > 0) {
		if (view->prev_type)
			view->prev_chrono[view->prev_type - 1] += now->jiffies_before -
								  view->prev_chrono_at;
		view->prev_chrono_at = now->jiffies_before;
	}
	/* The same sample as the last row's (the row changed for another reason): its
	 * shares stand. */
	if (!view->prev_chrono_valid || h.chrono_start != view->prev_chrono_at) {
		view->limited_valid = view->prev_chrono_valid &&
				      tcp_health_shares(view->prev_chrono, view->prev_chrono_at,
							h.chrono_stat, h.chrono_start, percent);
		if (view->limited_valid)
			memcpy(view->limited, &percent[TCP_LIMIT_CWND], sizeof(view->limited));
		memcpy(view->prev_chrono, h.chrono_stat, sizeof(view->prev_chrono));
		view->prev_chrono_at = h.chrono_start;
		view->prev_type = h.chrono_type & 3;
		view->prev_chrono_valid = true;
	}
	if (view->limited_valid) {
		memcpy(out->limited, view->limited, sizeof(out->limited));
		out->known |= FLOW_HEALTH_LIMITED;
	}
	out->known |= (uint8_t)((h.chrono_type & 3) << FLOW_HEALTH_RUNNING_SHIFT);
	if (!view->limited_valid ||
	    (h.chrono_type ? out->limited[(h.chrono_type & 3) - 1]
			   : 100 - out->limited[0] - out->limited[1] - out->limited[2]) != 100)
		out->known |= FLOW_HEALTH_MOVING;
}

/* A connection with no sample this interval ran on as its last one left it: the whole
 * interval goes to the limit running then. true when that changed the row. */
static bool health_idle(struct flow_row *row)
{
	struct flow_health_row *h = &row->health;
	unsigned int running = (h->known & FLOW_HEALTH_RUNNING) >> FLOW_HEALTH_RUNNING_SHIFT;

	if (!(h->known & FLOW_HEALTH_MOVING))
		return false;
	memset(h->limited, 0, sizeof(h->limited));
	if (running)
		h->limited[running - 1] = 100;
	h->known = (uint8_t)((h->known & ~FLOW_HEALTH_MOVING) | FLOW_HEALTH_LIMITED);
	return true;
}

static void fill_row(struct flow_row *row, struct flow_node *node, struct cgroup_ids *cgroups,
		     const struct drain_stamp *now, uint64_t elapsed_ns)
{
	uint64_t prev_tx = node->view.prev_valid ? node->view.prev_tx_bytes : 0;
	uint64_t prev_rx = node->view.prev_valid ? node->view.prev_rx_bytes : 0;

	row->key = node->key;
	flow_identity_move(&row->id, &rcu_dereference(node->identity)->id);
	row->cgroup = row_cgroup(cgroups, node, row->id->cgroup_id, now->mono_ns);
	row->closed = __atomic_load_n(&node->counts.closed, __ATOMIC_ACQUIRE);
	row->state = __atomic_load_n(&node->counts.state, __ATOMIC_RELAXED);
	row->tx_bytes = __atomic_load_n(&node->counts.tx_bytes, __ATOMIC_RELAXED);
	row->rx_bytes = __atomic_load_n(&node->counts.rx_bytes, __ATOMIC_RELAXED);
	row->tx_packets = __atomic_load_n(&node->counts.tx_packets, __ATOMIC_RELAXED);
	row->rx_packets = __atomic_load_n(&node->counts.rx_packets, __ATOMIC_RELAXED);
	row->srtt_us = __atomic_load_n(&node->counts.srtt_us, __ATOMIC_RELAXED);
	row->retrans = __atomic_load_n(&node->counts.retrans, __ATOMIC_RELAXED);
	row->tx_rate = snapshot_rate(row->tx_bytes, prev_tx, elapsed_ns);
	row->rx_rate = snapshot_rate(row->rx_bytes, prev_rx, elapsed_ns);
	fill_windows(row, node, row->tx_bytes > prev_tx ? row->tx_bytes - prev_tx : 0,
		     row->rx_bytes > prev_rx ? row->rx_bytes - prev_rx : 0, now, elapsed_ns);
	row->first_seen_ns = node->first_seen_ns; /* its identity's too (flow_table.c) */
	row->age_s = flow_age_s(now->mono_ns, row->first_seen_ns);
	fill_listen(row, node, elapsed_ns);
	fill_health(row, node, now);
	row->version = now->generation;
	/* The compute thread alone owns the prev_* fields. */
	node->view.prev_tx_bytes = row->tx_bytes;
	node->view.prev_rx_bytes = row->rx_bytes;
	node->view.prev_valid = true;
	if (row->closed)
		__atomic_store_n(&node->view.close_shown, 1, __ATOMIC_RELEASE);
}

/* A listener's drop rate falls to zero in an interval without a drain of its own: true
 * when that changed it. (A connection's row holds its health in the same memory.) */
static bool listen_rate_stops(struct flow_row *row)
{
	if (!row->listen_known || row->drop_rate == 0.0f)
		return false;
	row->drop_rate = 0.0f;
	return true;
}

static bool windows_moving(const struct flow_row *row)
{
	for (int r = 0; r < FLOW_WINDOWS; r++)
		if (row->tx_rate_win[r] != 0.0f || row->rx_rate_win[r] != 0.0f)
			return true;
	return false;
}

/* An unchanged flow's row as the last snapshot had it, idle since. */
static void idle_row(struct flow_row *row, const struct drain_stamp *now)
{
	bool changed = row->tx_rate != 0.0 || row->rx_rate != 0.0;

	changed |= listen_rate_stops(row);
	changed |= health_idle(row);
	if (changed)
		row->version = now->generation; /* its rates fall to zero */
	row->tx_rate = 0.0;
	row->rx_rate = 0.0;
	row->age_s = flow_age_s(now->mono_ns, row->first_seen_ns);
}

static void totals_add(struct snapshot_totals *t, const struct flow_row *row)
{
	if (row->id->proto == TCPTOP_PROTO_UDP)
		t->udp_flows++;
	else
		t->tcp_flows++;
	if (!row->id->tgid)
		t->unowned_flows++;
	t->tx_rate += row->tx_rate;
	t->rx_rate += row->rx_rate;
	t->tx_bytes += row->tx_bytes;
	t->rx_bytes += row->rx_bytes;
}

static void totals_remove(struct snapshot_totals *t, const struct flow_row *row)
{
	if (row->id->proto == TCPTOP_PROTO_UDP)
		t->udp_flows--;
	else
		t->tcp_flows--;
	if (!row->id->tgid)
		t->unowned_flows--;
	t->tx_rate -= row->tx_rate;
	t->rx_rate -= row->rx_rate;
	t->tx_bytes -= row->tx_bytes;
	t->rx_bytes -= row->rx_bytes;
}

/* s's row at place made a copy of src, the slot's reference moved to src's identity. */
static void copy_row(struct snapshot *s, size_t place, const struct flow_row *src)
{
	struct flow_row *row = &s->rows[place];
	const struct flow_identity *id;

	snapshot_hold_slots(s, place + 1);
	id = row->id;
	*row = *src;
	row->id = id;
	flow_identity_move(&row->id, src->id);
}

/* A row of its own for node at the end of s, recorded in sources. */
static void append_row(struct snapshot *s, struct row_source *sources, struct flow_node *node,
		       struct cgroup_ids *cgroups, const struct drain_stamp *now,
		       uint64_t elapsed_ns)
{
	struct flow_row *row = &s->rows[s->nrows];
	const struct flow_identity *id;

	snapshot_hold_slots(s, s->nrows + 1);
	id = row->id;
	memset(row, 0, sizeof(*row));
	row->id = id;
	fill_row(row, node, cgroups, now, elapsed_ns);
	sources[s->nrows] = (struct row_source){ node };
	node->view.row_index = (uint32_t)s->nrows++;
	totals_add(&s->totals, row);
}

/* A changed flow to show: not a hole (a flow swept since), nor a final row already shown. */
static bool shows(const struct flow_node *node)
{
	return node && !__atomic_load_n(&node->view.close_shown, __ATOMIC_RELAXED);
}

struct table_build {
	struct snapshot_builder *b;
	struct snapshot *s;
	size_t capacity;
	const struct drain_stamp *now;
	uint64_t elapsed_ns;
};

static bool add_table_row(struct flow_node *node, void *arg)
{
	struct table_build *t = arg;

	if (!shows(node))
		return true;
	if (!room_for_row(t->b, &t->s, &t->capacity))
		return false;
	append_row(t->s, t->b->sources, node, t->b->cgroups, t->now, t->elapsed_ns);
	return true;
}

/* Every flow of the table; a closed flow whose final row was shown is left out. */
static struct snapshot *build_from_table(struct snapshot_builder *b, struct flow_table *table,
					 const struct drain_stamp *now, uint64_t elapsed_ns)
{
	uint64_t rows_of;
	struct table_build t = { b, NULL, flow_table_count(table) + 64, now, elapsed_ns };

	t.s = start(b, t.capacity, &rows_of);
	if (!t.s)
		return NULL;
	if (!flow_table_each(table, add_table_row, &t)) {
		snapshot_release(t.s);
		return NULL;
	}
	return t.s;
}

/* s holds the rows of last: copied only where builds wrote since the snapshot whose rows
 * s's memory still holds (rows_of), else all of them. Ages are set later. */
static void bring_up_to_last(struct snapshot_builder *b, struct snapshot *s, uint64_t rows_of)
{
	const struct snapshot *last = b->last;
	const struct touched_build *t;
	uint32_t place;

	if (!touched_rows_since(&b->touched, rows_of, last->generation)) {
		for (size_t i = 0; i < last->nrows; i++)
			copy_row(s, i, &last->rows[i]);
	} else {
		for (uint64_t g = rows_of + 1; g <= last->generation; g++) {
			t = touched_rows_of(&b->touched, g);
			for (size_t k = 0; k < t->n; k++) {
				place = t->places[k];
				if (place < last->nrows)
					copy_row(s, place, &last->rows[place]);
			}
		}
	}
	s->nrows = last->nrows;
	s->totals = last->totals;
}

/* Rows that may hold a closed flow or a rate: those the last build wrote (a settled
 * record: ascending, each once), or all of them when it laid them out anew. */
struct suspects {
	const struct touched_build *written; /* NULL: every row */
	size_t count;
};

static struct suspects suspects_of_last(const struct snapshot_builder *b)
{
	struct suspects sus = { touched_rows_of(&b->touched, b->last->generation), 0 };

	sus.count = sus.written ? sus.written->n : b->last->nrows;
	return sus;
}

static size_t suspect(const struct suspects *sus, size_t k)
{
	return sus->written ? sus->written->places[k] : k;
}

/* The places this build wrote, for readers that keep what they learnt of the last one. */
static void publish_changed(struct snapshot_builder *b, struct snapshot *s)
{
	const struct touched_build *t = touched_rows_settle(&b->touched);

	if (!t)
		return; /* changed_since stays 0: any row may differ */
	for (size_t k = 0; k < t->n && t->places[k] < s->nrows; k++)
		s->changed[s->nchanged++] = t->places[k];
	s->changed_since = b->last->generation;
}

/* Closed rows (shown once) dropped, the last row moved into each one's place. The
 * suspects are ascending and each once, so going through them from the highest, the row
 * moved is never one still to drop. */
static void drop_closed(struct snapshot_builder *b, struct snapshot *s, const struct suspects *sus)
{
	size_t k = sus->count, place, end;

	while (k-- > 0) {
		place = suspect(sus, k);
		if (place >= s->nrows || !s->rows[place].closed)
			continue;
		end = --s->nrows;
		totals_remove(&s->totals, &s->rows[place]);
		if (place == end)
			continue;
		flow_identity_put(s->rows[place].id); /* the last row's reference moves */
		s->rows[place] = s->rows[end];
		s->rows[end].id = NULL;
		b->sources[place] = b->sources[end];
		b->sources[place].node->view.row_index = (uint32_t)place;
		touched_rows_add(&b->touched, place);
	}
}

/* Rows with a rate in last are idle unless changes say otherwise. */
static void stop_rates(struct snapshot_builder *b, struct snapshot *s, const struct suspects *sus,
		       uint64_t generation)
{
	size_t k, place;
	struct flow_row *row;
	bool changed;

	for (k = 0; k < sus->count; k++) {
		place = suspect(sus, k);
		if (place >= s->nrows)
			continue;
		row = &s->rows[place];
		changed = row->tx_rate != 0.0 || row->rx_rate != 0.0;
		changed |= listen_rate_stops(row);
		changed |= health_idle(row);
		if (!changed)
			continue;
		row->tx_rate = 0.0;
		row->rx_rate = 0.0;
		row->version = generation;
		touched_rows_add(&b->touched, place);
	}
}

/* A row whose windows are not all zero and that no change rewrote now: its averages
 * move down as time passes, so they are taken again from its flow's buckets. Only such
 * rows' flows are visited, each for at most 40 s after its last byte; closed rows keep
 * theirs. touched (update in place) records the row for the readers that keep text. */
static void decay_row(struct snapshot_builder *b, struct snapshot *s, size_t i,
		      const struct drain_stamp *now, bool touched)
{
	struct flow_row *row = &s->rows[i];
	struct flow_windows *w;

	if (row->closed || !windows_moving(row))
		return;
	/* Written now with a rate: fill_row() took its windows (the node is not touched
	 * again; a row written now without a rate is taken again, which changes nothing). */
	if (row->version == now->generation && (row->tx_rate != 0.0 || row->rx_rate != 0.0))
		return;
	w = b->sources[i].node->view.win;
	if (!w)
		return;
	rate_windows(row, w, now->mono_ns);
	row->version = now->generation;
	if (touched)
		touched_rows_add(&b->touched, i);
}

/* The windows of rows laid out anew (ages are set as they are copied). */
static void decay_windows(struct snapshot_builder *b, struct snapshot *s,
			  const struct drain_stamp *now)
{
	for (size_t i = 0; i < s->nrows; i++)
		decay_row(b, s, i, now, false);
}

/* Every row's age and windows at now, and the rate totals (only rows written now have
 * rates): one pass over the rows, inside the read-side section (decay_row reads nodes). */
static void age_rows(struct snapshot_builder *b, struct snapshot *s, const struct drain_stamp *now)
{
	double tx_rate = 0.0, rx_rate = 0.0;

	for (size_t i = 0; i < s->nrows; i++) {
		struct flow_row *row = &s->rows[i];

		row->age_s = flow_age_s(now->mono_ns, row->first_seen_ns);
		decay_row(b, s, i, now, true);
		tx_rate += row->tx_rate;
		rx_rate += row->rx_rate;
	}
	s->totals.tx_rate = tx_rate;
	s->totals.rx_rate = rx_rate;
}

/* The changed flows are scattered over memory and so are their rows: a flow's node is
 * asked for this many changes ahead, its identity and row half as many, so that the
 * misses overlap instead of following one another. */
#define CHANGE_PREFETCH 16

static void prefetch_change(const struct flow_changes *changes, size_t i, const struct snapshot *s)
{
	const struct flow_node *node;

	if (i + CHANGE_PREFETCH < changes->count && changes->nodes[i + CHANGE_PREFETCH]) {
		node = changes->nodes[i + CHANGE_PREFETCH];
		__builtin_prefetch(node);
		__builtin_prefetch((const char *)node + 64);
		__builtin_prefetch((const char *)node + 128);
	}
	if (i + CHANGE_PREFETCH / 2 >= changes->count)
		return;
	node = changes->nodes[i + CHANGE_PREFETCH / 2];
	if (!node)
		return;
	__builtin_prefetch(rcu_dereference(node->identity));
	if (node->view.win) {
		__builtin_prefetch(node->view.win);
		__builtin_prefetch((const char *)node->view.win + 64);
		__builtin_prefetch((const char *)node->view.win + 128);
	}
	if (node->view.row_index < s->nrows) {
		__builtin_prefetch(&s->rows[node->view.row_index]);
		__builtin_prefetch((const char *)&s->rows[node->view.row_index] + 128);
	}
}

/* Each changed flow's row rewritten where it is, or appended; false when out of memory. */
static bool apply_changes(struct snapshot_builder *b, struct snapshot **s, size_t *capacity,
			  const struct flow_changes *changes, const struct drain_stamp *now,
			  uint64_t elapsed_ns)
{
	struct flow_node *node;
	struct flow_row *row;

	for (size_t i = 0; i < changes->count; i++) {
		prefetch_change(changes, i, *s);
		node = changes->nodes[i];
		if (!shows(node))
			continue;
		if (node->view.row_index != FLOW_NO_ROW) {
			row = &(*s)->rows[node->view.row_index];
			totals_remove(&(*s)->totals, row);
			fill_row(row, node, b->cgroups, now, elapsed_ns);
			totals_add(&(*s)->totals, row);
			touched_rows_add(&b->touched, node->view.row_index);
		} else if (room_for_row(b, s, capacity)) {
			touched_rows_add(&b->touched, (*s)->nrows);
			append_row(*s, b->sources, node, b->cgroups, now, elapsed_ns);
		} else {
			return false;
		}
	}
	return true;
}

/* Few flows changed: the last rows, each changed one rewritten where it is. */
static struct snapshot *update_in_place(struct snapshot_builder *b,
					const struct flow_changes *changes,
					const struct drain_stamp *now, uint64_t elapsed_ns)
{
	size_t capacity = b->last->nrows + changes->inserted;
	struct suspects sus = suspects_of_last(b);
	uint64_t rows_of;
	struct snapshot *s = start(b, capacity, &rows_of);
	bool ok;

	if (!s)
		return NULL;
	bring_up_to_last(b, s, rows_of);
	urcu_memb_read_lock();
	drop_closed(b, s, &sus);
	stop_rates(b, s, &sus, now->generation);
	ok = apply_changes(b, &s, &capacity, changes, now, elapsed_ns);
	if (ok)
		age_rows(b, s, now);
	urcu_memb_read_unlock();
	if (!ok) {
		snapshot_release(s);
		return NULL;
	}
	publish_changed(b, s);
	return s;
}

/* The unchanged rows of the last snapshot after the changed ones, closed ones dropped.
 * Their flows are visited, to learn their new row: few when most flows changed. */
static bool append_unchanged(struct snapshot_builder *b, struct snapshot **s, size_t *capacity,
			     const struct drain_stamp *now)
{
	const struct snapshot *last = b->last;
	struct flow_row *row;
	size_t i;

	for (i = 0; i < last->nrows; i++) {
		if (b->taken[i] || last->rows[i].closed)
			continue;
		if (!room_for_row(b, s, capacity))
			return false;
		copy_row(*s, (*s)->nrows, &last->rows[i]);
		row = &(*s)->rows[(*s)->nrows];
		idle_row(row, now);
		totals_add(&(*s)->totals, row);
		b->spare[(*s)->nrows] = b->sources[i];
		b->sources[i].node->view.row_index = (uint32_t)(*s)->nrows++;
	}
	return true;
}

/* Most flows changed: rows in the order of the changes, then the unchanged ones. */
static struct snapshot *lay_out_anew(struct snapshot_builder *b,
				     const struct flow_changes *changes,
				     const struct drain_stamp *now, uint64_t elapsed_ns)
{
	size_t capacity = b->last->nrows + changes->inserted, i;
	uint64_t rows_of;
	struct snapshot *s = start(b, capacity, &rows_of);
	struct row_source *swap;
	struct flow_node *node;
	bool ok = s != NULL;

	if (!ok)
		return NULL;
	memset(b->taken, 0, b->last->nrows * sizeof(*b->taken));
	urcu_memb_read_lock();
	for (i = 0; ok && i < changes->count; i++) {
		prefetch_change(changes, i, b->last); /* its window buckets above all */
		node = changes->nodes[i];
		if (!shows(node))
			continue;
		if (node->view.row_index != FLOW_NO_ROW)
			b->taken[node->view.row_index] = true;
		ok = room_for_row(b, &s, &capacity);
		if (ok)
			append_row(s, b->spare, node, b->cgroups, now, elapsed_ns);
	}
	ok = ok && append_unchanged(b, &s, &capacity, now);
	if (ok) {
		swap = b->sources;
		b->sources = b->spare;
		b->spare = swap;
		decay_windows(b, s, now);
	}
	urcu_memb_read_unlock();
	if (!ok) {
		snapshot_release(s);
		return NULL;
	}
	return s;
}

static bool follows_last(const struct snapshot_builder *b, const struct flow_changes *changes,
			 const struct drain_stamp *now)
{
	return b->last && changes->complete && changes->generation == now->generation &&
	       changes->since_generation == b->last->generation;
}

struct snapshot *snapshot_builder_build(struct snapshot_builder *b, struct flow_table *table,
					const struct drain_stamp *now,
					const struct drain_stamp *prev)
{
	uint64_t elapsed_ns = now->mono_ns - prev->mono_ns;
	struct flow_changes changes;
	struct snapshot *s;

	flow_table_read_changes(table, &changes);
	touched_rows_begin(&b->touched, now->generation);
	if (!follows_last(b, &changes, now)) {
		touched_rows_all(&b->touched);
		s = build_from_table(b, table, now, elapsed_ns);
	} else if (changes.count >= b->last->nrows / 2) {
		touched_rows_all(&b->touched);
		s = lay_out_anew(b, &changes, now, elapsed_ns);
	} else {
		s = update_in_place(b, &changes, now, elapsed_ns);
	}
	snapshot_release(b->last);
	b->last = NULL;
	if (!s)
		return NULL;
	snapshot_trim_slots(s);
	s->generation = now->generation;
	s->time.tv_sec = (time_t)(now->real_ns / 1000000000ULL);
	s->time.tv_nsec = (long)(now->real_ns % 1000000000ULL);
	s->mono_ns = now->mono_ns;
	s->interval_s = (double)elapsed_ns / 1e9;
	s->flows_dropped = now->flows_dropped;
	s->close_records_lost = now->close_records_lost;
	s->events_missed = now->events_missed;
	s->nprogs = now->nprogs;
	memcpy(s->progs, now->progs, now->nprogs * sizeof(s->progs[0]));
	s->closed_trimmed = now->closed_trimmed;
	s->ended_unowned = now->ended_unowned;
	s->listen_drops_known = now->listen_drops_known && prev->listen_drops_known;
	s->listen_drops = s->listen_drops_known && now->listen_drops > prev->listen_drops
				  ? now->listen_drops - prev->listen_drops
				  : 0;
	b->last = snapshot_hold(s);
	return s;
}

double snapshot_rate(uint64_t now_count, uint64_t prev_count, uint64_t elapsed_ns)
{
	if (!elapsed_ns || now_count <= prev_count)
		return 0.0;
	return (double)(now_count - prev_count) * 1e9 / (double)elapsed_ns;
}

struct snapshot *snapshot_build_once(struct flow_table *table, const struct drain_stamp *now,
				     const struct drain_stamp *prev)
{
	struct snapshot_builder builder;
	struct snapshot *s;

	snapshot_builder_init(&builder, NULL);
	s = snapshot_builder_build(&builder, table, now, prev);
	snapshot_builder_free(&builder);
	return s;
}
