/* The column table: the one description of a row's fields. CSV, JSONL, --sort, --help, the
 * live view and the man page's list all come from it; adding a column is one entry and its
 * value accessor. Column order here is the output order. */
#ifndef TCPTOP_COLUMNS_H
#define TCPTOP_COLUMNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "flow_row.h"

enum column_id {
	COL_TIME,
	COL_PID,
	COL_COMM,
	COL_PROTO,
	COL_LADDR,
	COL_LPORT,
	COL_RADDR,
	COL_RPORT,
	COL_STATE,
	COL_TX_BYTES,
	COL_RX_BYTES,
	COL_TX_PACKETS,
	COL_RX_PACKETS,
	COL_TX_RATE,
	COL_RX_RATE,
	COL_RTT_US,
	COL_RETRANS,
	COL_AGE_S,
	COL_NETNS,
	COL_CGROUP,
	COL_TX_RATE_2S, /* the window averages: 2 s, 10 s, 40 s (flow_windows.h) */
	COL_RX_RATE_2S,
	COL_TX_RATE_10S,
	COL_RX_RATE_10S,
	COL_TX_RATE_40S,
	COL_RX_RATE_40S,
	COL_HISTORY, /* the last intervals' rates (view/rate_history.h): its readers' own */
	COL_BACKLOG, /* a TCP listener's accept queue, its limit, its drops (listen_queues.h) */
	COL_BACKLOG_MAX,
	COL_DROPS,
	COL_DROP_RATE,
	COL_SENDQ, /* a TCP connection's health (tcp_health.h): queues, cwnd, rate, limit */
	COL_RECVQ,
	COL_CWND,
	COL_DELIVERY_RATE,
	COL_LIMITED,
	COL_ALERT, /* 1 above --alert (view/alert.h), 0 not; only with --alert */
	/* Grouped views only (--group, view/group.h): a group's flows, by state, and the
	 * service port it stands for. */
	COL_FLOWS,
	COL_ESTABLISHED,
	COL_OPENING,
	COL_CLOSING,
	COL_LISTEN,
	COL_CLOSED,
	COL_UDP,
	COL_PORT,
	COL_COUNT,
	/* Sort keys that are not output columns. */
	COL_RATE = COL_COUNT, /* tx_rate + rx_rate, the default sort */
};

enum column_kind {
	COLUMN_TEXT,    /* sorts ascending */
	COLUMN_INTEGER, /* sorts descending */
	COLUMN_REAL,    /* sorts descending; printed with the column's decimals */
};

struct column_value {
	enum column_kind kind;
	bool is_null; /* CSV: empty field; JSONL: null */
	uint64_t integer;
	double real;
	char text[128]; /* addresses, comm, state, proto, cgroup; always a string */
	size_t len;    /* of text */
};

/* How the live view writes a value, in units a person reads at a glance. */
enum column_unit {
	UNIT_AS_IS,    /* text, or an integer in full (a pid, a namespace) */
	UNIT_ENDPOINT, /* an address with its port: "10.0.0.1:443", "[::1]:22", a name */
	UNIT_RATE,     /* bytes/s: "1.21 MiB/s", or bits/s */
	UNIT_BYTES,    /* "1.21 MiB" */
	UNIT_COUNT,    /* "1.21k" */
	UNIT_USEC,     /* "250µs", "1.2ms" */
	UNIT_SECONDS,  /* "59s", "5m02s" */
	UNIT_HISTORY,  /* a sparkline of the rate history */
};

/* Where a column shows in the live view; title NULL for a column it does not show. */
struct column_view {
	const char *title;
	enum column_unit unit;
	int min_width; /* narrower than this, the column is dropped */
	int want_width;
	int max_width; /* what spare room may grow it to */
	int rank;      /* the order in which columns give way to a narrow terminal: 0 last */
	bool right;    /* numbers are right-aligned */
};

struct column {
	const char *name; /* CSV header, JSONL key, --sort */
	enum column_kind kind;
	int decimals; /* COLUMN_REAL only */
	bool plain;   /* COLUMN_TEXT that never needs CSV quotes or JSON escapes */
	/* The most bytes its value takes as text (before CSV quoting or JSON escapes). */
	int max_len;
	/* Its value in a row: sets what differs from a null-free zero (column_value()). */
	void (*get)(const struct flow_row *row, struct column_value *out);
	struct column_view view;
	bool extra;      /* not among the defaults: shown when -o or the c key asks for it */
	bool group_only; /* a group's (view/group.h): flow rows have no such value */
};

extern const struct column column_table[COL_COUNT];

/* The limited column's shares (app, cwnd, rwnd, sndbuf: enum tcp_limit) from its value. */
void column_limited_shares(const struct column_value *v, double share[4]);

/* The columns the live view can show, in its order (endpoints: laddr and raddr with
 * ports); by default those that are not extra. A group's own columns (group_only) show
 * in grouped views only. */
#define COLUMN_VIEW_COUNT 32
extern const int column_view_order[COLUMN_VIEW_COUNT];

/* A choice of columns (-o/--columns), in the order they are written. */
struct column_list {
	int count;
	int id[COL_COUNT];
};

/* Every column but the extras, in table order: what CSV and JSONL write by default. */
void column_list_defaults(struct column_list *out);
/* The live view's columns but the extras (column_view_order): what it shows by default. */
void column_list_view(struct column_list *out);
bool column_list_has(const struct column_list *list, int id);
/* Adds id at the end unless the list has it; removes it. */
void column_list_add(struct column_list *list, int id);
void column_list_remove(struct column_list *list, int id);
/* Applies the -o/--columns text to defaults: comma-separated names; "+NAME" adds to the
 * list, "-NAME" removes from it, and a list that starts with a plain name starts empty
 * (plain names after that add). Returns -1 with *bad pointing at the first unknown name
 * in text, its length in *bad_len (0 for an empty name). */
int column_list_choose(const char *text, const struct column_list *defaults,
		       struct column_list *out, const char **bad, size_t *bad_len);

/* A row's place in the --sort order of one column as two integers: rows whose keys differ
 * are in the order of their keys (lower first). Equal exact keys mean equal values, so
 * column_compare_flows() decides; equal inexact keys (long text) need column_compare(). */
struct column_sort_key {
	uint64_t hi, lo;
	bool exact;
};

/* Whether rows can be sorted by column id (a history is not one value). */
static inline bool column_sorts(int id)
{
	return id != COL_HISTORY;
}
/* Column (or sort key) by name, e.g. "tx_rate", "rate"; -1 when unknown. */
int column_lookup(const char *name);
/* Name of a column or sort key. */
const char *column_name(int id);
/* The value of one field of a row (or of the COL_RATE sort key). COL_TIME is per snapshot
 * and comes from the caller: column_value() leaves it null. */
void column_value(const struct flow_row *row, int id, struct column_value *out);
/* The age_s column's value for an age: what column_value() gives for a row of that age. */
void column_age_value(double age_s, struct column_value *out);
/* column_value() of the columns list names, each into values[its id] (COL_TIME null), in
 * one call: for writers of whole lines. The others are left as they were: computing every
 * column for every line cost a writer more than its own columns. */
void column_values(const struct flow_row *row, const struct column_list *list,
		   struct column_value values[COL_COUNT]);
/* Ordering for --sort: numbers descending, text ascending, ties broken by the flow key so
 * rows never swap places between snapshots. Returns <0, 0, >0 like strcmp. */
int column_compare(const struct flow_row *a, const struct flow_row *b, int sort_id);
/* The --sort order of two values of one column, without the tie break. */
int column_value_compare(const struct column_value *a, const struct column_value *b);
/* Its tie break: the flow key, an order that never changes. */
int column_compare_flows(const struct flow_row *a, const struct flow_row *b);
/* The longest a CSV or JSONL line of every column can be, escapes, separators and JSON
 * keys included, but for the time cell: format.c checks it against its room. */
size_t column_line_max(void);
/* The sort key of a row for sort_id, for sorting many rows with integer comparisons. */
void column_sort_key(const struct flow_row *row, int sort_id, struct column_sort_key *key);
/* The same for a value already read (a group's, view/group.h). */
void column_value_sort_key(const struct column_value *v, struct column_sort_key *key);

#endif
