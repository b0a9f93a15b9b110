/* Rows as CSV (RFC 4180) or JSONL text, one column table for both. Every line is built in
 * memory and written with one fwrite, so a log shared by several writers never holds half
 * a row. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include "columns.h"
#include "format.h"

/* A row's worst case is far below this: 19 fields of at most 63 bytes, each at most six
 * times longer when escaped, and three %.0f reals of at most ~310 digits. */
#define FORMAT_LINE_SIZE 8192

struct line {
	char text[FORMAT_LINE_SIZE];
	size_t len;
	bool overflow;
};

static void line_init(struct line *l)
{
	l->len = 0;
	l->overflow = false;
}

static void line_add(struct line *l, const char *s, size_t n)
{
	if (l->overflow || n > sizeof(l->text) - l->len) {
		l->overflow = true;
		return;
	}
	memcpy(l->text + l->len, s, n);
	l->len += n;
}

static void line_addc(struct line *l, char c)
{
	line_add(l, &c, 1);
}

static void line_adds(struct line *l, const char *s)
{
	line_add(l, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
static void line_printf(struct line *l, const char *fmt, ...)
{
	char piece[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(piece, sizeof(piece), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(piece))
		l->overflow = true;
	else
		line_add(l, piece, (size_t)n);
}

static int line_write(FILE *out, const struct line *l)
{
	if (l->overflow) {
		errno = EOVERFLOW;
		return -1;
	}
	if (fwrite(l->text, 1, l->len, out) != l->len || ferror(out))
		return -1;
	return 0;
}

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

/* The value of one field, with the snapshot's time filled in for COL_TIME (cut to the
 * 63 bytes a column value holds; an ISO-8601 stamp needs 24). */
static void row_field(const struct flow_row *row, const char *time_text, int id,
		      struct column_value *v)
{
	column_value(row, id, v);
	if (id == COL_TIME && time_text) {
		v->is_null = false;
		snprintf(v->text, sizeof(v->text), "%s", time_text);
	}
}

static void add_number(struct line *l, int id, const struct column_value *v)
{
	if (v->kind == COLUMN_REAL)
		line_printf(l, "%.*f", columns[id].decimals, v->real);
	else
		line_printf(l, "%" PRIu64, v->integer);
}

/* RFC 4180 quoting, only when needed. Readers that trim blanks would lose leading or
 * trailing ones, so those are quoted too. */
static bool csv_needs_quotes(const char *s)
{
	size_t n = strlen(s);

	if (n > 0 && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		return true;
	return strpbrk(s, ",\"\r\n") != NULL;
}

static void csv_add_text(struct line *l, const char *s)
{
	if (!csv_needs_quotes(s)) {
		line_adds(l, s);
		return;
	}
	line_addc(l, '"');
	for (; *s; s++) {
		if (*s == '"')
			line_addc(l, '"');
		line_addc(l, *s);
	}
	line_addc(l, '"');
}

static void csv_add_field(struct line *l, int id, const struct column_value *v)
{
	if (id > 0)
		line_addc(l, ',');
	if (v->is_null)
		return;
	if (v->kind == COLUMN_TEXT)
		csv_add_text(l, v->text);
	else
		add_number(l, id, v);
}

/* Length of the valid UTF-8 sequence at s (at most avail bytes), 0 when it is not one.
 * Refuses overlong forms, UTF-16 surrogates and code points above U+10FFFF. */
static size_t utf8_sequence_len(const unsigned char *s, size_t avail)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (len > avail || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* JSON text must be UTF-8 (RFC 8259), but comm may hold any bytes, and the kernel's cut at
 * 15 bytes can split a character. Valid UTF-8 passes through; each byte that is not part of
 * a valid sequence is escaped as \u00XX, so strict parsers still accept the line and the
 * byte's value is kept. */
static void json_add_text(struct line *l, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t avail = strlen(text);

	line_addc(l, '"');
	while (avail > 0) {
		size_t n = utf8_sequence_len(s, avail);

		if (*s == '"' || *s == '\\') {
			line_addc(l, '\\');
			line_addc(l, (char)*s);
		} else if (*s < 0x20 || n == 0) {
			line_printf(l, "\\u%04x", *s);
		} else {
			line_add(l, (const char *)s, n);
		}
		n = n ? n : 1;
		s += n;
		avail -= n;
	}
	line_addc(l, '"');
}

static void json_add_field(struct line *l, int id, const struct column_value *v)
{
	if (id > 0)
		line_addc(l, ',');
	json_add_text(l, columns[id].name);
	line_addc(l, ':');
	if (v->is_null)
		line_adds(l, "null");
	else if (v->kind == COLUMN_TEXT)
		json_add_text(l, v->text);
	else
		add_number(l, id, v);
}

int format_header(FILE *out, enum output_format fmt)
{
	struct line l;

	if (fmt != FORMAT_CSV)
		return 0;
	line_init(&l);
	for (int id = 0; id < COL_COUNT; id++) {
		if (id > 0)
			line_addc(&l, ',');
		line_adds(&l, columns[id].name);
	}
	line_addc(&l, '\n');
	return line_write(out, &l);
}

int format_row(FILE *out, enum output_format fmt, const char *time_text,
	       const struct flow_row *row)
{
	bool json = fmt == FORMAT_JSONL;
	struct column_value v;
	struct line l;

	line_init(&l);
	if (json)
		line_addc(&l, '{');
	for (int id = 0; id < COL_COUNT; id++) {
		row_field(row, time_text, id, &v);
		if (json)
			json_add_field(&l, id, &v);
		else
			csv_add_field(&l, id, &v);
	}
	if (json)
		line_addc(&l, '}');
	line_addc(&l, '\n');
	return line_write(out, &l);
}
