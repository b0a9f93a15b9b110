/* The live view's way around a recording (record_index.h): any snapshot, reached in any
 * order (forward, a step back, a jump), reads exactly as reading the file from the start
 * gives it; --begin/--end and damaged records leave out what the reader leaves out; a
 * jump finds the first snapshot at or after a time. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "output/format.h"
#include "record/record_index.h"
#include "time_limit.h"
#include "identities.h"

TestSuite(record_index, .timeout = UNIT_TIME_LIMIT_S);

#define SECOND 1000000000ULL
#define SNAPSHOTS 150 /* key records at 0, 60 and 120 */
#define ROWS 40

/* Snapshot k: every row moves in some snapshots, so deltas hold COPY and UPDATE. */
static struct snapshot *make(unsigned k)
{
	struct snapshot *s = snapshot_alloc(ROWS);

	cr_assert_not_null(s);
	s->nrows = ROWS;
	s->mono_ns = (k + 1) * SECOND;
	s->time.tv_sec = 1796000000 + (time_t)k;
	s->time.tv_nsec = 250000000;
	s->interval_s = 1.0;
	s->totals.tcp_flows = ROWS;
	for (unsigned i = 0; i < ROWS; i++) {
		struct flow_row *r = &s->rows[i];

		r->key.cookie = 1000 + i;
		test_id(r)->proto = TCPTOP_PROTO_TCP;
		test_id(r)->family = TCPTOP_AF_INET;
		test_id(r)->lport = (uint16_t)(2000 + i);
		snprintf(test_id(r)->comm, sizeof(test_id(r)->comm), "p%u", i);
		r->tx_bytes = (uint64_t)(k / (1 + i % 5)) * 1000 + i;
		r->rx_bytes = r->tx_bytes / 3;
		r->first_seen_ns = test_id(r)->first_seen_ns = SECOND / 2;
		r->age_s = flow_age_s(s->mono_ns, r->first_seen_ns);
	}
	return s;
}

/* A recording of SNAPSHOTS snapshots in a temporary file; its path in path. */
static void write_recording(char *path, size_t len)
{
	struct record_encoder e;
	uint8_t header[RECORD_FILE_HEADER_LEN];
	FILE *f;
	int fd;

	snprintf(path, len, "/tmp/tcptop-index-XXXXXX");
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	f = fdopen(fd, "wb");
	record_file_header(header);
	fwrite(header, 1, sizeof(header), f);
	record_encoder_init(&e);
	for (unsigned k = 0; k < SNAPSHOTS; k++) {
		struct snapshot *s = make(k);

		cr_assert_eq(record_encode(&e, s, false), 0);
		fwrite(e.record.data, 1, e.record.len, f);
		snapshot_release(s);
	}
	record_encoder_free(&e);
	fclose(f);
}

/* Every snapshot the reader gives from the start (a reference each), and their count. */
static size_t read_all(const char *path, struct snapshot **out)
{
	struct record_reader *r = record_reader_open(path);
	size_t n = 0;

	cr_assert_not_null(r);
	while (n < SNAPSHOTS && (out[n] = record_reader_next(r)))
		n++;
	record_reader_close(r);
	return n;
}

static void assert_same(const struct snapshot *a, const struct snapshot *b)
{
	cr_assert_eq(a->time.tv_sec, b->time.tv_sec);
	cr_assert_eq(a->time.tv_nsec, b->time.tv_nsec);
	cr_assert_eq(a->mono_ns, b->mono_ns);
	cr_assert_eq(a->nrows, b->nrows);
	for (size_t i = 0; i < a->nrows; i++) {
		const struct flow_row *x = &a->rows[i], *y = &b->rows[i];

		cr_assert_eq(x->key.cookie, y->key.cookie);
		cr_assert_eq(x->tx_bytes, y->tx_bytes, "row %zu at %ld", i, (long)a->time.tv_sec);
		cr_assert_eq(x->rx_bytes, y->rx_bytes);
		cr_assert(x->tx_rate == y->tx_rate && x->rx_rate == y->rx_rate);
		cr_assert(x->age_s == y->age_s);
		cr_assert_str_eq(x->id->comm, y->id->comm);
	}
}

static void release_all(struct snapshot **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		snapshot_release(s[i]);
}

/* Entry i of x through fetch equals want[first + i], for each i in order. */
static void check_order(struct record_index *x, struct record_reader *r, struct snapshot **want,
			size_t first, const size_t *order, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		struct snapshot *s = record_index_fetch(x, r, order[k]);

		cr_assert_not_null(s, "entry %zu", order[k]);
		assert_same(s, want[first + order[k]]);
		snapshot_release(s);
	}
}

Test(record_index, any_order_reads_as_from_the_start)
{
	struct snapshot *want[SNAPSHOTS];
	struct record_times all = { 0 };
	struct record_index x;
	struct record_reader *r;
	size_t order[3 * SNAPSHOTS], n = 0;
	char path[64];

	write_recording(path, sizeof(path));
	cr_assert_eq(read_all(path, want), SNAPSHOTS);
	r = record_reader_open(path);
	cr_assert_eq(record_index_build(&x, r, &all), 0);
	cr_assert_eq(x.n, SNAPSHOTS);
	/* Forward, then back one by one across two key records, then jumps. */
	for (size_t i = 0; i < SNAPSHOTS; i++)
		order[n++] = i;
	for (size_t i = SNAPSHOTS; i-- > 0;)
		order[n++] = i;
	for (size_t i = 0; i < SNAPSHOTS; i++)
		order[n++] = (i * 37) % SNAPSHOTS;
	check_order(&x, r, want, 0, order, n);
	record_index_free(&x);
	record_reader_close(r);
	release_all(want, SNAPSHOTS);
	unlink(path);
}

Test(record_index, begin_and_end_bound_the_entries)
{
	struct snapshot *want[SNAPSHOTS];
	struct record_range given = { "2026-12-12T", "2026-12-12T" };
	struct record_times range;
	struct record_index x;
	struct record_reader *r;
	char path[64], begin[40], end[40];
	size_t order[] = { 0, 1, 2, 50, 49, 3, 1, 0 };

	write_recording(path, sizeof(path));
	read_all(path, want);
	/* Snapshots 70 to 130, their times cut to the second. */
	format_time_iso8601(&want[70]->time, begin, sizeof(begin));
	format_time_iso8601(&want[130]->time, end, sizeof(end));
	begin[19] = end[19] = '\0';
	given = (struct record_range){ begin, end };
	record_range_resolve(&range, &given, 0);
	r = record_reader_open(path);
	cr_assert_eq(record_index_build(&x, r, &range), 0);
	cr_assert_eq(x.n, 61);
	check_order(&x, r, want, 70, order, sizeof(order) / sizeof(order[0]));
	record_index_free(&x);
	record_reader_close(r);
	release_all(want, SNAPSHOTS);
	unlink(path);
}

/* A damaged delta: the reader skips it and the deltas after it up to the next key; the
 * index leaves out the same, so entry i is still the reader's i-th snapshot. */
Test(record_index, a_damaged_record_is_left_out_as_the_reader_leaves_it)
{
	struct snapshot *want[SNAPSHOTS];
	struct record_times all = { 0 };
	struct record_index x;
	struct record_reader *r;
	struct record_header h;
	size_t order[] = { 29, 30, 31, 29, 119, 0, 30 }, pos = RECORD_FILE_HEADER_LEN, got;
	char path[64];
	FILE *f;
	uint8_t *data;
	long size;

	write_recording(path, sizeof(path));
	f = fopen(path, "r+b");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	data = malloc((size_t)size);
	rewind(f);
	cr_assert_eq(fread(data, 1, (size_t)size, f), (size_t)size);
	for (int k = 0; k < 30; k++) {
		cr_assert_eq(record_header_parse(data + pos, (size_t)size - pos, &h), 0);
		pos += record_total_len(&h);
	}
	fseek(f, (long)pos + RECORD_HEADER_LEN, SEEK_SET); /* record 30's payload */
	fputc(data[pos + RECORD_HEADER_LEN] ^ 0xff, f);
	fclose(f);
	free(data);
	got = read_all(path, want);
	cr_assert_eq(got, SNAPSHOTS - 30);
	r = record_reader_open(path);
	cr_assert_eq(record_index_build(&x, r, &all), 0);
	cr_assert_eq(x.n, got);
	check_order(&x, r, want, 0, order, sizeof(order) / sizeof(order[0]));
	cr_assert_eq(want[30]->time.tv_sec, 1796000000 + 60);
	record_index_free(&x);
	record_reader_close(r);
	release_all(want, got);
	unlink(path);
}

Test(record_index, find_gives_the_first_snapshot_at_or_after_a_time)
{
	struct snapshot *want[SNAPSHOTS];
	struct record_times all = { 0 };
	struct record_index x;
	struct record_reader *r;
	char path[64], when[40];

	write_recording(path, sizeof(path));
	read_all(path, want);
	r = record_reader_open(path);
	record_index_build(&x, r, &all);
	format_time_iso8601(&want[100]->time, when, sizeof(when));
	cr_assert_eq(record_index_find(&x, when), 100, "%s", when);
	when[19] = '\0'; /* the same second: snapshot 100 is its first */
	cr_assert_eq(record_index_find(&x, when), 100);
	cr_assert_eq(record_index_find(&x, when + 11), 100, "%s", when + 11); /* HH:MM:SS */
	/* Snapshot 110's minute starts at snapshot 100 (its time is a whole minute). */
	format_time_iso8601(&want[110]->time, when, sizeof(when));
	when[16] = '\0';
	cr_assert_eq(record_index_find(&x, when), 100, "%s", when);
	cr_assert_eq(record_index_find(&x, "2030-01-01"), x.n);
	cr_assert_eq(record_index_find(&x, "2001-01-01"), 0);
	record_index_free(&x);
	record_reader_close(r);
	release_all(want, SNAPSHOTS);
	unlink(path);
}
