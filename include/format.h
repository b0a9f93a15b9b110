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

/* "2026-11-23T14:05:01.250Z" (ISO-8601 UTC, milliseconds). out needs 32 bytes. */
void format_time_iso8601(const struct timespec *when, char *out, size_t len);
/* CSV header line (with newline); nothing for JSONL. Returns <0 on write error. */
int format_header(FILE *out, enum output_format fmt);
/* One row with the snapshot's time text. Returns <0 on write error. */
int format_row(FILE *out, enum output_format fmt, const char *time_text,
	       const struct flow_row *row);

#endif
