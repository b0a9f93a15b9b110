/* The recording format's codec: what is encoded decodes to the same rows bit for bit,
 * unchanged flows cost (nearly) nothing, and damage is detected, never misread. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "record/record_codec.h"
#include "snapshot_builder.h"
#include "time_limit.h"
#include "identities.h"

TestSuite(record_codec, .timeout = UNIT_TIME_LIMIT_S);

#define SECOND 1000000000ULL

/* A row as the compute thread writes it: rate over the interval, age at mono_ns. */
static void fill(struct flow_row *r, uint64_t cookie, uint64_t tx, uint64_t prev_tx,
		 uint64_t mono_ns, uint64_t elapsed_ns)
{
	memset(r, 0, sizeof(*r));
	r->key.cookie = cookie;
	if (cookie % 3 == 0) {
		r->key.peer_family = TCPTOP_AF_INET;
		r->key.peer_addr[0] = 10;
		r->key.peer_port = (uint16_t)cookie;
	}
	test_id(r)->proto = cookie % 3 == 0 ? TCPTOP_PROTO_UDP : TCPTOP_PROTO_TCP;
	test_id(r)->family = TCPTOP_AF_INET;
	test_id(r)->laddr[0] = 127;
	test_id(r)->lport = (uint16_t)(1000 + cookie);
	test_id(r)->tgid = (uint32_t)(100 + cookie % 7);
	snprintf(test_id(r)->comm, sizeof(test_id(r)->comm), "proc%llu",
		 (unsigned long long)cookie % 7);
	r->state = TCPTOP_TCP_ESTABLISHED;
	r->tx_bytes = tx;
	r->rx_bytes = tx / 2;
	r->tx_packets = tx / 100;
	r->rx_packets = tx / 200;
	r->srtt_us = 50;
	r->first_seen_ns = test_id(r)->first_seen_ns = SECOND + cookie;
	r->tx_rate = snapshot_rate(tx, prev_tx, elapsed_ns);
	r->rx_rate = snapshot_rate(tx / 2, prev_tx / 2, elapsed_ns);
	r->age_s = flow_age_s(mono_ns, r->first_seen_ns);
}

static struct snapshot *make(size_t nrows, uint64_t mono_ns)
{
	struct snapshot *s = snapshot_alloc(nrows);

	cr_assert_not_null(s);
	s->nrows = nrows;
	s->mono_ns = mono_ns;
	s->time.tv_sec = 1796000000 + (time_t)(mono_ns / SECOND);
	s->time.tv_nsec = 123456789;
	s->interval_s = 1.0;
	s->flows_dropped = 3;
	s->totals.tcp_flows = nrows;
	s->totals.tx_rate = 1.5;
	return s;
}

static void assert_same(const struct snapshot *a, const struct snapshot *b)
{
	cr_assert_eq(a->nrows, b->nrows);
	cr_assert_eq(a->mono_ns, b->mono_ns);
	cr_assert_eq(a->time.tv_sec, b->time.tv_sec);
	cr_assert_eq(a->time.tv_nsec, b->time.tv_nsec);
	cr_assert_eq(a->flows_dropped, b->flows_dropped);
	cr_assert(memcmp(&a->totals, &b->totals, sizeof(a->totals)) == 0);
	for (size_t i = 0; i < a->nrows; i++) {
		struct flow_row x = a->rows[i], y = b->rows[i];

		x.version = y.version = 0; /* the reader's own numbering */
		cr_assert(memcmp(x.id, y.id, sizeof(*x.id)) == 0, "row %zu's identity differs", i);
		x.id = y.id = NULL;
		cr_assert(memcmp(&x, &y, sizeof(x)) == 0, "row %zu differs", i);
	}
}

struct pair {
	struct record_encoder enc;
	struct record_decoder dec;
};

/* Encodes s, decodes the record, checks the two agree; the record's length. */
static size_t round_trip(struct pair *p, const struct snapshot *s, bool key)
{
	struct record_header h;
	struct snapshot *back;
	const char *why = NULL;

	cr_assert_eq(record_encode(&p->enc, s, key), 0);
	cr_assert_eq(record_header_parse(p->enc.record.data, p->enc.record.len, &h), 0);
	cr_assert_eq(record_total_len(&h), p->enc.record.len);
	cr_assert(record_checksum_ok(p->enc.record.data, &h));
	back = record_decode(&p->dec, p->enc.record.data, &h, &why);
	cr_assert_not_null(back, "decode failed: %s", why);
	assert_same(s, back);
	snapshot_release(back);
	return p->enc.record.len;
}

Test(record_codec, rows_that_change_come_back_bit_for_bit)
{
	struct pair p;
	uint64_t mono = 10 * SECOND, elapsed = SECOND + 12345;

	record_encoder_init(&p.enc);
	record_decoder_init(&p.dec);
	for (unsigned step = 0; step < 70; step++, mono += elapsed) {
		/* Flows come (the newest), go (every fifth step one of the first), move. */
		size_t n = 50 + step;
		struct snapshot *s = make(n, mono);

		for (size_t i = 0; i < n; i++) {
			uint64_t cookie = i + step / 5,
				 tx = cookie * 1000 + (cookie % 2 ? step : 0);

			fill(&s->rows[i], cookie, tx * 10, step ? (tx - 1) * 10 : tx * 10, mono,
			     elapsed);
		}
		s->rows[n - 1].tx_rate = 1e300; /* no prediction makes it: stored as is */
		if (step % 9 == 3)              /* the order moves */
			s->rows[0].key.cookie = 100000 + step;
		round_trip(&p, s, false);
		snapshot_release(s);
	}
	record_encoder_free(&p.enc);
	record_decoder_free(&p.dec);
}

Test(record_codec, an_unchanged_flow_costs_under_a_bit_per_interval)
{
	struct pair p;
	size_t n = 10000, key_len, delta_len;
	struct snapshot *s = make(n, 10 * SECOND), *t = make(n, 11 * SECOND);

	record_encoder_init(&p.enc);
	record_decoder_init(&p.dec);
	for (size_t i = 0; i < n; i++) {
		fill(&s->rows[i], i + 1, 5000, 5000, s->mono_ns, SECOND);
		fill(&t->rows[i], i + 1, 5000, 5000, t->mono_ns, SECOND);
	}
	key_len = round_trip(&p, s, false);
	delta_len = round_trip(&p, t, false);
	cr_assert_lt(delta_len * 8, n, "%zu bytes for %zu idle flows", delta_len, n);
	cr_assert_lt(key_len, n * 60 / 2, "a key record of %zu bytes", key_len);
	snapshot_release(s);
	snapshot_release(t);
	record_encoder_free(&p.enc);
	record_decoder_free(&p.dec);
}

Test(record_codec, a_key_record_comes_every_so_often)
{
	struct pair p;
	struct record_header h;
	unsigned keys = 0;

	record_encoder_init(&p.enc);
	record_decoder_init(&p.dec);
	for (unsigned i = 0; i < 2 * RECORD_KEY_EVERY; i++) {
		struct snapshot *s = make(3, (10 + i) * SECOND);

		for (size_t r = 0; r < 3; r++)
			fill(&s->rows[r], r + 1, 100, 100, s->mono_ns, SECOND);
		round_trip(&p, s, false);
		record_header_parse(p.enc.record.data, p.enc.record.len, &h);
		keys += h.type == RECORD_KEY;
		snapshot_release(s);
	}
	cr_assert_eq(keys, 2);
	record_encoder_free(&p.enc);
	record_decoder_free(&p.dec);
}

Test(record_codec, damage_fails_the_checksum_and_a_lone_delta_is_refused)
{
	struct record_encoder enc;
	struct record_decoder fresh;
	struct record_header h;
	struct snapshot *s = make(2, 10 * SECOND), *t = make(2, 11 * SECOND);
	const char *why = NULL;

	record_encoder_init(&enc);
	record_decoder_init(&fresh);
	fill(&s->rows[0], 1, 10, 10, s->mono_ns, SECOND);
	fill(&s->rows[1], 2, 10, 10, s->mono_ns, SECOND);
	t->rows[0] = s->rows[0];
	t->rows[1] = s->rows[1];
	t->rows[0].age_s = flow_age_s(t->mono_ns, t->rows[0].first_seen_ns);
	t->rows[1].age_s = flow_age_s(t->mono_ns, t->rows[1].first_seen_ns);
	cr_assert_eq(record_encode(&enc, s, false), 0);
	cr_assert_eq(record_encode(&enc, t, false), 0);
	record_header_parse(enc.record.data, enc.record.len, &h);
	cr_assert_eq(h.type, RECORD_DELTA);
	cr_assert_null(record_decode(&fresh, enc.record.data, &h, &why));
	cr_assert_not_null(why);
	enc.record.data[RECORD_HEADER_LEN + 1] ^= 0x40;
	cr_assert_not(record_checksum_ok(enc.record.data, &h));
	snapshot_release(s);
	snapshot_release(t);
	record_encoder_free(&enc);
	record_decoder_free(&fresh);
}

Test(record_codec, file_header_of_a_newer_format_is_refused)
{
	uint8_t header[RECORD_FILE_HEADER_LEN];
	char why[160];

	record_file_header(header);
	cr_assert_eq(record_file_header_check(header, sizeof(header), why, sizeof(why)), 0);
	cr_assert_eq(record_file_header_check(header, 0, why, sizeof(why)), -1);
	cr_assert(strstr(why, "empty"));
	header[10] = RECORD_FORMAT_VERSION + 1; /* the checksum no longer holds */
	cr_assert_eq(record_file_header_check(header, sizeof(header), why, sizeof(why)), -1);
	cr_assert(strstr(why, "damaged"));
	header[3] = 'X';
	cr_assert_eq(record_file_header_check(header, sizeof(header), why, sizeof(why)), -1);
	cr_assert(strstr(why, "not a tcptop recording"));
}
