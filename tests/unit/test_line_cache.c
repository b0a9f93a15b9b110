/* The batch writer's line cache against the plain way (plain_view + format_line): over a
 * run of snapshots that change as the snapshot builder changes them (changed rows get the
 * new generation, idle ones keep their place and version, closed rows go, new rows come),
 * every snapshot's lines must be byte for byte the same. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "view/columns.h"
#include "view/filter.h"
#include "output/format.h"
#include "output/line_cache.h"
#include "output/output.h"
#include "plain_view.h"
#include "time_limit.h"
#include "identities.h"

TestSuite(line_cache, .timeout = UNIT_TIME_LIMIT_S);

#define ROOM 400
#define SECOND 1000000000ULL

struct world {
	struct flow_row rows[ROOM];
	size_t n;
	bool touched[ROOM]; /* rows written by the last advance */
	uint64_t generation, mono_ns, next_cookie;
	unsigned seed;
};

static unsigned next_random(struct world *w, unsigned below)
{
	w->seed = w->seed * 1103515245u + 12345u;
	return (w->seed >> 8) % below;
}

static void new_row(struct world *w, struct flow_row *row)
{
	const char *comm;

	memset(row, 0, sizeof(*row));
	row->key.cookie = ++w->next_cookie;
	test_id(row)->family = TCPTOP_AF_INET;
	test_id(row)->proto = next_random(w, 3) ? TCPTOP_PROTO_TCP : TCPTOP_PROTO_UDP;
	test_id(row)->laddr[0] = 127;
	test_id(row)->laddr[3] = 1;
	test_id(row)->raddr[0] = 10;
	test_id(row)->raddr[3] = (uint8_t)next_random(w, 250);
	test_id(row)->lport = (uint16_t)(1000 + next_random(w, 50));
	test_id(row)->rport = (uint16_t)(2000 + next_random(w, 50));
	test_id(row)->tgid = 100 + next_random(w, 4);
	comm = next_random(w, 2) ? "nginx" : "curl, \"x\""; /* one needs CSV quotes */
	memcpy(test_id(row)->comm, comm, strlen(comm));
	row->state = 1;
	/* Some flows seen at the same instant: equal ages, ties for the age sort. */
	row->first_seen_ns = w->mono_ns -
			     (next_random(w, 4) ? next_random(w, 5000) * 1000000ULL : 0);
	test_id(row)->first_seen_ns = row->first_seen_ns;
	row->version = w->generation;
}

static void change_row(struct world *w, struct flow_row *row)
{
	uint64_t sent = next_random(w, 4) ? next_random(w, 100000) : 0;

	row->tx_bytes += sent;
	row->rx_bytes += next_random(w, 3000);
	row->tx_packets++;
	row->tx_rate = (double)sent * 4;
	row->rx_rate = next_random(w, 2) ? 0.0 : 1234.5;
	row->srtt_us = next_random(w, 1000);
	if (!next_random(w, 10))
		row->closed = true;
	row->version = w->generation;
}

/* The next generation, as the snapshot builder makes it from the last. */
static void advance(struct world *w, unsigned changes, unsigned arrivals)
{
	size_t i = w->n;

	memset(w->touched, 0, sizeof(w->touched));
	w->generation++;
	w->mono_ns += SECOND / 4 + next_random(w, 1000) * 1000ULL;
	while (i-- > 0) {
		struct flow_row *row = &w->rows[i];

		if (row->closed) {
			*row = w->rows[--w->n];
			w->touched[i] = true;
			continue;
		}
		if (row->tx_rate != 0.0 || row->rx_rate != 0.0) {
			row->version = w->generation;
			w->touched[i] = true;
		}
		row->tx_rate = row->rx_rate = 0.0;
	}
	for (unsigned c = 0; c < changes && w->n; c++) {
		i = next_random(w, (unsigned)w->n);
		change_row(w, &w->rows[i]);
		w->touched[i] = true;
	}
	for (unsigned a = 0; a < arrivals && w->n < ROOM; a++) {
		w->touched[w->n] = true;
		new_row(w, &w->rows[w->n++]);
	}
	for (i = 0; i < w->n; i++)
		w->rows[i].age_s = flow_age_s(w->mono_ns, w->rows[i].first_seen_ns);
}

static struct snapshot *take_snapshot(const struct world *w)
{
	struct snapshot *s = snapshot_alloc(w->n);

	memcpy(s->rows, w->rows, w->n * sizeof(*s->rows));
	s->nrows = w->n;
	/* As the builder lists them, but now and then not (rows laid out anew). */
	if (w->generation % 5) {
		for (size_t i = 0; i < w->n; i++)
			if (w->touched[i])
				s->changed[s->nchanged++] = (uint32_t)i;
		s->changed_since = w->generation - 1;
	}
	s->generation = w->generation;
	s->mono_ns = w->mono_ns;
	s->time.tv_sec = 1700000000 + (time_t)w->generation;
	return s;
}

static char *plain_text(const struct snapshot *s, const struct format_snapshot *fs,
			const struct filter *f, int sort_id, size_t *len)
{
	size_t n, i;
	const struct flow_row **view = plain_view(s, f, sort_id, &n);
	char *text = malloc((n + 1) * FORMAT_LINE_MAX);

	*len = 0;
	for (i = 0; i < n; i++)
		*len += format_line(fs, view[i], text + *len);
	free(view);
	return text;
}

static char *cached_text(struct line_cache *c, const struct snapshot *s,
			 const struct format_snapshot *fs, size_t *len)
{
	size_t n, i;
	char *text;

	cr_assert_eq(line_cache_update(c, s), 0);
	n = line_cache_count(c);
	text = malloc((n + 1) * FORMAT_LINE_MAX);
	*len = 0;
	for (i = 0; i < n; i++)
		*len += line_cache_line(c, fs, s, i, text + *len);
	return text;
}

/* Some snapshots are skipped (a slow writer), and how much changes varies. */
static void run_columns(enum output_format format, const struct filter *f, int sort_id,
			const struct column_list *columns, unsigned seed)
{
	struct world w = { .generation = 1, .mono_ns = 100 * SECOND, .seed = seed };
	struct line_cache *c = line_cache_new(format, f, sort_id);
	size_t plain_len, cached_len, compared = 0;

	cr_assert_not_null(c);
	advance(&w, 0, 300);
	for (int round = 0; round < 120; round++) {
		unsigned changes = round % 17 == 5 ? 300 : next_random(&w, 30);
		struct snapshot *s;
		struct format_snapshot fs;
		char time_text[32], *plain, *cached;

		advance(&w, changes, next_random(&w, 6));
		if (round % 11 == 3)
			continue; /* the writer did not see this one */
		s = take_snapshot(&w);
		format_time_iso8601(&s->time, time_text, sizeof(time_text));
		cr_assert_eq(format_snapshot_init(&fs, format, columns, time_text), 0);
		plain = plain_text(s, &fs, f, sort_id, &plain_len);
		cached = cached_text(c, s, &fs, &cached_len);
		cr_assert_eq(cached_len, plain_len, "round %d: %zu bytes, not %zu", round,
			     cached_len, plain_len);
		cr_assert(memcmp(cached, plain, plain_len) == 0, "round %d: the lines differ",
			  round);
		compared += plain_len;
		free(plain);
		free(cached);
		snapshot_release(s);
	}
	cr_assert_gt(compared, 0);
	line_cache_free(c);
}

static void run(enum output_format format, const struct filter *f, int sort_id, unsigned seed)
{
	run_columns(format, f, sort_id, NULL, seed);
}

Test(line_cache, csv_by_rate_matches_formatting_every_row)
{
	struct filter f;

	filter_init(&f);
	run(FORMAT_CSV, &f, COL_RATE, 1);
}

Test(line_cache, jsonl_by_rate_matches_formatting_every_row)
{
	struct filter f;

	filter_init(&f);
	run(FORMAT_JSONL, &f, COL_RATE, 2);
}

Test(line_cache, sorted_by_age_matches_formatting_every_row)
{
	struct filter f;

	filter_init(&f);
	run(FORMAT_CSV, &f, COL_AGE_S, 3);
	run(FORMAT_JSONL, &f, COL_AGE_S, 4);
}

Test(line_cache, sorted_by_text_and_bytes_matches_formatting_every_row)
{
	struct filter f;

	filter_init(&f);
	run(FORMAT_CSV, &f, COL_COMM, 5);
	run(FORMAT_CSV, &f, COL_TX_BYTES, 6);
	run(FORMAT_JSONL, &f, COL_RADDR, 7);
}

Test(line_cache, filtered_rows_match_formatting_every_row)
{
	struct filter f;

	filter_init(&f);
	f.port = 1003;
	f.udp = true;
	run(FORMAT_CSV, &f, COL_RATE, 8);
	filter_init(&f);
	f.comm_substring = "curl";
	run(FORMAT_JSONL, &f, COL_AGE_S, 9);
}

/* -o: kept texts hold the chosen cells, with or without the age between them. */
Test(line_cache, chosen_columns_match_formatting_every_row)
{
	struct column_list no_age = { 4, { COL_TIME, COL_TX_BYTES, COL_COMM, COL_RPORT } };
	struct column_list age_first = { 3, { COL_TIME, COL_AGE_S, COL_PID } };
	struct column_list age_last = { 3, { COL_TIME, COL_LADDR, COL_AGE_S } };
	struct filter f;

	filter_init(&f);
	run_columns(FORMAT_CSV, &f, COL_RATE, &no_age, 11);
	run_columns(FORMAT_JSONL, &f, COL_AGE_S, &no_age, 12);
	run_columns(FORMAT_CSV, &f, COL_RATE, &age_first, 13);
	run_columns(FORMAT_JSONL, &f, COL_RATE, &age_last, 14);
}

/* One idle row learnt and written; then its bytes change in a snapshot that lists no
 * changed row, against the snapshot learnt (against_learnt) or another one. The line
 * written for it then, in line. */
static void line_after_an_unlisted_change(bool against_learnt, char line[FORMAT_LINE_MAX])
{
	struct world w = { .generation = 1, .mono_ns = 100 * SECOND, .seed = 10 };
	struct filter f;
	struct line_cache *c;
	struct format_snapshot fs;
	struct snapshot *s, *next;
	size_t len;

	filter_init(&f);
	c = line_cache_new(FORMAT_CSV, &f, COL_RATE);
	advance(&w, 0, 1);
	w.generation++;
	s = take_snapshot(&w); /* an idle row: its version is older than the snapshot */
	cr_assert_eq(format_snapshot_init(&fs, FORMAT_CSV, NULL, "t"), 0);
	cr_assert_eq(line_cache_update(c, s), 0);
	line_cache_line(c, &fs, s, 0, line);
	w.generation += 2;
	w.rows[0].tx_bytes = 987654321;
	next = take_snapshot(&w);
	next->nchanged = 0;
	next->changed_since = against_learnt ? s->generation : s->generation + 1;
	cr_assert_eq(line_cache_update(c, next), 0);
	len = line_cache_line(c, &fs, next, 0, line);
	line[len] = '\0';
	snapshot_release(s);
	snapshot_release(next);
	line_cache_free(c);
}

/* Formatting work is what the cache saves: an idle row's kept text must be what is
 * written, not a new formatting of the row (here a row that lies about being unchanged). */
Test(line_cache, an_idle_row_is_written_from_its_kept_text)
{
	char line[FORMAT_LINE_MAX];

	line_after_an_unlisted_change(true, line);
	cr_assert_null(strstr(line, "987654321"), "%s", line);
}

/* A snapshot that does not list its changes against the one learnt (rows laid out anew,
 * or one the writer did not see) is learnt whole. */
Test(line_cache, a_snapshot_without_a_list_against_the_last_is_learnt_whole)
{
	char line[FORMAT_LINE_MAX];

	line_after_an_unlisted_change(false, line);
	cr_assert_not_null(strstr(line, "987654321"), "%s", line);
}
