/* Snapshot publication under concurrent readers, and building snapshots from changes. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include "snapshot.h"
#include "snapshot_builder.h"
#include "time_limit.h"

static struct snapshot_feed feed;

static void setup(void)
{
	urcu_memb_register_thread();
	snapshot_feed_init(&feed);
}

static void teardown(void)
{
	urcu_memb_barrier();
	snapshot_feed_destroy(&feed);
	urcu_memb_unregister_thread();
}

TestSuite(snapshot, .init = setup, .fini = teardown, .timeout = UNIT_TIME_LIMIT_S);

static uint64_t rows_of; /* the generation whose rows recycled memory still holds */

/* In the feed's recycled memory, as the compute thread builds them. */
static struct snapshot *make(uint64_t generation, size_t nrows)
{
	struct snapshot *s = snapshot_alloc_raw(&feed, nrows, &rows_of);
	size_t i;

	cr_assert_not_null(s);
	s->generation = generation;
	s->nrows = nrows;
	for (i = 0; i < nrows; i++)
		s->rows[i].tx_bytes = generation; /* every row tells which snapshot it is in */
	return s;
}

Test(snapshot, acquire_before_first_publication_returns_null)
{
	cr_assert_null(snapshot_acquire(&feed));
}

Test(snapshot, acquire_returns_latest_publication)
{
	struct snapshot *s;

	snapshot_publish(&feed, make(1, 3));
	snapshot_publish(&feed, make(2, 3));
	s = snapshot_acquire(&feed);
	cr_assert_eq(s->generation, 2);
	snapshot_release(s);
}

Test(snapshot, reader_keeps_its_snapshot_after_a_newer_one_is_published)
{
	struct snapshot *held;

	snapshot_publish(&feed, make(1, 100));
	held = snapshot_acquire(&feed);
	snapshot_publish(&feed, make(2, 100));
	urcu_memb_barrier(); /* the feed's own reference on 1 is gone now */
	cr_assert_eq(held->rows[99].tx_bytes, 1, "still readable: the reader's reference");
	snapshot_release(held);
}

Test(snapshot, subscribers_are_notified_on_publication)
{
	int fd = snapshot_feed_subscribe(&feed);
	uint64_t count = 0;

	cr_assert_geq(fd, 0);
	snapshot_publish(&feed, make(1, 1));
	snapshot_publish(&feed, make(2, 1));
	cr_assert_eq(read(fd, &count, sizeof(count)), sizeof(count));
	cr_assert_eq(count, 2);
}

Test(snapshot, released_snapshot_memory_is_reused_for_the_next_one_of_its_feed)
{
	struct snapshot *first = snapshot_alloc_raw(&feed, 10, &rows_of), *next;

	cr_assert_eq(rows_of, 0, "fresh memory");
	first->nrows = 10;
	first->generation = 7;
	snapshot_release(first);
	next = snapshot_alloc_raw(&feed, 5, &rows_of);
	cr_assert_eq(next, first, "the spare is big enough");
	cr_assert_eq(rows_of, 7, "it still holds the rows of generation 7");
	cr_assert_eq(next->nrows, 0);
	cr_assert_eq(next->capacity, 10);
	snapshot_release(next);
	next = snapshot_alloc_raw(&feed, 20, &rows_of);
	cr_assert_geq(next->capacity, 20, "a spare too small is not used");
	cr_assert_eq(rows_of, 0);
	snapshot_release(next);
}

Test(snapshot, two_snapshots_released_together_are_both_reused_newest_first)
{
	struct snapshot *a = snapshot_alloc_raw(&feed, 10, &rows_of);
	struct snapshot *b = snapshot_alloc_raw(&feed, 10, &rows_of);
	struct snapshot *c = snapshot_alloc_raw(&feed, 10, &rows_of);
	struct snapshot *x, *y, *z;

	a->generation = 1;
	b->generation = 2;
	c->generation = 3;
	/* A slow writer lets go of its snapshot just after the feed let go of the one
	 * before: both come back; a third one pushes the oldest out, to malloc. */
	snapshot_release(a);
	snapshot_release(b);
	snapshot_release(c);
	x = snapshot_alloc_raw(&feed, 10, &rows_of);
	cr_assert_eq(x, c, "the newest spare first");
	cr_assert_eq(rows_of, 3);
	y = snapshot_alloc_raw(&feed, 10, &rows_of);
	cr_assert_eq(y, b);
	cr_assert_eq(rows_of, 2);
	z = snapshot_alloc_raw(&feed, 10, &rows_of);
	cr_assert_eq(rows_of, 0, "no spare left: fresh memory");
	snapshot_release(x);
	snapshot_release(y);
	snapshot_release(z);
}

#define READERS 3
#define PUBLICATIONS 3000

static int publishing_done;

static void *reader(void *arg)
{
	uint64_t *seen = arg, last = 0;
	struct snapshot *s;
	size_t i;

	urcu_memb_register_thread();
	while (!__atomic_load_n(&publishing_done, __ATOMIC_ACQUIRE)) {
		s = snapshot_acquire(&feed);
		if (!s)
			continue;
		for (i = 0; i < s->nrows; i++)
			if (s->rows[i].tx_bytes != s->generation)
				*seen = UINT64_MAX; /* a torn or recycled snapshot */
		if (*seen != UINT64_MAX && s->generation < last)
			*seen = UINT64_MAX;     /* went back in time */
		last = s->generation;
		if (*seen != UINT64_MAX)
			(*seen)++;
		snapshot_release(s);
	}
	urcu_memb_unregister_thread();
	return NULL;
}

Test(snapshot, concurrent_readers_see_whole_snapshots_in_order)
{
	pthread_t threads[READERS];
	uint64_t seen[READERS] = { 0 };
	int i;

	for (i = 0; i < READERS; i++)
		pthread_create(&threads[i], NULL, reader, &seen[i]);
	for (i = 1; i <= PUBLICATIONS; i++)
		snapshot_publish(&feed, make((uint64_t)i, 64));
	__atomic_store_n(&publishing_done, 1, __ATOMIC_RELEASE);
	for (i = 0; i < READERS; i++) {
		pthread_join(threads[i], NULL);
		cr_assert_neq(seen[i], UINT64_MAX, "reader %d saw a torn or stale snapshot", i);
	}
}

/* --- The builder: snapshots from the last one and a drain's changes. --- */

static struct flow_table *table;
static struct snapshot_builder builder;
static uint64_t drains;

static void builder_setup(void)
{
	urcu_memb_register_thread();
	table = flow_table_new();
	cr_assert_not_null(table);
	snapshot_builder_init(&builder, NULL);
	drains = 0;
}

static void builder_teardown(void)
{
	snapshot_builder_free(&builder);
	urcu_memb_barrier();
	flow_table_destroy(table);
	urcu_memb_unregister_thread();
}

TestSuite(snapshot_builder, .init = builder_setup, .fini = builder_teardown,
	  .timeout = UNIT_TIME_LIMIT_S);

static void merge(uint64_t cookie, uint64_t tx)
{
	struct flow_key key = { .cookie = cookie };
	struct flow_value v;

	memset(&v, 0, sizeof(v));
	v.id.proto = cookie & 1 ? TCPTOP_PROTO_UDP : TCPTOP_PROTO_TCP;
	v.id.family = TCPTOP_AF_INET;
	v.id.tgid = 1;
	v.counters.tx_bytes = tx;
	flow_table_merge(table, &key, &v, drains);
}

static void close_flow(uint64_t cookie)
{
	struct flow_key key = { .cookie = cookie };

	flow_table_mark_closed(table, &key);
}

/* Seconds between drains: 1, or longer than the 40 s window for the model's rounds, so
 * that a flow's window averages are its last interval's rate when it moved in it, else
 * zero (flows idle since stay unlisted rows). */
static uint64_t drain_s = 1;

/* The end of a drain drain_s seconds after the last, as the collector ends it, and the
 * build the compute thread makes of it; then the sweep that starts the next drain. The
 * caller releases the snapshot. */
static struct snapshot *drain_and_build(void)
{
	struct drain_stamp prev = { .generation = drains,
				    .mono_ns = drains * drain_s * 1000000000ULL };
	struct drain_stamp now = { .generation = drains + 1,
				   .mono_ns = (drains + 1) * drain_s * 1000000000ULL };
	struct snapshot *s;

	flow_table_publish_stamp(table, &now);
	drains++;
	s = snapshot_builder_build(&builder, table, &now, &prev);
	cr_assert_not_null(s);
	flow_table_sweep_closed(table, false, NULL, NULL);
	return s;
}

static const struct flow_row *row_of(const struct snapshot *s, uint64_t cookie)
{
	size_t i;

	for (i = 0; i < s->nrows; i++)
		if (s->rows[i].key.cookie == cookie)
			return &s->rows[i];
	return NULL;
}

Test(snapshot_builder, unchanged_flow_keeps_its_row_with_zero_rate_and_a_later_age)
{
	struct snapshot *s;
	double age;

	merge(2, 1000);
	merge(4, 1000);
	s = drain_and_build();
	age = row_of(s, 4)->age_s;
	snapshot_release(s);
	merge(2, 3000);
	s = drain_and_build();
	cr_assert_eq(s->nrows, 2);
	cr_assert_float_eq(row_of(s, 2)->tx_rate, 2000.0, 1e-9);
	cr_assert_float_eq(row_of(s, 4)->tx_rate, 0.0, 1e-12, "idle since the last snapshot");
	cr_assert_eq(row_of(s, 4)->tx_bytes, 1000);
	cr_assert_float_eq(row_of(s, 4)->age_s, age + 1.0, 1e-9);
	cr_assert_eq(s->totals.tx_bytes, 4000);
	cr_assert_float_eq(s->totals.tx_rate, 2000.0, 1e-9);
	cr_assert_eq(s->totals.tcp_flows, 2);
	snapshot_release(s);
}

/* An idle flow's row is rewritten while its windows fall, and listed as changed. */
Test(snapshot_builder, idle_flow_windows_decay_in_its_row)
{
	struct snapshot *s;
	const struct flow_row *row;

	for (size_t i = 2; i < 10; i++)
		merge(i, 1000);
	snapshot_release(drain_and_build()); /* 1000 B in [0 s, 1 s) each */
	merge(3, 2000);
	s = drain_and_build(); /* at 2 s: flow 2's 1000 B over the 2 s window */
	row = row_of(s, 2);
	cr_assert_float_eq(row->tx_rate, 0.0, 1e-12);
	cr_assert_float_eq(row->tx_rate_win[0], 500.0, 1e-3);
	cr_assert_float_eq(row->tx_rate_win[1], 500.0, 1e-3, "younger than 10 s: over its age");
	cr_assert_eq(row->version, s->generation, "rewritten");
	cr_assert_eq(s->changed_since, s->generation - 1, "rows updated in place");
	snapshot_release(s);
	merge(3, 3000);
	s = drain_and_build(); /* at 3 s: out of the 2 s window */
	row = row_of(s, 2);
	cr_assert_float_eq(row->tx_rate_win[0], 0.0, 1e-3);
	cr_assert_float_eq(row->tx_rate_win[1], 1000.0 / 3, 1e-2);
	snapshot_release(s);
}

Test(snapshot_builder, closed_flow_is_shown_once_then_dropped)
{
	struct snapshot *s;

	merge(2, 1000);
	merge(3, 1000);
	snapshot_release(drain_and_build());
	close_flow(2);
	s = drain_and_build();
	cr_assert(row_of(s, 2)->closed, "the final row");
	snapshot_release(s);
	s = drain_and_build();
	cr_assert_eq(s->nrows, 1);
	cr_assert_null(row_of(s, 2));
	cr_assert_eq(s->totals.tcp_flows, 0);
	cr_assert_eq(s->totals.udp_flows, 1);
	cr_assert_eq(flow_table_count(table), 1, "swept once shown");
	snapshot_release(s);
}

Test(snapshot_builder, new_flow_joins_the_rows_with_its_first_bytes_as_rate)
{
	struct snapshot *s;

	merge(2, 1000);
	snapshot_release(drain_and_build());
	merge(6, 500);
	s = drain_and_build();
	cr_assert_eq(s->nrows, 2);
	cr_assert_float_eq(row_of(s, 6)->tx_rate, 500.0, 1e-9);
	snapshot_release(s);
}

Test(snapshot_builder, last_snapshot_stays_readable_until_the_next_build)
{
	struct snapshot *s;

	merge(2, 1000);
	s = drain_and_build();
	snapshot_release(s); /* the builder still holds it */
	cr_assert_eq(builder.last, s);
	cr_assert_eq(s->rows[0].tx_bytes, 1000);
}

/* What a flow should show, kept by the test alongside the table. */
struct model_flow {
	uint64_t tx, shown_tx; /* bytes now, and in the last snapshot that showed it */
	bool present, closed, close_shown, seen;
};

static uint64_t next_random(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static void check_against_model(const struct snapshot *s, struct model_flow *model, size_t n)
{
	uint64_t tx_total = 0;
	double tx_rate_total = 0.0;
	size_t i, expected = 0;
	const struct flow_row *row;

	for (i = 1; i < n; i++) {
		if (!model[i].present || model[i].close_shown)
			continue;
		expected++;
		row = row_of(s, i);
		cr_assert_not_null(row, "flow %zu missing after drain %llu", i,
				   (unsigned long long)drains);
		cr_assert_eq(row->tx_bytes, model[i].tx, "flow %zu", i);
		cr_assert_eq(row->closed, model[i].closed, "flow %zu", i);
		cr_assert_float_eq(row->tx_rate,
				   (double)(model[i].tx - (model[i].seen ? model[i].shown_tx : 0)) /
					   (double)drain_s,
				   1e-6, "flow %zu after drain %llu", i,
				   (unsigned long long)drains);
		for (int w = 0; w < FLOW_WINDOWS; w++)
			cr_assert_float_eq(row->tx_rate_win[w], row->tx_rate,
					   1e-3 + row->tx_rate * 1e-5,
					   "flow %zu window %d after drain %llu", i, w,
					   (unsigned long long)drains);
		cr_assert_eq(row->age_s, flow_age_s(s->mono_ns, row->first_seen_ns), "flow %zu", i);
		cr_assert(row->tx_rate == 0.0 || row->version == s->generation,
			  "flow %zu: a rate, but version %llu", i, (unsigned long long)row->version);
		tx_total += model[i].tx;
		tx_rate_total += row->tx_rate;
		model[i].shown_tx = model[i].tx;
		model[i].seen = true;
		model[i].close_shown = model[i].closed;
	}
	cr_assert_eq(s->nrows, expected, "after drain %llu", (unsigned long long)drains);
	cr_assert_eq(s->totals.tx_bytes, tx_total);
	cr_assert_float_eq(s->totals.tx_rate, tx_rate_total, 1e-6);
	cr_assert_eq(s->totals.tcp_flows + s->totals.udp_flows, expected);
}

/* A snapshot's list of changed rows against the one before it: every row not listed is
 * the same row, but for its age. */
static size_t checked_unlisted;

static void check_changed_list(const struct snapshot *s, const struct snapshot *prev)
{
	size_t k = 0, unlisted = 0;

	if (!prev || s->changed_since != prev->generation)
		return;
	for (size_t i = 0; i < s->nrows; i++) {
		struct flow_row a, b;

		if (k < s->nchanged && s->changed[k] == i) {
			cr_assert(k == 0 || s->changed[k - 1] < s->changed[k], "ascending, once");
			k++;
			continue;
		}
		cr_assert_lt(i, prev->nrows, "row %zu is new but not listed", i);
		a = s->rows[i];
		b = prev->rows[i];
		a.age_s = b.age_s = 0;
		cr_assert(memcmp(&a, &b, sizeof(a)) == 0, "row %zu changed but is not listed", i);
		unlisted++;
	}
	cr_assert_eq(k, s->nchanged, "every place listed is a row");
	checked_unlisted += unlisted;
}

/* Rounds where most flows move (rows laid out anew) and rounds where few do (rows updated
 * in place), with flows arriving and closing: every snapshot shows exactly the model.
 * Each snapshot is held for lag(round) rounds: with a feed, the memory that comes back
 * holds an older snapshot's rows, sometimes too old to bring up to date row by row. */
static void build_rounds_against_model(unsigned (*lag)(size_t round))
{
	enum { FLOWS = 400, ROUNDS = 80, HELD = 8 };
	static struct model_flow model[FLOWS];
	struct snapshot *held[HELD] = { NULL }, *prev = NULL;
	size_t release_at[HELD] = { 0 };
	uint64_t seed = 88172645463325252ULL, r;
	struct snapshot *s;
	size_t i, round;

	memset(model, 0, sizeof(model));
	drain_s = 64;
	for (round = 0; round < ROUNDS; round++) {
		unsigned busy = round % 3 == 0 && round % 2 == 0 ? 90 : 5; /* % of flows moving */

		for (i = 1; i < FLOWS; i++) {
			r = next_random(&seed) % 100;
			if (model[i].closed)
				continue;
			if (!model[i].present && r < 10) {
				model[i].present = true;
				model[i].tx = 1 + r;
				merge(i, model[i].tx);
			} else if (model[i].present && r < busy) {
				model[i].tx += 1 + r;
				merge(i, model[i].tx);
			} else if (model[i].present && r == 99) {
				model[i].closed = true;
				close_flow(i);
			}
		}
		s = drain_and_build();
		check_against_model(s, model, FLOWS);
		check_changed_list(s, prev);
		snapshot_release(prev);
		prev = snapshot_hold(s);
		for (i = 0; i < HELD; i++) {
			if (held[i] && release_at[i] <= round) {
				snapshot_release(held[i]);
				held[i] = NULL;
			}
		}
		for (i = 0; i < HELD && held[i]; i++)
			;
		cr_assert_lt(i, HELD);
		held[i] = s;
		release_at[i] = round + lag(round);
	}
	for (i = 0; i < HELD; i++)
		snapshot_release(held[i]);
	snapshot_release(prev);
	cr_assert_gt(checked_unlisted, 0, "the lists were checked");
}

static unsigned no_lag(size_t round)
{
	(void)round;
	return 0;
}

static unsigned varied_lag(size_t round)
{
	static const unsigned lags[] = { 0, 0, 1, 0, 2, 0, 3, 1, 0, 5, 0, 0, 4, 2 };

	return lags[round % (sizeof(lags) / sizeof(lags[0]))];
}

Test(snapshot_builder, snapshots_built_from_changes_show_every_flow_right)
{
	build_rounds_against_model(no_lag);
}

static void build_in_recycled_memory(unsigned (*lag)(size_t round))
{
	static struct snapshot_feed home;

	snapshot_feed_init(&home);
	snapshot_builder_free(&builder);
	snapshot_builder_init(&builder, &home);
	build_rounds_against_model(lag);
	snapshot_builder_free(&builder);
	snapshot_feed_destroy(&home);
}

Test(snapshot_builder, snapshots_in_recycled_memory_show_every_flow_right)
{
	build_in_recycled_memory(no_lag);
}

Test(snapshot_builder, snapshots_in_memory_recycled_late_show_every_flow_right)
{
	build_in_recycled_memory(varied_lag);
}
