/* Snapshot rows as CSV or JSONL text, driven by the column table. */
#ifndef TCPTOP_FORMAT_H
#define TCPTOP_FORMAT_H

#include <stdio.h>
#include <time.h>
#include "flow_row.h"
#include "view/columns.h"
#include "view/rate_history.h"

enum output_format {
	FORMAT_CSV,
	FORMAT_JSONL,
};

/* Room for the longest line format_line() writes. */
#define FORMAT_LINE_MAX 8192
#define FORMAT_TIME_CELL_SIZE 256
#define FORMAT_JSON_KEY_SIZE 24
#define FORMAT_MAX_COLUMNS 48 /* at least COL_COUNT */

/* What every line of one snapshot shares, prepared once: the time cell and the keys. */
struct format_snapshot {
	enum output_format format;
	struct column_list output_columns; /* COL_TIME first */
	bool has_age;                      /* columns holds COL_AGE_S */
	/* The history column's numbers, by row key; NULL writes it empty (JSONL null). */
	const struct rate_history *history;
	size_t time_len;
	char time_cell[FORMAT_TIME_CELL_SIZE];
	unsigned char json_key_len[FORMAT_MAX_COLUMNS];
	char json_keys[FORMAT_MAX_COLUMNS][FORMAT_JSON_KEY_SIZE]; /* ,"name": */
};

/* "2026-11-23T14:05:01.250Z" (ISO-8601 UTC, milliseconds). out needs 32 bytes. */
void format_time_iso8601(const struct timespec *when, char *out, size_t len);
/* For the rows of a snapshot whose time reads time_text (NULL: no time), with the columns
 * of columns (COL_TIME first; NULL for all). Returns <0 with errno EOVERFLOW when the
 * time text is too long for a cell. */
int format_snapshot_init(struct format_snapshot *fs, enum output_format fmt,
			 const struct column_list *list, const char *time_text);
/* Writes the line of one row, newline included, at out (FORMAT_LINE_MAX bytes of room);
 * returns its length. */
size_t format_line(const struct format_snapshot *fs, const struct flow_row *row, char *out);

/* Where the parts of a line that change without its row changing lie: the time cell
 * ends at time_end (from 0, JSONL's brace included), the age value spans
 * [age_start, age_end) (both time_end when the line has no age). */
struct format_split {
	size_t time_end, age_start, age_end;
};

/* format_line(), saying where its time cell and age value lie (split may be NULL). */
size_t format_line_split(const struct format_snapshot *fs, const struct flow_row *row, char *out,
			 struct format_split *split);
/* The same from the values of every column (values[COL_TIME] unused): for rows that are
 * not flows (view/group.h). */
size_t format_line_values(const struct format_snapshot *fs,
			  const struct column_value values[COL_COUNT], const struct flow_key *key,
			  char *out, struct format_split *split);
/* The start of a line up to time_end, then the age value alone, as format_line() writes
 * them; each returns the end of what it wrote (with FORMAT_LINE_MAX of room). */
char *format_time_cell(const struct format_snapshot *fs, char *out);
char *format_age(const struct format_snapshot *fs, double age_s, char *out);
/* format_age() of flow_age_s(now_ns, first_seen_ns), the same bytes, faster. */
char *format_age_between(const struct format_snapshot *fs, uint64_t now_ns,
			 uint64_t first_seen_ns, char *out);
/* One cell as format_line() writes it, at p; the end of what it wrote. A column's value
 * (CSV: nothing for null; JSONL: null), or text (quoted, escaped as needed). For writers
 * of other lines (the closed-connection log). */
struct column_value;
char *format_value(char *p, enum output_format fmt, int id, const struct column_value *v);
char *format_text(char *p, enum output_format fmt, const char *text, size_t len);
/* Writes whole lines with one fwrite. Returns <0 on write error. */
int format_write(FILE *out, const char *text, size_t len);
/* The CSV header line of columns (NULL: all), newline included, at out (FORMAT_LINE_MAX
 * of room); its length, 0 for JSONL, which has none. */
size_t format_header_text(enum output_format fmt, const struct column_list *list, char *out);
/* CSV header line of every column (with newline); nothing for JSONL. Returns <0 on write
 * error. */
int format_header(FILE *out, enum output_format fmt);
/* One row with the snapshot's time text, with one fwrite. Returns <0 on error. */
int format_row(FILE *out, enum output_format fmt, const char *time_text,
	       const struct flow_row *row);

#endif
