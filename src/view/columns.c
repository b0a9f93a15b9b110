/* The column table and what each column shows of a row: the output contract for CSV,
 * JSONL, --sort and the TUI. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "tcp_health.h"
#include "util/addr.h"
#include "view/alert.h"
#include "view/columns.h"
#include "view/rate_history.h"
#include "util/numtext.h"

#define RATE_NAME "rate"

int column_lookup(const char *name)
{
	if (!name)
		return -1;
	for (int id = 0; id < COL_COUNT; id++)
		if (strcmp(name, column_table[id].name) == 0)
			return id;
	if (strcmp(name, RATE_NAME) == 0)
		return COL_RATE;
	return -1;
}

/* NULL for an id that is neither a column nor a sort key: a caller's bug. */
const char *column_name(int id)
{
	if (id >= 0 && id < COL_COUNT)
		return column_table[id].name;
	if (id == COL_RATE)
		return RATE_NAME;
	return NULL;
}

static enum column_kind column_kind(int id)
{
	if (id >= 0 && id < COL_COUNT)
		return column_table[id].kind;
	return id == COL_RATE ? COLUMN_REAL : COLUMN_TEXT;
}

static bool row_is_udp(const struct flow_row *row)
{
	return row->id->proto == TCPTOP_PROTO_UDP;
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

	return row->id->rport != 0 ||
	       memcmp(row->id->raddr, zero, family_addr_len(row->id->family)) != 0;
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
	set_text(out, text, row->id->comm, sizeof(row->id->comm));
	out->len = strnlen(row->id->comm, sizeof(row->id->comm));
	out->is_null = out->len == 0;
}

static void set_addr(struct column_value *out, char *text, const struct flow_row *row,
		     const uint8_t *addr)
{
	out->len = (size_t)(addr_text(row->id->family, addr, text) - text);
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

/* ---------------------------------------------------------------- accessors */

static void get_pid(const struct flow_row *row, struct column_value *out)
{
	set_integer(out, row->id->tgid);
	out->is_null = row->id->tgid == 0;
}

static void get_comm(const struct flow_row *row, struct column_value *out)
{
	set_comm(out, out->text, row);
}

static void get_proto(const struct flow_row *row, struct column_value *out)
{
	set_proto(out, out->text, row->id->proto);
}

static void get_laddr(const struct flow_row *row, struct column_value *out)
{
	set_addr(out, out->text, row, row->id->laddr);
}

static void get_lport(const struct flow_row *row, struct column_value *out)
{
	set_integer(out, row->id->lport);
}

static void get_raddr(const struct flow_row *row, struct column_value *out)
{
	set_addr(out, out->text, row, row->id->raddr);
	out->is_null = !row_has_peer(row);
}

static void get_rport(const struct flow_row *row, struct column_value *out)
{
	set_integer(out, row->id->rport);
	out->is_null = !row_has_peer(row);
}

static void get_state(const struct flow_row *row, struct column_value *out)
{
	set_state(out, out->text, row);
}

static void get_tx_bytes(const struct flow_row *row, struct column_value *out)
{
	set_integer(out, row->tx_bytes);
}

static void get_rx_bytes(const struct flow_row *row, struct column_value *out)
{
	set_integer(out, row->rx_bytes);
}

static void get_tx_packets(const struct flow_row *row, struct column_value *out)
{
	set_integer(out, row->tx_packets);
}

static void get_rx_packets(const struct flow_row *row, struct column_value *out)
{
	set_integer(out, row->rx_packets);
}

static void get_tx_rate(const struct flow_row *row, struct column_value *out)
{
	set_real(out, row->tx_rate);
}

static void get_rx_rate(const struct flow_row *row, struct column_value *out)
{
	set_real(out, row->rx_rate);
}

static void get_rtt_us(const struct flow_row *row, struct column_value *out)
{
	set_integer(out, row->srtt_us);
	out->is_null = rtt_is_null(row);
}

static void get_retrans(const struct flow_row *row, struct column_value *out)
{
	set_integer(out, row_is_udp(row) ? 0 : row->retrans);
}

static void get_age_s(const struct flow_row *row, struct column_value *out)
{
	set_real(out, row->age_s);
}

/* A listener's queue columns: null for any other row, and for one the walk has not seen. */
static void get_backlog(const struct flow_row *row, struct column_value *out)
{
	set_integer(out, row->backlog);
	out->is_null = !row->listen_known;
}

static void get_backlog_max(const struct flow_row *row, struct column_value *out)
{
	set_integer(out, row->backlog_max);
	out->is_null = !row->listen_known;
}

static void get_drops(const struct flow_row *row, struct column_value *out)
{
	set_integer(out, row->drops);
	out->is_null = !row->listen_known;
}

static void get_drop_rate(const struct flow_row *row, struct column_value *out)
{
	set_real(out, row->drop_rate);
	out->is_null = out->is_null || !row->listen_known;
}

/* A TCP connection's health columns: null where its hook set cannot tell (known), for UDP
 * and before a first sample. A listener's queues are its backlog limit (sendq) and accept
 * queue (recvq), as ss shows them. */
static void get_sendq(const struct flow_row *row, struct column_value *out)
{
	set_integer(out, row->listen_known ? row->backlog_max : row->health.sendq);
	out->is_null = !row->listen_known && !(row->health.known & TCPTOP_HEALTH_QUEUES);
}

static void get_recvq(const struct flow_row *row, struct column_value *out)
{
	set_integer(out, row->listen_known ? row->backlog : row->health.recvq);
	out->is_null = !row->listen_known && !(row->health.known & TCPTOP_HEALTH_QUEUES);
}

static void get_cwnd(const struct flow_row *row, struct column_value *out)
{
	set_integer(out, row->health.cwnd);
	out->is_null = !(row->health.known & TCPTOP_HEALTH_CWND);
}

static void get_delivery_rate(const struct flow_row *row, struct column_value *out)
{
	set_real(out, row->health.delivery_rate);
	out->is_null = out->is_null || !(row->health.known & TCPTOP_HEALTH_CWND);
}

/* The limit with the largest share as text; the shares themselves, percent per
 * enum tcp_limit, one byte each from the lowest, in integer (JSONL writes them:
 * column_limited_shares). */
static void get_limited(const struct flow_row *row, struct column_value *out)
{
	uint8_t percent[TCP_LIMIT_COUNT];
	const char *name;
	int given = 0;

	out->is_null = !(row->health.known & FLOW_HEALTH_LIMITED);
	if (out->is_null)
		return;
	for (int i = 0; i < 3; i++)
		given += percent[TCP_LIMIT_CWND + i] = row->health.limited[i];
	percent[TCP_LIMIT_APP] = (uint8_t)(given < 100 ? 100 - given : 0);
	name = tcp_limit_names[tcp_health_main_limit(percent)];
	set_text(out, out->text, name, strlen(name));
	out->integer = 0;
	for (int i = 0; i < TCP_LIMIT_COUNT; i++)
		out->integer |= (uint64_t)percent[i] << (8 * i);
}

void column_limited_shares(const struct column_value *v, double share[TCP_LIMIT_COUNT])
{
	for (int i = 0; i < TCP_LIMIT_COUNT; i++)
		share[i] = (double)((v->integer >> (8 * i)) & 0xff) / 100.0;
}

static void get_alert(const struct flow_row *row, struct column_value *out)
{
	set_integer(out, alert_row_above(row) ? 1 : 0);
}

static void get_netns(const struct flow_row *row, struct column_value *out)
{
	set_integer(out, row->id->netns);
}

static void get_cgroup(const struct flow_row *row, struct column_value *out)
{
	if (!row->cgroup) {
		out->is_null = true;
		return;
	}
	out->len = strnlen(row->cgroup->shown, CGROUP_SHOWN_MAX);
	memcpy(out->text, row->cgroup->shown, out->len);
}

static void get_tx_rate_2s(const struct flow_row *row, struct column_value *out)
{
	set_real(out, row->tx_rate_win[0]);
}

static void get_rx_rate_2s(const struct flow_row *row, struct column_value *out)
{
	set_real(out, row->rx_rate_win[0]);
}

static void get_tx_rate_10s(const struct flow_row *row, struct column_value *out)
{
	set_real(out, row->tx_rate_win[1]);
}

static void get_rx_rate_10s(const struct flow_row *row, struct column_value *out)
{
	set_real(out, row->rx_rate_win[1]);
}

static void get_tx_rate_40s(const struct flow_row *row, struct column_value *out)
{
	set_real(out, row->tx_rate_win[2]);
}

static void get_rx_rate_40s(const struct flow_row *row, struct column_value *out)
{
	set_real(out, row->rx_rate_win[2]);
}

/* ---------------------------------------------------------------- the table */

/* Longest texts: an IPv6 address (INET6_ADDRSTRLEN - 1), a 64-bit integer, a real. */
#define ADDR_MAX 45
#define INTEGER_MAX 20

/* The live view's columns, in the order it shows them. */
const int column_view_order[COLUMN_VIEW_COUNT] = {
	COL_PID,      COL_COMM,        COL_PROTO,      COL_PORT,          COL_LADDR,
	COL_RADDR,    COL_STATE,       COL_BACKLOG,    COL_BACKLOG_MAX,   COL_DROPS,
	COL_SENDQ,    COL_RECVQ,       COL_CWND,       COL_LIMITED,       COL_FLOWS,
	COL_RX_RATE,  COL_TX_RATE,     COL_HISTORY,    COL_DELIVERY_RATE, COL_RX_BYTES,
	COL_TX_BYTES, COL_RX_PACKETS,  COL_TX_PACKETS, COL_RTT_US,        COL_AGE_S,
	COL_CGROUP,   COL_ESTABLISHED, COL_OPENING,    COL_CLOSING,       COL_LISTEN,
	COL_CLOSED,   COL_UDP,
};

#define GROUP_COUNT_COLUMN(id_, name_, title_, width_, rank_)                                      \
	[id_] = { name_,                                                                           \
		  COLUMN_INTEGER,                                                                  \
		  0,                                                                               \
		  false,                                                                           \
		  INTEGER_MAX,                                                                     \
		  NULL,                                                                            \
		  { title_, UNIT_COUNT, width_, width_, width_, rank_, true },                     \
		  true,                                                                            \
		  true }

/* view: title, unit, min, want and max width, rank, right-aligned. */
const struct column column_table[COL_COUNT] = {
	[COL_TIME] = { "time", COLUMN_TEXT, 0, false, 32, NULL, { NULL } },
	[COL_PID] = { "pid",
		      COLUMN_INTEGER,
		      0,
		      false,
		      INTEGER_MAX,
		      get_pid,
		      { "PID", UNIT_AS_IS, 7, 7, 7, 4, true } },
	[COL_COMM] = { "comm",
		       COLUMN_TEXT,
		       0,
		       false,
		       TCPTOP_COMM_LEN,
		       get_comm,
		       { "PROCESS", UNIT_AS_IS, 8, 12, 15, 0, false } },
	[COL_PROTO] = { "proto",
			COLUMN_TEXT,
			0,
			true,
			7,
			get_proto,
			{ "PROTO", UNIT_AS_IS, 5, 5, 5, 7, false } },
	[COL_LADDR] = { "laddr",
			COLUMN_TEXT,
			0,
			true,
			ADDR_MAX,
			get_laddr,
			{ "LOCAL", UNIT_ENDPOINT, 15, 15, 47, 5, false } },
	[COL_LPORT] = { "lport", COLUMN_INTEGER, 0, false, INTEGER_MAX, get_lport, { NULL } },
	[COL_RADDR] = { "raddr",
			COLUMN_TEXT,
			0,
			true,
			ADDR_MAX,
			get_raddr,
			{ "REMOTE", UNIT_ENDPOINT, 9, 21, 40, 3, false } },
	[COL_RPORT] = { "rport", COLUMN_INTEGER, 0, false, INTEGER_MAX, get_rport, { NULL } },
	[COL_STATE] = { "state",
			COLUMN_TEXT,
			0,
			true,
			12,
			get_state,
			{ "STATE", UNIT_AS_IS, 11, 11, 12, 6, false } },
	[COL_TX_BYTES] = { "tx_bytes",
			   COLUMN_INTEGER,
			   0,
			   false,
			   INTEGER_MAX,
			   get_tx_bytes,
			   { "TX TOTAL", UNIT_BYTES, 9, 9, 9, 9, true } },
	[COL_RX_BYTES] = { "rx_bytes",
			   COLUMN_INTEGER,
			   0,
			   false,
			   INTEGER_MAX,
			   get_rx_bytes,
			   { "RX TOTAL", UNIT_BYTES, 9, 9, 9, 8, true } },
	[COL_TX_PACKETS] = { "tx_packets",
			     COLUMN_INTEGER,
			     0,
			     false,
			     INTEGER_MAX,
			     get_tx_packets,
			     { "TX PKT", UNIT_COUNT, 7, 7, 7, 12, true } },
	[COL_RX_PACKETS] = { "rx_packets",
			     COLUMN_INTEGER,
			     0,
			     false,
			     INTEGER_MAX,
			     get_rx_packets,
			     { "RX PKT", UNIT_COUNT, 7, 7, 7, 11, true } },
	[COL_TX_RATE] = { "tx_rate",
			  COLUMN_REAL,
			  0,
			  false,
			  NUMTEXT_MAX,
			  get_tx_rate,
			  { "TX/s", UNIT_RATE, 10, 10, 10, 2, true } },
	[COL_RX_RATE] = { "rx_rate",
			  COLUMN_REAL,
			  0,
			  false,
			  NUMTEXT_MAX,
			  get_rx_rate,
			  { "RX/s", UNIT_RATE, 10, 10, 10, 1, true } },
	[COL_RTT_US] = { "rtt_us",
			 COLUMN_INTEGER,
			 0,
			 false,
			 INTEGER_MAX,
			 get_rtt_us,
			 { "RTT", UNIT_USEC, 7, 7, 7, 10, true } },
	[COL_RETRANS] = { "retrans", COLUMN_INTEGER, 0, false, INTEGER_MAX, get_retrans, { NULL } },
	[COL_AGE_S] = { "age_s",
			COLUMN_REAL,
			3,
			false,
			NUMTEXT_MAX,
			get_age_s,
			{ "AGE", UNIT_SECONDS, 7, 7, 7, 13, true } },
	[COL_NETNS] = { "netns", COLUMN_INTEGER, 0, false, INTEGER_MAX, get_netns, { NULL } },
	[COL_CGROUP] = { "cgroup",
			 COLUMN_TEXT,
			 0,
			 false,
			 CGROUP_SHOWN_MAX,
			 get_cgroup,
			 { "CGROUP", UNIT_AS_IS, 8, 20, 40, 14, false },
			 true },
	/* The live view shows these in the rate columns, when the w key picks a window. */
	[COL_TX_RATE_2S] = { "tx_rate_2s",
			     COLUMN_REAL,
			     0,
			     false,
			     NUMTEXT_MAX,
			     get_tx_rate_2s,
			     { NULL },
			     true },
	[COL_RX_RATE_2S] = { "rx_rate_2s",
			     COLUMN_REAL,
			     0,
			     false,
			     NUMTEXT_MAX,
			     get_rx_rate_2s,
			     { NULL },
			     true },
	[COL_TX_RATE_10S] = { "tx_rate_10s",
			      COLUMN_REAL,
			      0,
			      false,
			      NUMTEXT_MAX,
			      get_tx_rate_10s,
			      { NULL },
			      true },
	[COL_RX_RATE_10S] = { "rx_rate_10s",
			      COLUMN_REAL,
			      0,
			      false,
			      NUMTEXT_MAX,
			      get_rx_rate_10s,
			      { NULL },
			      true },
	[COL_TX_RATE_40S] = { "tx_rate_40s",
			      COLUMN_REAL,
			      0,
			      false,
			      NUMTEXT_MAX,
			      get_tx_rate_40s,
			      { NULL },
			      true },
	[COL_RX_RATE_40S] = { "rx_rate_40s",
			      COLUMN_REAL,
			      0,
			      false,
			      NUMTEXT_MAX,
			      get_rx_rate_40s,
			      { NULL },
			      true },
	/* Its numbers come from the reader's history (output/format.c, ui_view.c): no value
	 * of its own. At most 40 numbers of up to 20 digits, space-separated. */
	[COL_HISTORY] = { "history",
			  COLUMN_TEXT,
			  0,
			  true,
			  RATE_HISTORY_LEN * 21,
			  NULL,
			  { "HISTORY", UNIT_HISTORY, 8, 12, RATE_HISTORY_LEN, 21, true },
			  true },
	[COL_BACKLOG] = { "backlog",
			  COLUMN_INTEGER,
			  0,
			  false,
			  INTEGER_MAX,
			  get_backlog,
			  { "BACKLOG", UNIT_COUNT, 7, 7, 7, 22, true },
			  true },
	[COL_BACKLOG_MAX] = { "backlog_max",
			      COLUMN_INTEGER,
			      0,
			      false,
			      INTEGER_MAX,
			      get_backlog_max,
			      { "MAXQ", UNIT_COUNT, 5, 5, 5, 23, true },
			      true },
	[COL_DROPS] = { "drops",
			COLUMN_INTEGER,
			0,
			false,
			INTEGER_MAX,
			get_drops,
			{ "DROPS", UNIT_COUNT, 6, 6, 6, 24, true },
			true },
	[COL_DROP_RATE] = { "drop_rate",
			    COLUMN_REAL,
			    1,
			    false,
			    NUMTEXT_MAX,
			    get_drop_rate,
			    { NULL },
			    true },
	[COL_SENDQ] = { "sendq",
			COLUMN_INTEGER,
			0,
			false,
			INTEGER_MAX,
			get_sendq,
			{ "SENDQ", UNIT_BYTES, 6, 8, 9, 25, true },
			true },
	[COL_RECVQ] = { "recvq",
			COLUMN_INTEGER,
			0,
			false,
			INTEGER_MAX,
			get_recvq,
			{ "RECVQ", UNIT_BYTES, 6, 8, 9, 25, true },
			true },
	[COL_CWND] = { "cwnd",
		       COLUMN_INTEGER,
		       0,
		       false,
		       INTEGER_MAX,
		       get_cwnd,
		       { "CWND", UNIT_COUNT, 5, 6, 6, 26, true },
		       true },
	[COL_DELIVERY_RATE] = { "delivery_rate",
				COLUMN_REAL,
				1,
				false,
				NUMTEXT_MAX,
				get_delivery_rate,
				{ "DLVRATE", UNIT_RATE, 8, 10, 12, 26, true },
				true },
	/* JSONL writes the shares as an object (output/format.c); max_len is its room. */
	[COL_LIMITED] = { "limited",
			  COLUMN_TEXT,
			  0,
			  true,
			  64,
			  get_limited,
			  { "LIMIT", UNIT_AS_IS, 4, 6, 6, 25, false },
			  true },
	[COL_ALERT] = { "alert", COLUMN_INTEGER, 0, true, 1, get_alert, { NULL }, true },
	/* Values come from view/group.c's group_value(). */
	GROUP_COUNT_COLUMN(COL_FLOWS, "flows", "FLOWS", 6, 3),
	GROUP_COUNT_COLUMN(COL_ESTABLISHED, "established", "ESTAB", 6, 15),
	GROUP_COUNT_COLUMN(COL_OPENING, "opening", "OPEN", 5, 16),
	GROUP_COUNT_COLUMN(COL_CLOSING, "closing", "CLOSING", 7, 17),
	GROUP_COUNT_COLUMN(COL_LISTEN, "listen", "LISTEN", 6, 18),
	GROUP_COUNT_COLUMN(COL_CLOSED, "closed", "CLOSED", 6, 19),
	GROUP_COUNT_COLUMN(COL_UDP, "udp", "UDP", 5, 20),
	[COL_PORT] = { "port",
		       COLUMN_INTEGER,
		       0,
		       false,
		       INTEGER_MAX,
		       NULL,
		       { "PORT", UNIT_AS_IS, 5, 5, 5, 0, true },
		       true,
		       true },
};

static void get_rate(const struct flow_row *row, struct column_value *out)
{
	set_real(out, row->tx_rate + row->rx_rate);
}

/* Every field is set, without clearing the whole value: sorting and writing call this once
 * per cell. */
void column_value(const struct flow_row *row, int id, struct column_value *out)
{
	out->kind = column_kind(id);
	out->is_null = false;
	out->integer = 0;
	out->real = 0;
	out->len = 0;
	if (id >= 0 && id < COL_COUNT && column_table[id].get)
		column_table[id].get(row, out);
	else if (id == COL_RATE)
		get_rate(row, out);
	else
		out->is_null = true; /* COL_TIME comes from the caller */
	out->text[out->len] = '\0';
}

void column_age_value(double age_s, struct column_value *out)
{
	out->kind = COLUMN_REAL;
	out->integer = 0;
	out->len = 0;
	out->text[0] = '\0';
	set_real(out, age_s);
}

void column_values(const struct flow_row *row, const struct column_list *list,
		   struct column_value values[COL_COUNT])
{
	for (int i = 0; i < list->count; i++)
		column_value(row, list->id[i], &values[list->id[i]]);
}

/* A text cell at worst: every byte a JSON \u00XX escape (six), or doubled in CSV quotes. */
size_t column_line_max(void)
{
	size_t total = 2; /* JSONL's braces, or CSV's newline and slack */

	for (int id = COL_TIME + 1; id < COL_COUNT; id++) {
		size_t value = (size_t)column_table[id].max_len;

		if (column_table[id].kind == COLUMN_TEXT && !column_table[id].plain)
			value = 6 * value + 2;
		else if (column_table[id].kind == COLUMN_TEXT)
			value += 2;
		total += value + 4 + strlen(column_table[id].name) + 1; /* ,"name": */
	}
	return total + 1;
}

/* Descending for numbers, without subtracting: unsigned differences do not fit an int. */
static int compare_numbers(const struct column_value *a, const struct column_value *b)
{
	if (a->kind == COLUMN_REAL)
		return (a->real < b->real) - (a->real > b->real);
	return (a->integer < b->integer) - (a->integer > b->integer);
}

int column_value_compare(const struct column_value *a, const struct column_value *b)
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
	order = column_value_compare(&va, &vb);
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

void column_value_sort_key(const struct column_value *v, struct column_sort_key *key)
{
	key->exact = true;
	if (v->is_null) {
		key->hi = key->lo = UINT64_MAX; /* after every value */
	} else if (v->kind == COLUMN_TEXT) {
		text_key(v->text, key);
	} else {
		key->hi = 0;
		key->lo = ~(v->kind == COLUMN_REAL ? real_order(v->real) : v->integer);
	}
}

void column_sort_key(const struct flow_row *row, int id, struct column_sort_key *key)
{
	struct column_value v;

	column_value(row, id, &v);
	column_value_sort_key(&v, key);
}

/* ---------------------------------------------------------------- choices */

void column_list_defaults(struct column_list *out)
{
	out->count = 0;
	for (int id = 0; id < COL_COUNT; id++)
		if (!column_table[id].extra)
			out->id[out->count++] = id;
}

void column_list_view(struct column_list *out)
{
	out->count = 0;
	for (int i = 0; i < COLUMN_VIEW_COUNT; i++)
		if (!column_table[column_view_order[i]].extra)
			out->id[out->count++] = column_view_order[i];
}

bool column_list_has(const struct column_list *list, int id)
{
	for (int i = 0; i < list->count; i++)
		if (list->id[i] == id)
			return true;
	return false;
}

void column_list_add(struct column_list *list, int id)
{
	if (id >= 0 && id < COL_COUNT && !column_list_has(list, id))
		list->id[list->count++] = id;
}

void column_list_remove(struct column_list *list, int id)
{
	int kept = 0;

	for (int i = 0; i < list->count; i++)
		if (list->id[i] != id)
			list->id[kept++] = list->id[i];
	list->count = kept;
}

/* The column named text[0..len), or -1. */
static int column_lookup_len(const char *text, size_t len)
{
	for (int id = 0; id < COL_COUNT; id++)
		if (strlen(column_table[id].name) == len &&
		    memcmp(text, column_table[id].name, len) == 0)
			return id;
	return -1;
}

int column_list_choose(const char *text, const struct column_list *defaults,
		       struct column_list *out, const char **bad, size_t *bad_len)
{
	const char *item = text;

	out->count = 0;
	if (*text == '+' || *text == '-')
		*out = *defaults;
	for (;;) {
		size_t len = strcspn(item, ",");
		bool drop = *item == '-';
		size_t skip = *item == '+' || *item == '-';
		int id = column_lookup_len(item + skip, len - skip);

		if (id < 0) {
			*bad = item + skip;
			*bad_len = len - skip;
			return -1;
		}
		if (drop)
			column_list_remove(out, id);
		else
			column_list_add(out, id);
		if (!item[len])
			return 0;
		item += len + 1;
	}
}
