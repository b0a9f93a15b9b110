/* Rows as CSV (RFC 4180) or JSONL text, one column table for both. Each line is built
 * whole in memory without stdio (numtext, addr_text), and lines are written with fwrite
 * only whole, so a log shared by several writers never holds half a row. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "view/columns.h"
#include "output/format.h"
#include "tcp_health.h"
#include "util/numtext.h"
#include "util/utf8.h"

/* Fixed-size copies (JSON keys, plain text, the time cell) may write this far past the end
 * of a line. */
#define FORMAT_SLACK 64

void format_time_iso8601(const struct timespec *when, char *out, size_t len)
{
	struct tm tm;
	char seconds[24];

	if (len == 0)
		return;
	if (!gmtime_r(&when->tv_sec, &tm) ||
	    strftime(seconds, sizeof(seconds), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		out[0] = '\0';
		return;
	}
	/* Truncated, not rounded: a row must never claim a later time than its drain. */
	snprintf(out, len, "%s.%03ldZ", seconds, when->tv_nsec / 1000000);
}

static char *put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

static const char hex_digits[] = "0123456789abcdef";

/* Text from outside (a process name any user can set) may hold what a terminal acts on:
 * controls and bytes that are not UTF-8 become \xHH, and backslash \\, so that the
 * escapes cannot be forged; other UTF-8 stays. Then RFC 4180 quoting, only when needed:
 * readers that trim blanks would lose leading or trailing ones, so those are quoted too. */
static bool csv_is_plain(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e || c == '\\' || c == ',' || c == '"')
			return false;
	}
	return n == 0 || (s[0] != ' ' && s[n - 1] != ' ');
}

static bool csv_needs_quotes(const char *s, size_t n)
{
	return n > 0 && (s[0] == ' ' || s[n - 1] == ' ' || memchr(s, ',', n) || memchr(s, '"', n));
}

static char *csv_escaped(char *p, const unsigned char *s, size_t avail)
{
	while (avail > 0) {
		size_t n = utf8_sequence_len(s, avail), len = n ? n : 1;

		if (n == 0 || utf8_is_control(s, n)) {
			for (size_t i = 0; i < len; i++) {
				p = put(p, "\\x", 2);
				*p++ = hex_digits[s[i] >> 4];
				*p++ = hex_digits[s[i] & 0xf];
			}
		} else if (*s == '\\' || *s == '"') {
			*p++ = (char)*s; /* \\, and "" inside quotes */
			*p++ = (char)*s;
		} else {
			p = put(p, (const char *)s, n);
		}
		s += len;
		avail -= len;
	}
	return p;
}

static char *csv_text(char *p, const char *s, size_t n)
{
	bool quoted;

	if (csv_is_plain(s, n))
		return put(p, s, n);
	quoted = csv_needs_quotes(s, n);
	if (quoted)
		*p++ = '"';
	p = csv_escaped(p, (const unsigned char *)s, n);
	if (quoted)
		*p++ = '"';
	return p;
}

/* JSON text must be UTF-8 (RFC 8259), but comm may hold any bytes, and the kernel's cut at
 * 15 bytes can split a character. Valid UTF-8 passes through but for controls (C0, DEL,
 * C1), written as \u00XX; each byte that is not part of a valid sequence becomes U+FFFD,
 * the replacement character, so strict parsers accept the line and nothing raw reaches
 * a terminal. */
static char *json_escaped(char *p, const unsigned char *s, size_t avail)
{
	while (avail > 0) {
		size_t n = utf8_sequence_len(s, avail);
		unsigned code = n == 2 ? (unsigned)(s[0] & 0x1f) << 6 | (s[1] & 0x3f) : s[0];

		if (*s == '"' || *s == '\\') {
			*p++ = '\\';
			*p++ = (char)*s;
		} else if (n == 0) {
			p = put(p, "\\ufffd", 6);
		} else if (utf8_is_control(s, n)) {
			p = put(p, "\\u00", 4);
			*p++ = hex_digits[code >> 4];
			*p++ = hex_digits[code & 0xf];
		} else {
			p = put(p, (const char *)s, n);
		}
		n = n ? n : 1;
		s += n;
		avail -= n;
	}
	return p;
}

/* Printable ASCII other than the quote and the backslash goes through as it is. */
static bool json_is_plain(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			return false;
	}
	return true;
}

static char *json_text(char *p, const char *s, size_t n)
{
	*p++ = '"';
	if (json_is_plain(s, n))
		p = put(p, s, n);
	else
		p = json_escaped(p, (const unsigned char *)s, n);
	*p++ = '"';
	return p;
}

/* All of v->text, whatever its length: one fixed-size copy instead of a call. */
static char *put_whole_text(char *p, const struct column_value *v)
{
	memcpy(p, v->text, sizeof(v->text));
	return p + v->len;
}

/* Plain text as it is; other text (comm) through quoting or escaping. */
static char *put_text(char *p, bool json, int id, const struct column_value *v)
{
	if (!column_table[id].plain)
		return json ? json_text(p, v->text, v->len) : csv_text(p, v->text, v->len);
	if (!json)
		return put_whole_text(p, v);
	*p++ = '"';
	p = put_whole_text(p, v);
	*p++ = '"';
	return p;
}

/* The time cell, with a fixed-size copy when it is short (it always is but in tests). */
static char *put_time_cell(char *p, const struct format_snapshot *fs)
{
	if (fs->time_len > 48)
		return put(p, fs->time_cell, fs->time_len);
	memcpy(p, fs->time_cell, 48);
	return p + fs->time_len;
}

/* CSV: the value or nothing; JSONL: null when there is none. */
/* JSONL's limited: the share of each limit, {"app":0.1,"cwnd":0.9,"rwnd":0,"sndbuf":0}. */
static char *put_limited_shares(char *p, const struct column_value *v)
{
	double share[TCP_LIMIT_COUNT];

	column_limited_shares(v, share);
	*p++ = '{';
	for (int i = 0; i < TCP_LIMIT_COUNT; i++) {
		if (i)
			*p++ = ',';
		*p++ = '"';
		p = put(p, tcp_limit_names[i], strlen(tcp_limit_names[i]));
		p = put(p, "\":", 2);
		p = numtext_fixed(p, share[i], 2);
	}
	*p++ = '}';
	return p;
}

static char *put_value(char *p, bool json, int id, const struct column_value *v)
{
	if (v->is_null)
		return json ? put(p, "null", 4) : p;
	if (json && id == COL_LIMITED)
		return put_limited_shares(p, v);
	if (v->kind == COLUMN_TEXT)
		return put_text(p, json, id, v);
	if (v->kind == COLUMN_REAL)
		return numtext_fixed(p, v->real, column_table[id].decimals);
	return numtext_u64(p, v->integer);
}

char *format_value(char *p, enum output_format fmt, int id, const struct column_value *v)
{
	return put_value(p, fmt == FORMAT_JSONL, id, v);
}

char *format_text(char *p, enum output_format fmt, const char *text, size_t len)
{
	return fmt == FORMAT_JSONL ? json_text(p, text, len) : csv_text(p, text, len);
}

size_t format_line_split(const struct format_snapshot *fs, const struct flow_row *row, char *out,
			 struct format_split *split)
{
	struct column_value values[COL_COUNT];

	column_values(row, &fs->output_columns, values);
	return format_line_values(fs, values, &row->key, out, split);
}

/* The rates of the row's history, oldest first, in whole bytes/s as tx_rate is written
 * (at most 2^64, so that 40 of them fit the column's room): CSV "0 1200 800" in one
 * field, JSONL [0,1200,800]. */
static char *put_history(char *p, bool json, const struct rate_history *h,
			 const struct flow_key *key)
{
	double rates[RATE_HISTORY_LEN];
	size_t n;

	if (!h)
		return json ? put(p, "null", 4) : p;
	n = rate_history_get(h, key, rates);
	if (json)
		*p++ = '[';
	for (size_t i = 0; i < n; i++) {
		if (i)
			*p++ = json ? ',' : ' ';
		p = numtext_fixed(p, rates[i] < 0x1p64 ? rates[i] : 0x1p64, 0);
	}
	if (json)
		*p++ = ']';
	return p;
}

size_t format_line_values(const struct format_snapshot *fs,
			  const struct column_value values[COL_COUNT], const struct flow_key *key,
			  char *out, struct format_split *split)
{
	bool json = fs->format == FORMAT_JSONL;
	char *p = out;

	if (json)
		*p++ = '{';
	p = put_time_cell(p, fs); /* COL_TIME, with its key */
	if (split)
		split->time_end = split->age_start = split->age_end = (size_t)(p - out);
	for (int i = 1; i < fs->output_columns.count; i++) {
		int id = fs->output_columns.id[i];

		if (json) {
			memcpy(p, fs->json_keys[id], sizeof(fs->json_keys[id]));
			p += fs->json_key_len[id];
		} else {
			*p++ = ',';
		}
		if (split && id == COL_AGE_S)
			split->age_start = (size_t)(p - out);
		if (id == COL_HISTORY)
			p = put_history(p, json, fs->history, key);
		else
			p = put_value(p, json, id, &values[id]);
		if (split && id == COL_AGE_S)
			split->age_end = (size_t)(p - out);
	}
	if (json)
		*p++ = '}';
	*p++ = '\n';
	return (size_t)(p - out);
}

size_t format_line(const struct format_snapshot *fs, const struct flow_row *row, char *out)
{
	return format_line_split(fs, row, out, NULL);
}

char *format_time_cell(const struct format_snapshot *fs, char *out)
{
	if (fs->format == FORMAT_JSONL)
		*out++ = '{';
	return put_time_cell(out, fs);
}

/* In milliseconds, as numtext_fixed(flow_age_s(), 3) rounds the age's double, without the
 * double: the double is within 10^-4 ms of the exact age for ages below 10^18 ns, so the
 * two round alike unless the age lies within a microsecond of half a millisecond. */
char *format_age_between(const struct format_snapshot *fs, uint64_t now_ns,
			 uint64_t first_seen_ns, char *out)
{
	uint64_t ns = now_ns > first_seen_ns ? now_ns - first_seen_ns : 0;
	uint64_t below_ms = ns % 1000000;

	if (ns >= UINT64_C(1000000000000000000) || (below_ms > 499000 && below_ms < 501000))
		return format_age(fs, flow_age_s(now_ns, first_seen_ns), out);
	return numtext_scaled(out, (ns + 500000) / 1000000, 3);
}

char *format_age(const struct format_snapshot *fs, double age_s, char *out)
{
	struct column_value v;

	column_age_value(age_s, &v);
	return put_value(out, fs->format == FORMAT_JSONL, COL_AGE_S, &v);
}

/* The time cell with its key, as format_line() writes it first, or -1 when it does not
 * fit. */
static int prepare_time_cell(struct format_snapshot *fs, const char *time_text)
{
	bool json = fs->format == FORMAT_JSONL;
	size_t n = time_text ? strlen(time_text) : 0;
	char *p = fs->time_cell;

	if (json ? 8 + 6 * n + 2 > sizeof(fs->time_cell) : 4 * n + 2 > sizeof(fs->time_cell))
		return -1;
	if (json)
		p = put(p, "\"time\":", 7);
	if (!time_text)
		p = json ? put(p, "null", 4) : p;
	else
		p = json ? json_text(p, time_text, n) : csv_text(p, time_text, n);
	fs->time_len = (size_t)(p - fs->time_cell);
	return 0;
}

int format_snapshot_init(struct format_snapshot *fs, enum output_format fmt,
			 const struct column_list *list, const char *time_text)
{
	_Static_assert(COL_TIME == 0, "the time cell opens the line");
	_Static_assert(COL_COUNT <= FORMAT_MAX_COLUMNS, "FORMAT_MAX_COLUMNS is too small");
	/* The room a line needs, from the column table: a bug, not an input, if it lacks. */
	if (FORMAT_TIME_CELL_SIZE + column_line_max() + FORMAT_SLACK > FORMAT_LINE_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	fs->format = fmt;
	if (list)
		fs->output_columns = *list;
	else
		column_list_defaults(&fs->output_columns);
	if (fs->output_columns.count < 1 || fs->output_columns.id[0] != COL_TIME) {
		errno = EINVAL;
		return -1;
	}
	fs->has_age = column_list_has(&fs->output_columns, COL_AGE_S);
	fs->history = NULL;
	for (int id = 1; id < COL_COUNT; id++) {
		char *p = fs->json_keys[id];
		size_t n = strlen(column_table[id].name);

		if (n + 4 > sizeof(fs->json_keys[id])) {
			errno = EOVERFLOW;
			return -1;
		}
		*p++ = ',';
		p = json_text(p, column_table[id].name, n);
		*p++ = ':';
		fs->json_key_len[id] = (unsigned char)(p - fs->json_keys[id]);
	}
	if (prepare_time_cell(fs, time_text) < 0) {
		errno = EOVERFLOW;
		return -1;
	}
	return 0;
}

size_t format_header_text(enum output_format fmt, const struct column_list *list, char *out)
{
	struct column_list all;
	char *p = out;

	if (fmt != FORMAT_CSV)
		return 0;
	if (!list) {
		column_list_defaults(&all);
		list = &all;
	}
	for (int i = 0; i < list->count; i++) {
		int id = list->id[i];

		if (i > 0)
			*p++ = ',';
		p = put(p, column_table[id].name, strlen(column_table[id].name));
	}
	*p++ = '\n';
	return (size_t)(p - out);
}

int format_header(FILE *out, enum output_format fmt)
{
	char line[FORMAT_LINE_MAX];
	size_t len = format_header_text(fmt, NULL, line);

	return len ? format_write(out, line, len) : 0;
}

int format_write(FILE *out, const char *text, size_t len)
{
	if (fwrite(text, 1, len, out) != len || ferror(out))
		return -1;
	return 0;
}

int format_row(FILE *out, enum output_format fmt, const char *time_text,
	       const struct flow_row *row)
{
	struct format_snapshot fs;
	char line[FORMAT_LINE_MAX];

	if (format_snapshot_init(&fs, fmt, NULL, time_text) < 0)
		return -1;
	return format_write(out, line, format_line(&fs, row, line));
}
