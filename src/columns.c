/* The column table and what each column shows of a row: the output contract for CSV,
 * JSONL, --sort and the TUI. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "addr.h"
#include "addr_text.h"
#include "columns.h"

const struct column columns[COL_COUNT] = {
	[COL_TIME] = { "time", COLUMN_TEXT, 0 },
	[COL_PID] = { "pid", COLUMN_INTEGER, 0 },
	[COL_COMM] = { "comm", COLUMN_TEXT, 0 },
	[COL_PROTO] = { "proto", COLUMN_TEXT, 0, true },
	[COL_LADDR] = { "laddr", COLUMN_TEXT, 0, true },
	[COL_LPORT] = { "lport", COLUMN_INTEGER, 0 },
	[COL_RADDR] = { "raddr", COLUMN_TEXT, 0, true },
	[COL_RPORT] = { "rport", COLUMN_INTEGER, 0 },
	[COL_STATE] = { "state", COLUMN_TEXT, 0, true },
	[COL_TX_BYTES] = { "tx_bytes", COLUMN_INTEGER, 0 },
	[COL_RX_BYTES] = { "rx_bytes", COLUMN_INTEGER, 0 },
	[COL_TX_PACKETS] = { "tx_packets", COLUMN_INTEGER, 0 },
	[COL_RX_PACKETS] = { "rx_packets", COLUMN_INTEGER, 0 },
	[COL_TX_RATE] = { "tx_rate", COLUMN_REAL, 0 },
	[COL_RX_RATE] = { "rx_rate", COLUMN_REAL, 0 },
	[COL_RTT_US] = { "rtt_us", COLUMN_INTEGER, 0 },
	[COL_RETRANS] = { "retrans", COLUMN_INTEGER, 0 },
	[COL_AGE_S] = { "age_s", COLUMN_REAL, 3 },
	[COL_NETNS] = { "netns", COLUMN_INTEGER, 0 },
};

#define RATE_NAME "rate"

int column_lookup(const char *name)
{
	if (!name)
		return -1;
	for (int id = 0; id < COL_COUNT; id++)
		if (strcmp(name, columns[id].name) == 0)
			return id;
	if (strcmp(name, RATE_NAME) == 0)
		return COL_RATE;
	return -1;
}

/* NULL for an id that is neither a column nor a sort key: a caller's bug. */
const char *column_name(int id)
{
	if (id >= 0 && id < COL_COUNT)
		return columns[id].name;
	if (id == COL_RATE)
		return RATE_NAME;
	return NULL;
}

static enum column_kind column_kind(int id)
{
	if (id >= 0 && id < COL_COUNT)
		return columns[id].kind;
	return id == COL_RATE ? COLUMN_REAL : COLUMN_TEXT;
}

static bool row_is_udp(const struct flow_row *row)
{
	return row->id.proto == TCPTOP_PROTO_UDP;
}

static size_t family_addr_len(uint8_t family)
{
	if (family == TCPTOP_AF_INET)
		return 4;
	return family == TCPTOP_AF_INET6 ? 16 : 0;
}

/* LISTEN sockets and UDP "unknown peer" flows have no remote end: all-zero address and
 * port 0. A peer at 0.0.0.0 with a real port is still a peer. */
static bool row_has_peer(const struct flow_row *row)
{
	static const uint8_t zero[16];

	return row->id.rport != 0 ||
	       memcmp(row->id.raddr, zero, family_addr_len(row->id.family)) != 0;
}

static void set_integer(struct column_value *out, uint64_t value)
{
	out->integer = value;
}

/* Non-finite numbers have no JSON spelling and no place in a sort: they become null. */
static void set_real(struct column_value *out, double value)
{
	out->real = value;
	out->is_null = !isfinite(value);
}

static void set_text(struct column_value *out, char *text, const char *from, size_t len)
{
	memcpy(text, from, len);
	out->len = len;
}

#define SET_TEXT(out, text, literal) set_text(out, text, literal, sizeof(literal) - 1)

static void set_proto(struct column_value *out, char *text, uint8_t proto)
{
	if (proto == TCPTOP_PROTO_TCP)
		SET_TEXT(out, text, "TCP");
	else if (proto == TCPTOP_PROTO_UDP)
		SET_TEXT(out, text, "UDP");
	else
		SET_TEXT(out, text, "UNKNOWN");
}

/* comm is not NUL-terminated when the name fills all TCPTOP_COMM_LEN bytes. */
static void set_comm(struct column_value *out, char *text, const struct flow_row *row)
{
	set_text(out, text, row->id.comm, sizeof(row->id.comm));
	out->len = strnlen(row->id.comm, sizeof(row->id.comm));
	out->is_null = out->len == 0;
}

static void set_addr(struct column_value *out, char *text, const struct flow_row *row,
		     const uint8_t *addr)
{
	out->len = (size_t)(addr_text(row->id.family, addr, text) - text);
}

static void set_state(struct column_value *out, char *text, const struct flow_row *row)
{
	const char *name = tcp_state_name(row_is_udp(row) ? TCPTOP_STATE_NONE : row->state);

	set_text(out, text, name, strlen(name));
}

/* A listener has no peer to measure; UDP has no RTT at all; a TCP srtt of 0 is "no sample
 * yet" (SYN_SENT, a TIME_WAIT socket found at start), not 0 µs. */
static bool rtt_is_null(const struct flow_row *row)
{
	return row_is_udp(row) || row->state == TCPTOP_TCP_LISTEN || !row->srtt_us;
}

/* Every field is set, without clearing the whole value: sorting and writing call this once
 * per cell. Inlined with a constant id, the switch folds away (column_values). */
__attribute__((always_inline))
static inline void fill_value(const struct flow_row *row, int id, struct column_value *out)
{
	char *text = out->text;

	out->kind = column_kind(id);
	out->is_null = false;
	out->integer = 0;
	out->real = 0;
	out->len = 0;
	switch (id) {
	case COL_PID:
		set_integer(out, row->id.tgid);
		out->is_null = row->id.tgid == 0;
		break;
	case COL_COMM:
		set_comm(out, text, row);
		break;
	case COL_PROTO:
		set_proto(out, text, row->id.proto);
		break;
	case COL_LADDR:
		set_addr(out, text, row, row->id.laddr);
		break;
	case COL_LPORT:
		set_integer(out, row->id.lport);
		break;
	case COL_RADDR:
		set_addr(out, text, row, row->id.raddr);
		out->is_null = !row_has_peer(row);
		break;
	case COL_RPORT:
		set_integer(out, row->id.rport);
		out->is_null = !row_has_peer(row);
		break;
	case COL_STATE:
		set_state(out, text, row);
		break;
	case COL_TX_BYTES:
		set_integer(out, row->tx_bytes);
		break;
	case COL_RX_BYTES:
		set_integer(out, row->rx_bytes);
		break;
	case COL_TX_PACKETS:
		set_integer(out, row->tx_packets);
		break;
	case COL_RX_PACKETS:
		set_integer(out, row->rx_packets);
		break;
	case COL_TX_RATE:
		set_real(out, row->tx_rate);
		break;
	case COL_RX_RATE:
		set_real(out, row->rx_rate);
		break;
	case COL_RATE:
		set_real(out, row->tx_rate + row->rx_rate);
		break;
	case COL_RTT_US:
		set_integer(out, row->srtt_us);
		out->is_null = rtt_is_null(row);
		break;
	case COL_RETRANS:
		set_integer(out, row_is_udp(row) ? 0 : row->retrans);
		break;
	case COL_AGE_S:
		set_real(out, row->age_s);
		break;
	case COL_NETNS:
		set_integer(out, row->id.netns);
		break;
	default:
		out->is_null = true; /* COL_TIME comes from the caller */
		break;
	}
	text[out->len] = '\0';
}

void column_age_value(double age_s, struct column_value *out)
{
	out->kind = COLUMN_REAL;
	out->integer = 0;
	out->len = 0;
	out->text[0] = '\0';
	set_real(out, age_s);
}

void column_value(const struct flow_row *row, int id, struct column_value *out)
{
	fill_value(row, id, out);
}

void column_values(const struct flow_row *row, struct column_value values[COL_COUNT])
{
#pragma GCC unroll 32
	for (int id = 0; id < COL_COUNT; id++)
		fill_value(row, id, &values[id]);
}

/* Descending for numbers, without subtracting: unsigned differences do not fit an int. */
static int compare_numbers(const struct column_value *a, const struct column_value *b)
{
	if (a->kind == COLUMN_REAL)
		return (a->real < b->real) - (a->real > b->real);
	return (a->integer < b->integer) - (a->integer > b->integer);
}

static int compare_values(const struct column_value *a, const struct column_value *b)
{
	/* Null sorts last whichever way the column sorts. */
	if (a->is_null || b->is_null)
		return (int)a->is_null - (int)b->is_null;
	if (a->kind == COLUMN_TEXT)
		return strcmp(a->text, b->text);
	return compare_numbers(a, b);
}

int column_compare_flows(const struct flow_row *a, const struct flow_row *b)
{
	const struct flow_key *x = &a->key, *y = &b->key;
	size_t rest = offsetof(struct flow_key, peer_addr);

	if (x->cookie != y->cookie)
		return x->cookie < y->cookie ? -1 : 1;
	return memcmp((const char *)x + rest, (const char *)y + rest, sizeof(*x) - rest);
}

int column_compare(const struct flow_row *a, const struct flow_row *b, int sort_id)
{
	struct column_value va, vb;
	int order;

	column_value(a, sort_id, &va);
	column_value(b, sort_id, &vb);
	order = compare_values(&va, &vb);
	return order ? order : column_compare_flows(a, b);
}

/* Ascending as unsigned integers when the doubles ascend; -0 and 0 are one value. */
static uint64_t real_order(double value)
{
	uint64_t bits;

	if (value == 0)
		value = 0;
	memcpy(&bits, &value, sizeof(bits));
	return bits >> 63 ? ~bits : bits | (UINT64_C(1) << 63);
}

/* The first 15 bytes big-endian, then 0 when that was the whole text and 1 when more
 * follows: strcmp order, exact unless two keys both end in 1. */
static void text_key(const char *text, struct column_sort_key *key)
{
	uint64_t word[2] = { 0, 0 };
	size_t i;

	for (i = 0; i < 15 && text[i]; i++)
		word[i / 8] |= (uint64_t)(unsigned char)text[i] << (56 - 8 * (i % 8));
	key->hi = word[0];
	key->lo = word[1] | (text[i] ? 1 : 0);
	key->exact = !(key->lo & 1);
}

void column_sort_key(const struct flow_row *row, int id, struct column_sort_key *key)
{
	struct column_value v;

	column_value(row, id, &v);
	key->exact = true;
	if (v.is_null) {
		key->hi = key->lo = UINT64_MAX; /* after every value */
	} else if (v.kind == COLUMN_TEXT) {
		text_key(v.text, key);
	} else {
		key->hi = 0;
		key->lo = ~(v.kind == COLUMN_REAL ? real_order(v.real) : v.integer);
	}
}
