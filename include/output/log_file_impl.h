/* Inside the --log module: the state log_file.c (writing) and log_open.c (opening and
 * checking the path) share. Nothing else includes this. */
#ifndef TCPTOP_LOG_FILE_IMPL_H
#define TCPTOP_LOG_FILE_IMPL_H

#include <sys/types.h>
#include <zlib.h>
#include "output/log_file.h"

#define LOG_DETAIL_MAX 512

struct log_file {
	const char *path;
	enum output_format format;
	const struct log_kind *kind;
	bool gzip;                   /* the path ends in ".gz" */
	bool binary;                 /* kind->header: bytes, written whole with one write() */
	bool fresh;                  /* log_file_fresh() */
	int fd;                      /* -1 while the path cannot be opened */
	atomic_uint reopen_requests; /* asked by any thread */
	unsigned reopens_done;       /* of those, seen by the writer */
	/* The snapshot being written. */
	bool failed;                 /* some of it did not reach the file */
	const char *why;             /* why, in a few words (static text) */
	char detail[LOG_DETAIL_MAX]; /* why, in full, and what to do */
	/* gzip: the snapshot's member, built in memory, written with one write(). */
	z_stream z;
	bool z_ready;
	unsigned char *member;
	size_t member_len, member_room;
	/* Across snapshots. */
	bool failing; /* said on stderr, until a snapshot is written whole again */
	uint64_t lost;
	struct log_health health;
};

/* Opens lf->path into lf->fd with every check; on a refusal, -1 with lf->why and
 * lf->detail set (and lf->failed). */
int log_open_path(struct log_file *lf);
/* Cuts off what a killed run left unfinished at the end of an existing log of size bytes:
 * half a row, or a gzip member cut short. rfd reads it, wfd is the log's. */
void log_repair_tail(struct log_file *lf, int rfd, int wfd, off_t size);
/* Sets why and detail (printf-like) and failed; returns -1. */
int log_refuse(struct log_file *lf, const char *why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* strerror's text, static (safe to publish to other threads). */
const char *log_error_text(int err);

#endif
