/* The --log file: opened safely (no symbolic links, regular files only, 0600, appended),
 * written one snapshot at a time as plain text or, for a PATH ending in ".gz", one gzip
 * member per snapshot; reopened on request (SIGHUP, for logrotate); and kept to whole
 * rows when writes fail, which it says once, counts and retries each snapshot.
 *
 * One thread writes (the log's writer); any thread may ask for a reopen; the UI reads
 * the health without locks. */
#ifndef TCPTOP_LOG_FILE_H
#define TCPTOP_LOG_FILE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "output/format.h"

/* What the live view's header shows while the log fails. */
struct log_health {
	_Atomic(const char *) failing; /* why (static text), NULL while the log works */
	atomic_uint_least64_t lost;    /* snapshots not logged whole since start */
};

struct log_file;

/* What a log holds, and how its messages name it. */
struct log_kind {
	const char *option;       /* "-l/--log": opening errors start with it */
	const char *noun;         /* "log": "log 'PATH' is failing..." */
	const char *unit;         /* "snapshot": what one begin..end writes */
	const char *const *names; /* its columns, in order: the CSV header, the JSONL keys */
	size_t count;
	/* A binary file (the recording): each snapshot's bytes are written with one write(),
	 * a new file starts with header, and an existing one is appended to only if check
	 * says so (it may cut off an incomplete end; why is one phrase when it refuses). */
	const uint8_t *header;
	size_t header_len;
	int (*check)(const char *path, int rfd, int wfd, off_t size, char *why, size_t why_len);
};

/* Opens or creates path for appending. Refusals (not a regular file, a symbolic link, a
 * header of another schema, any error) are reported in one line; NULL then. kind must
 * outlive the log. */
struct log_file *log_file_open(const char *path, enum output_format format,
			       const struct log_kind *kind);
/* The CSV header of kind's lines, newline included, at out (FORMAT_LINE_MAX of room). */
size_t log_kind_header(const struct log_kind *kind, char *out);
/* Ends the log; says how many snapshots were not logged, if any. NULL is fine. */
void log_file_close(struct log_file *lf);
/* Any thread: close and reopen the path before the next snapshot (logrotate's SIGHUP). */
void log_file_request_reopen(struct log_file *lf);
const struct log_health *log_file_health(const struct log_file *lf);

/* The log's writer, for each snapshot: begin, append its lines (whole lines only, in as
 * many pieces as wanted), end. end(lf, false) drops what a gzip log has not written yet
 * (the snapshot was cut short) without counting it as lost. */
void log_file_begin(struct log_file *lf);
void log_file_append(struct log_file *lf, const char *text, size_t len);
void log_file_end(struct log_file *lf, bool whole);
/* The log's writer, after begin: whether what it writes now starts the file anew for a
 * reader: the file was (re)opened, or the last snapshot did not reach it whole. */
bool log_file_fresh(const struct log_file *lf);
/* The log's writer: n snapshots it skipped (it was slower than the interval) count as
 * not logged. */
void log_file_skipped(struct log_file *lf, uint64_t n);

#endif
