/* Snapshot rows as CSV or JSONL text, driven by the column table. */
#ifndef TCPTOP_FORMAT_H
#define TCPTOP_FORMAT_H

#include <stdio.h>
#include <time.h>
#include "flow_row.h"

enum output_format {
	FORMAT_CSV,
	FORMAT_JSONL,
};

/* Room for the longest line format_line() writes. */
#define FORMAT_LINE_MAX 4096
#define FORMAT_TIME_CELL_SIZE 256
#define FORMAT_JSON_KEY_SIZE 24
#define FORMAT_MAX_COLUMNS 24 /* at least COL_COUNT */

/* What every line of one snapshot shares, prepared once: the time cell and the keys. */
struct format_snapshot {
	enum output_format format;
	size_t time_len;
	char time_cell[FORMAT_TIME_CELL_SIZE];
	unsigned char json_key_len[FORMAT_MAX_COLUMNS];
	char json_keys[FORMAT_MAX_COLUMNS][FORMAT_JSON_KEY_SIZE]; /* ,"name": */
};

/* "2026-11-23T14:05:01.250Z" (ISO-8601 UTC, milliseconds). out needs 32 bytes. */
void format_time_iso8601(const struct timespec *when, char *out, size_t len);
/* For the rows of a snapshot whose time reads time_text (NULL: no time). Returns <0 with
 * errno EOVERFLOW when the time text is too long for a cell. */
int format_snapshot_init(struct format_snapshot *fs, enum output_format fmt,
			 const char *time_text);
/* Writes the line of one row, newline included, at out (FORMAT_LINE_MAX bytes of room);
 * returns its length. */
size_t format_line(const struct format_snapshot *fs, const struct flow_row *row, char *out);
/* Writes whole lines with one fwrite. Returns <0 on write error. */
int format_write(FILE *out, const char *text, size_t len);
/* CSV header line (with newline); nothing for JSONL. Returns <0 on write error. */
int format_header(FILE *out, enum output_format fmt);
/* One row with the snapshot's time text, with one fwrite. Returns <0 on error. */
int format_row(FILE *out, enum output_format fmt, const char *time_text,
	       const struct flow_row *row);

#endif
