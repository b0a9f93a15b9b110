/* The recording format: see include/record/record_codec.h and doc/recording.md. Numbers
 * are little-endian; counters are varints, deltas zigzag varints; rates and ages are
 * stored only where they differ, bit for bit, from what the reader predicts. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "record/record_codec.h"
#include "snapshot_builder.h"
#include "util/array_grow.h"

static const uint8_t file_magic[8] = { 0x89, 'T', 'C', 'P', 'R', 'E', 'C', '\n' };
static const uint8_t record_magic[4] = { 'T', 'R', 'E', 'C' };
/* The identity a new row is against: nothing known. Never counted, never in a row. */
static const struct flow_identity no_identity;

/* The row operations of a record's payload. */
enum {
	OP_COPY = 1,   /* n rows as the last record had them (their age moves, rates 0) */
	OP_SKIP = 2,   /* n rows of the last record are gone */
	OP_UPDATE = 3, /* the next row of the last record, with the fields the mask names */
	OP_NEW = 4,    /* a row of its own: key, then fields against an empty row */
};

/* The fields a row operation carries. */
enum {
	F_TX_BYTES = 1 << 0,
	F_RX_BYTES = 1 << 1,
	F_TX_PACKETS = 1 << 2,
	F_RX_PACKETS = 1 << 3,
	F_SRTT = 1 << 4,
	F_RETRANS = 1 << 5,
	F_STATE = 1 << 6, /* state and closed */
	F_IDENTITY = 1 << 7,
	F_FIRST_SEEN = 1 << 8,
	F_TX_RATE = 1 << 9,
	F_RX_RATE = 1 << 10,
	F_AGE = 1 << 11,
	F_CGROUP = 1 << 12, /* the cgroup's path: a string, names being the host's own */
	F_ALL = (1 << 13) - 1,
};

/* What a row's rates are predicted from: the last record's row, nothing, or the row
 * itself (a key record: a rate of 0). */
enum rate_base {
	BASE_PREV,
	BASE_ZERO,
	BASE_SELF
};

/* ---------------------------------------------------------------- bytes */

static int buf_reserve(struct record_buf *b, size_t more)
{
	size_t room = b->room ? b->room : 4096;

	if (b->len + more <= b->room)
		return 0;
	while (room < b->len + more)
		room *= 2;
	if (!array_grow((void **)&b->data, room, 1))
		return -1;
	b->room = room;
	return 0;
}

/* Writers assume room was reserved for the row or header they belong to. */
static void put_u8(struct record_buf *b, uint8_t v)
{
	b->data[b->len++] = v;
}

static void put_le(struct record_buf *b, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		b->data[b->len++] = (uint8_t)(v >> (8 * i));
}

static void put_varint(struct record_buf *b, uint64_t v)
{
	while (v >= 0x80) {
		b->data[b->len++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b->data[b->len++] = (uint8_t)v;
}

static void put_delta(struct record_buf *b, uint64_t now, uint64_t before)
{
	int64_t d = (int64_t)(now - before);

	put_varint(b, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
}

static void put_double(struct record_buf *b, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	put_le(b, bits, 8);
}

static void put_bytes(struct record_buf *b, const void *p, size_t n)
{
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

struct reader {
	const uint8_t *p, *end;
	bool bad;
};

static uint8_t get_u8(struct reader *r)
{
	if (r->p >= r->end) {
		r->bad = true;
		return 0;
	}
	return *r->p++;
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get_varint(struct reader *r)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t c = get_u8(r);

		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

static uint64_t get_delta(struct reader *r, uint64_t before)
{
	uint64_t z = get_varint(r);

	return before + (uint64_t)((int64_t)(z >> 1) ^ -(int64_t)(z & 1));
}

static void get_bytes(struct reader *r, void *out, size_t n)
{
	if ((size_t)(r->end - r->p) < n) {
		r->bad = true;
		memset(out, 0, n);
		return;
	}
	memcpy(out, r->p, n);
	r->p += n;
}

static double get_double(struct reader *r)
{
	uint8_t raw[8];
	uint64_t bits;
	double v;

	get_bytes(r, raw, sizeof(raw));
	bits = get_le(raw, 8);
	memcpy(&v, &bits, sizeof(v));
	return v;
}

static bool same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

/* ---------------------------------------------------------------- the file header */

void record_file_header(uint8_t out[RECORD_FILE_HEADER_LEN])
{
	uint32_t crc;

	memcpy(out, file_magic, sizeof(file_magic));
	out[8] = RECORD_FORMAT_VERSION;
	out[9] = 0;
	out[10] = RECORD_FORMAT_VERSION; /* the oldest reader that can read it */
	out[11] = 0;
	crc = (uint32_t)crc32(0, out, 12);
	for (int i = 0; i < 4; i++)
		out[12 + i] = (uint8_t)(crc >> (8 * i));
}

int record_file_header_check(const uint8_t *header, size_t len, char *why, size_t why_len)
{
	unsigned version, oldest_reader;

	if (len == 0) {
		snprintf(why, why_len, "is empty, not a tcptop recording");
		return -1;
	}
	if (len < RECORD_FILE_HEADER_LEN || memcmp(header, file_magic, sizeof(file_magic)) != 0) {
		snprintf(why, why_len, "is not a tcptop recording (no recording header)");
		return -1;
	}
	if (get_le(header + 12, 4) != (uint32_t)crc32(0, header, 12)) {
		snprintf(why, why_len, "has a damaged recording header (checksum)");
		return -1;
	}
	version = (unsigned)get_le(header + 8, 2);
	oldest_reader = (unsigned)get_le(header + 10, 2);
	if (version < RECORD_FORMAT_VERSION) {
		snprintf(why, why_len,
			 "is a recording of format %u, made by an older tcptop (this one reads "
			 "format %u)",
			 version, RECORD_FORMAT_VERSION);
		return -1;
	}
	if (oldest_reader > RECORD_FORMAT_VERSION) {
		snprintf(why, why_len,
			 "is a recording of format %u, which needs a newer tcptop (this one "
			 "reads format %u)",
			 version, RECORD_FORMAT_VERSION);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- history */

/* The history's rows hold a reference on their identity each, as a snapshot's do: moved
 * only where a row's identity is another than the one kept in its place. */
static int history_keep(struct record_history *h, const struct flow_row *rows, size_t n,
			uint64_t mono_ns)
{
	const struct flow_identity *id;

	if (n > h->room) {
		if (!array_grow((void **)&h->rows, n, sizeof(*rows))) {
			h->valid = false;
			return -1;
		}
		h->room = n;
	}
	for (size_t i = 0; i < n; i++) {
		id = i < h->nrows ? h->rows[i].id : NULL;
		h->rows[i] = rows[i];
		h->rows[i].id = id;
		flow_identity_move(&h->rows[i].id, rows[i].id);
	}
	for (size_t i = n; i < h->nrows; i++)
		flow_identity_put(h->rows[i].id);
	h->nrows = n;
	h->mono_ns = mono_ns;
	h->valid = true;
	return 0;
}

static void history_free(struct record_history *h)
{
	for (size_t i = 0; i < h->nrows; i++)
		flow_identity_put(h->rows[i].id);
	free(h->rows);
	free(h->index);
	memset(h, 0, sizeof(*h));
}

static uint64_t key_hash(const struct flow_key *k)
{
	uint64_t h = k->cookie * 0x9e3779b97f4a7c15ULL;

	h ^= get_le(k->peer_addr, 8) * 0xc2b2ae3d27d4eb4fULL;
	h ^= get_le(k->peer_addr + 8, 8) + ((uint64_t)k->peer_port << 8 | k->peer_family);
	return h ^ h >> 29;
}

static bool key_eq(const struct flow_key *a, const struct flow_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* An open-addressing index of the last rows' keys: their place plus one, 0 for none. */
static int history_index(struct record_history *h)
{
	size_t size = 16;

	while (size < h->nrows * 2)
		size *= 2;
	if (size > h->index_size) {
		free(h->index);
		h->index = calloc(size, sizeof(*h->index));
		h->index_size = h->index ? size : 0;
		if (!h->index)
			return -1;
	} else {
		memset(h->index, 0, h->index_size * sizeof(*h->index));
	}
	for (size_t i = 0; i < h->nrows; i++) {
		size_t at = key_hash(&h->rows[i].key) & (h->index_size - 1);

		while (h->index[at])
			at = (at + 1) & (h->index_size - 1);
		h->index[at] = (uint32_t)i + 1;
	}
	return 0;
}

static size_t history_find(const struct record_history *h, const struct flow_key *key)
{
	size_t at = key_hash(key) & (h->index_size - 1);

	for (; h->index[at]; at = (at + 1) & (h->index_size - 1))
		if (key_eq(&h->rows[h->index[at] - 1].key, key))
			return h->index[at] - 1;
	return SIZE_MAX;
}

/* ---------------------------------------------------------------- predictions */

static uint64_t elapsed_since(const struct record_history *h, uint64_t mono_ns)
{
	return h->valid && mono_ns > h->mono_ns ? mono_ns - h->mono_ns : 0;
}

static double predicted_rate(uint64_t now, const uint64_t *prev, enum rate_base base,
			     uint64_t elapsed_ns)
{
	switch (base) {
	case BASE_PREV:
		return snapshot_rate(now, *prev, elapsed_ns);
	case BASE_ZERO:
		return snapshot_rate(now, 0, elapsed_ns);
	default:
		return 0.0;
	}
}

struct row_context {
	const struct flow_row *base; /* the fields not carried come from it */
	enum rate_base rates;
	uint64_t elapsed_ns, mono_ns;
};

static unsigned fields_differing(const struct flow_row *r, const struct row_context *c)
{
	const struct flow_row *b = c->base;
	unsigned mask = 0;

	mask |= r->tx_bytes != b->tx_bytes ? F_TX_BYTES : 0;
	mask |= r->rx_bytes != b->rx_bytes ? F_RX_BYTES : 0;
	mask |= r->tx_packets != b->tx_packets ? F_TX_PACKETS : 0;
	mask |= r->rx_packets != b->rx_packets ? F_RX_PACKETS : 0;
	mask |= r->srtt_us != b->srtt_us ? F_SRTT : 0;
	mask |= r->retrans != b->retrans ? F_RETRANS : 0;
	mask |= r->state != b->state || r->closed != b->closed ? F_STATE : 0;
	mask |= r->id != b->id && memcmp(r->id, b->id, sizeof(*r->id)) != 0 ? F_IDENTITY : 0;
	mask |= r->id->first_seen_ns != b->id->first_seen_ns ? F_FIRST_SEEN : 0;
	if (!same_double(r->tx_rate,
			 predicted_rate(r->tx_bytes, &b->tx_bytes, c->rates, c->elapsed_ns)))
		mask |= F_TX_RATE;
	if (!same_double(r->rx_rate,
			 predicted_rate(r->rx_bytes, &b->rx_bytes, c->rates, c->elapsed_ns)))
		mask |= F_RX_RATE;
	if (!same_double(r->age_s, flow_age_s(c->mono_ns, r->first_seen_ns)))
		mask |= F_AGE;
	mask |= r->cgroup != b->cgroup ? F_CGROUP : 0; /* interned: one pointer per path */
	return mask;
}

/* A cgroup's path, its length first (0: none); cgroup_ids makes none as long as PATH_MAX. */
static void put_cgroup(struct record_buf *out, const struct cgroup_name *cgroup)
{
	size_t len = cgroup ? strnlen(cgroup->path, PATH_MAX - 1) : 0;

	put_varint(out, len);
	put_bytes(out, cgroup ? cgroup->path : "", len);
}

static const struct cgroup_name *get_cgroup(struct reader *in)
{
	char path[PATH_MAX];
	uint64_t len = get_varint(in);
	const struct cgroup_name *name;

	if (len == 0)
		return NULL;
	if (len >= PATH_MAX) {
		in->bad = true;
		return NULL;
	}
	get_bytes(in, path, len);
	path[len] = '\0';
	name = cgroup_name_intern(path);
	if (!name)
		in->bad = true; /* out of memory: no snapshot rather than a wrong one */
	return name;
}

/* The most one row's operation takes. */
#define ROW_MAX                                                                                    \
	(1 + 2 + 40 + 2 + 6 * 10 + 2 + sizeof(struct flow_identity) + 10 + 3 * 8 + 2 + PATH_MAX)

static void put_fields(struct record_buf *out, const struct flow_row *r, const struct flow_row *b,
		       unsigned mask)
{
	put_varint(out, mask);
	if (mask & F_TX_BYTES)
		put_delta(out, r->tx_bytes, b->tx_bytes);
	if (mask & F_RX_BYTES)
		put_delta(out, r->rx_bytes, b->rx_bytes);
	if (mask & F_TX_PACKETS)
		put_delta(out, r->tx_packets, b->tx_packets);
	if (mask & F_RX_PACKETS)
		put_delta(out, r->rx_packets, b->rx_packets);
	if (mask & F_SRTT)
		put_varint(out, r->srtt_us);
	if (mask & F_RETRANS)
		put_varint(out, r->retrans);
	if (mask & F_STATE) {
		put_u8(out, r->state);
		put_u8(out, r->closed);
	}
	if (mask & F_IDENTITY)
		put_bytes(out, r->id, sizeof(*r->id));
	if (mask & F_FIRST_SEEN)
		put_delta(out, r->id->first_seen_ns, b->id->first_seen_ns);
	if (mask & F_TX_RATE)
		put_double(out, r->tx_rate);
	if (mask & F_RX_RATE)
		put_double(out, r->rx_rate);
	if (mask & F_AGE)
		put_double(out, r->age_s);
	if (mask & F_CGROUP)
		put_cgroup(out, r->cgroup);
}

/* A decoded row's identity, with a reference for its slot: the base row's when the
 * record carries none (the fields of one are then the base's), else a new one; NULL
 * (and in->bad) when out of memory. */
static const struct flow_identity *get_identity(struct reader *in, uint64_t mask,
						const struct flow_identity *base)
{
	struct flow_identity id = *base;
	struct flow_identity_rcu *made;

	if (!(mask & (F_IDENTITY | F_FIRST_SEEN)) && base != &no_identity)
		return flow_identity_hold(base);
	if (mask & F_IDENTITY)
		get_bytes(in, &id, sizeof(id));
	id.first_seen_ns = mask & F_FIRST_SEEN ? get_delta(in, base->first_seen_ns)
					       : base->first_seen_ns;
	made = flow_identity_new(&id);
	if (!made) {
		in->bad = true;
		return NULL;
	}
	return &made->id;
}

static void get_fields(struct reader *in, struct flow_row *r, const struct row_context *c)
{
	const struct flow_row *b = c->base;
	uint64_t mask = get_varint(in);

	if (mask & ~(uint64_t)F_ALL)
		in->bad = true;
	r->tx_bytes = mask & F_TX_BYTES ? get_delta(in, b->tx_bytes) : b->tx_bytes;
	r->rx_bytes = mask & F_RX_BYTES ? get_delta(in, b->rx_bytes) : b->rx_bytes;
	r->tx_packets = mask & F_TX_PACKETS ? get_delta(in, b->tx_packets) : b->tx_packets;
	r->rx_packets = mask & F_RX_PACKETS ? get_delta(in, b->rx_packets) : b->rx_packets;
	r->srtt_us = mask & F_SRTT ? (uint32_t)get_varint(in) : b->srtt_us;
	r->retrans = mask & F_RETRANS ? (uint32_t)get_varint(in) : b->retrans;
	r->state = b->state;
	r->closed = b->closed;
	if (mask & F_STATE) {
		r->state = get_u8(in);
		r->closed = get_u8(in) != 0;
	}
	r->id = get_identity(in, mask, b->id); /* the slot held a NULL one */
	if (!r->id)
		return;
	r->first_seen_ns = r->id->first_seen_ns;
	r->tx_rate = mask & F_TX_RATE
			     ? get_double(in)
			     : predicted_rate(r->tx_bytes, &b->tx_bytes, c->rates, c->elapsed_ns);
	r->rx_rate = mask & F_RX_RATE
			     ? get_double(in)
			     : predicted_rate(r->rx_bytes, &b->rx_bytes, c->rates, c->elapsed_ns);
	r->age_s = mask & F_AGE ? get_double(in) : flow_age_s(c->mono_ns, r->first_seen_ns);
	r->cgroup = mask & F_CGROUP ? get_cgroup(in) : b->cgroup;
}

static void put_key(struct record_buf *out, const struct flow_key *k)
{
	put_varint(out, k->cookie);
	put_u8(out, k->peer_family);
	if (!k->peer_family)
		return;
	put_bytes(out, k->peer_addr, k->peer_family == TCPTOP_AF_INET ? 4 : 16);
	put_varint(out, k->peer_port);
}

static void get_key(struct reader *in, struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->cookie = get_varint(in);
	k->peer_family = get_u8(in);
	if (!k->peer_family)
		return;
	get_bytes(in, k->peer_addr, k->peer_family == TCPTOP_AF_INET ? 4 : 16);
	k->peer_port = (uint16_t)get_varint(in);
}

/* ---------------------------------------------------------------- encoding */

void record_encoder_init(struct record_encoder *e)
{
	memset(e, 0, sizeof(*e));
}

void record_encoder_free(struct record_encoder *e)
{
	history_free(&e->last);
	free(e->raw.data);
	free(e->record.data);
	memset(e, 0, sizeof(*e));
}

static void put_snapshot_fields(struct record_buf *out, const struct snapshot *s)
{
	put_varint(out, s->nrows);
	put_varint(out, s->mono_ns);
	put_double(out, s->interval_s);
	put_varint(out, s->flows_dropped);
	put_varint(out, s->close_records_lost);
	put_varint(out, s->closed_trimmed);
	put_varint(out, s->ended_unowned);
	put_varint(out, s->totals.tcp_flows);
	put_varint(out, s->totals.udp_flows);
	put_varint(out, s->totals.unowned_flows);
	put_varint(out, s->totals.tx_bytes);
	put_varint(out, s->totals.rx_bytes);
	put_double(out, s->totals.tx_rate);
	put_double(out, s->totals.rx_rate);
}

#define SNAPSHOT_FIELDS_MAX (12 * 10 + 3 * 8)

static void put_run(struct record_buf *out, int op, size_t *n)
{
	if (!*n)
		return;
	put_u8(out, (uint8_t)op);
	put_varint(out, *n);
	*n = 0;
}

static void put_new_row(struct record_buf *out, const struct flow_row *r,
			const struct row_context *c)
{
	struct flow_row empty = { .key = r->key, .id = &no_identity };
	struct row_context nc = *c;

	nc.base = &empty;
	put_u8(out, OP_NEW);
	put_key(out, &r->key);
	put_fields(out, r, &empty, fields_differing(r, &nc));
}

/* The rows of s against the last ones (none for a key record). */
static int put_rows(struct record_encoder *e, const struct snapshot *s, bool key)
{
	struct record_history *h = &e->last;
	struct row_context c = { NULL, key ? BASE_SELF : BASE_PREV, elapsed_since(h, s->mono_ns),
				 s->mono_ns };
	size_t prev = 0, nprev = key ? 0 : h->nrows, copies = 0;
	bool indexed = false;

	for (size_t i = 0; i < s->nrows; i++) {
		const struct flow_row *r = &s->rows[i];
		unsigned mask;

		if (buf_reserve(&e->raw, 2 * ROW_MAX) < 0)
			return -1;
		if (prev >= nprev || !key_eq(&h->rows[prev].key, &r->key)) {
			size_t at;

			if (!indexed && nprev && history_index(h) < 0)
				return -1;
			indexed = true;
			at = nprev ? history_find(h, &r->key) : SIZE_MAX;
			if (at == SIZE_MAX || at < prev) {
				put_run(&e->raw, OP_COPY, &copies);
				c.rates = key ? BASE_SELF : BASE_ZERO;
				put_new_row(&e->raw, r, &c);
				continue;
			}
			put_run(&e->raw, OP_COPY, &copies);
			copies = at - prev;
			put_run(&e->raw, OP_SKIP, &copies);
			prev = at;
		}
		c.base = &h->rows[prev++];
		c.rates = BASE_PREV;
		mask = fields_differing(r, &c);
		if (!mask) {
			copies++;
			continue;
		}
		put_run(&e->raw, OP_COPY, &copies);
		put_u8(&e->raw, OP_UPDATE);
		put_fields(&e->raw, r, c.base, mask);
	}
	if (buf_reserve(&e->raw, 16) < 0)
		return -1;
	put_run(&e->raw, OP_COPY, &copies);
	return 0;
}

static int seal(struct record_encoder *e, uint8_t type, uint64_t real_ns)
{
	uLongf packed = compressBound((uLong)e->raw.len);
	struct record_buf *out = &e->record;
	uint32_t crc;

	out->len = 0;
	if (buf_reserve(out, RECORD_HEADER_LEN + packed + RECORD_TRAILER_LEN) < 0 ||
	    compress2(out->data + RECORD_HEADER_LEN, &packed, e->raw.data, (uLong)e->raw.len,
		      Z_DEFAULT_COMPRESSION) != Z_OK ||
	    packed > RECORD_PAYLOAD_MAX)
		return -1;
	put_bytes(out, record_magic, sizeof(record_magic));
	put_u8(out, type);
	put_le(out, 0, 3);
	put_le(out, packed, 4);
	put_le(out, e->raw.len, 4);
	put_le(out, real_ns, 8);
	out->len += packed;
	crc = (uint32_t)crc32(0, out->data, (uInt)out->len);
	put_le(out, crc, 4);
	return 0;
}

int record_encode(struct record_encoder *e, const struct snapshot *s, bool key)
{
	uint64_t real_ns = (uint64_t)s->time.tv_sec * 1000000000ULL + (uint64_t)s->time.tv_nsec;

	key = key || !e->last.valid || e->last.since_key + 1 >= RECORD_KEY_EVERY;
	e->raw.len = 0;
	if (buf_reserve(&e->raw, SNAPSHOT_FIELDS_MAX) < 0)
		goto fail;
	put_snapshot_fields(&e->raw, s);
	if (put_rows(e, s, key) < 0 || seal(e, key ? RECORD_KEY : RECORD_DELTA, real_ns) < 0 ||
	    history_keep(&e->last, s->rows, s->nrows, s->mono_ns) < 0)
		goto fail;
	e->last.since_key = key ? 0 : e->last.since_key + 1;
	return 0;
fail:
	e->last.valid = false;
	return -1;
}

/* ---------------------------------------------------------------- records */

int record_header_parse(const uint8_t *data, size_t len, struct record_header *h)
{
	if (len < RECORD_HEADER_LEN || memcmp(data, record_magic, sizeof(record_magic)) != 0)
		return -1;
	h->type = data[4];
	h->payload_len = (uint32_t)get_le(data + 8, 4);
	h->raw_len = (uint32_t)get_le(data + 12, 4);
	h->real_ns = get_le(data + 16, 8);
	return h->payload_len <= RECORD_PAYLOAD_MAX ? 0 : -1;
}

size_t record_total_len(const struct record_header *h)
{
	return RECORD_HEADER_LEN + (size_t)h->payload_len + RECORD_TRAILER_LEN;
}

bool record_checksum_ok(const uint8_t *data, const struct record_header *h)
{
	size_t body = RECORD_HEADER_LEN + h->payload_len;

	return get_le(data + body, 4) == (uint32_t)crc32(0, data, (uInt)body);
}

/* ---------------------------------------------------------------- decoding */

void record_decoder_init(struct record_decoder *d)
{
	memset(d, 0, sizeof(*d));
}

void record_decoder_free(struct record_decoder *d)
{
	history_free(&d->last);
	free(d->raw.data);
	memset(d, 0, sizeof(*d));
}

void record_decoder_reset(struct record_decoder *d)
{
	d->last.valid = false;
}

static struct snapshot *get_snapshot_fields(struct reader *in, const struct record_header *h,
					    size_t copyable)
{
	uint64_t nrows = get_varint(in);
	struct snapshot *s;

	/* Each row is one of the last record's, or takes a byte of the payload at least: a
	 * bound before allocating. */
	if (in->bad || nrows > (uint64_t)copyable + h->raw_len)
		return NULL;
	s = snapshot_alloc(nrows ? nrows : 1);
	if (!s)
		return NULL;
	s->nrows = nrows;
	s->time.tv_sec = (time_t)(h->real_ns / 1000000000ULL);
	s->time.tv_nsec = (long)(h->real_ns % 1000000000ULL);
	s->mono_ns = get_varint(in);
	s->interval_s = get_double(in);
	s->flows_dropped = get_varint(in);
	s->close_records_lost = get_varint(in);
	s->closed_trimmed = get_varint(in);
	s->ended_unowned = get_varint(in);
	s->totals.tcp_flows = get_varint(in);
	s->totals.udp_flows = get_varint(in);
	s->totals.unowned_flows = get_varint(in);
	s->totals.tx_bytes = get_varint(in);
	s->totals.rx_bytes = get_varint(in);
	s->totals.tx_rate = get_double(in);
	s->totals.rx_rate = get_double(in);
	return s;
}

/* n rows as the last record had them: only their age moves, and their rates fall to 0. */
static void copy_rows(struct snapshot *s, size_t *i, const struct flow_row *prev, uint64_t n,
		      uint64_t generation)
{
	for (uint64_t k = 0; k < n; k++) {
		struct flow_row *r = &s->rows[(*i)++];

		*r = prev[k];
		flow_identity_hold(r->id); /* the slot held a NULL one */
		if (r->tx_rate != 0.0 || r->rx_rate != 0.0)
			r->version = generation;
		r->tx_rate = 0.0;
		r->rx_rate = 0.0;
		r->age_s = flow_age_s(s->mono_ns, r->first_seen_ns);
	}
}

static int get_rows(struct record_decoder *d, struct reader *in, struct snapshot *s, bool key)
{
	const struct record_history *h = &d->last;
	struct row_context c = { NULL, BASE_PREV, elapsed_since(h, s->mono_ns), s->mono_ns };
	size_t i = 0, prev = 0, nprev = key ? 0 : h->nrows;
	uint64_t generation = d->generation + 1;

	while (i < s->nrows && !in->bad) {
		uint8_t op = get_u8(in);
		uint64_t n = op == OP_COPY || op == OP_SKIP ? get_varint(in) : 1;
		struct flow_row empty = { .id = &no_identity }, *r;

		if ((op != OP_NEW && n > nprev - prev) || (op == OP_COPY && n > s->nrows - i))
			return -1;
		switch (op) {
		case OP_COPY:
			copy_rows(s, &i, h->rows + prev, n, generation);
			prev += n;
			continue;
		case OP_SKIP:
			prev += n;
			continue;
		case OP_UPDATE:
			c.base = &h->rows[prev++];
			c.rates = BASE_PREV;
			r = &s->rows[i++];
			r->key = c.base->key;
			break;
		case OP_NEW:
			get_key(in, &empty.key);
			c.base = &empty;
			c.rates = key ? BASE_SELF : BASE_ZERO;
			r = &s->rows[i++];
			r->key = empty.key;
			break;
		default:
			return -1;
		}
		get_fields(in, r, &c);
		r->version = generation;
	}
	return in->bad || i < s->nrows ? -1 : 0;
}

static int inflate_payload(struct record_decoder *d, const uint8_t *data,
			   const struct record_header *h)
{
	uLongf len = h->raw_len;

	d->raw.len = 0;
	if (buf_reserve(&d->raw, h->raw_len + 1) < 0 ||
	    uncompress(d->raw.data, &len, data + RECORD_HEADER_LEN, h->payload_len) != Z_OK ||
	    len != h->raw_len)
		return -1;
	d->raw.len = len;
	return 0;
}

struct snapshot *record_decode(struct record_decoder *d, const uint8_t *data,
			       const struct record_header *h, const char **why)
{
	bool key = h->type == RECORD_KEY;
	struct reader in;
	struct snapshot *s;

	if (!key && (h->type != RECORD_DELTA || !d->last.valid)) {
		*why = "a delta record without the record before it";
		return NULL;
	}
	if (inflate_payload(d, data, h) < 0) {
		*why = "a payload that does not inflate";
		return NULL;
	}
	in = (struct reader){ d->raw.data, d->raw.data + d->raw.len, false };
	s = get_snapshot_fields(&in, h, key ? 0 : d->last.nrows);
	if (!s || get_rows(d, &in, s, key) < 0 ||
	    history_keep(&d->last, s->rows, s->nrows, s->mono_ns) < 0) {
		snapshot_release(s);
		d->last.valid = false;
		*why = "a malformed payload";
		return NULL;
	}
	s->generation = ++d->generation;
	return s;
}
