/* A recording on disk: read (-r) record by record, and checked before -w appends to it.
 * A recording cut short by SIGKILL or a power cut ends in an incomplete record: reading
 * ignores it with one warning, and appending cuts it off first. */
#ifndef TCPTOP_RECORD_FILE_H
#define TCPTOP_RECORD_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "record/record_codec.h"

struct record_reader;

/* Opens path read-only and checks its header; NULL after one line on stderr. */
struct record_reader *record_reader_open(const char *path);
void record_reader_close(struct record_reader *r);
/* The time of the first record (CLOCK_REALTIME ns); false for a recording without one. */
bool record_reader_first_time(struct record_reader *r, uint64_t *real_ns);
/* Positions the reader at the last key record whose time is at or before real_ns (so
 * that the snapshot of real_ns, if any, can be decoded), or at the start. */
void record_reader_seek(struct record_reader *r, uint64_t real_ns);
/* The next snapshot, the caller's reference; NULL at the end. Damaged records are skipped
 * with one warning each, an incomplete last one with one warning. */
struct snapshot *record_reader_next(struct record_reader *r);
/* Every record record_reader_next() would decode, in order, without inflating one and
 * without a word on stderr: fn gets where it starts (for record_reader_goto) and its
 * fixed part. The reader's position does not move. */
typedef void (*record_walk_fn)(void *ctx, size_t pos, const struct record_header *h);
void record_reader_walk(struct record_reader *r, record_walk_fn fn, void *ctx);
/* Positions the reader at a key record's start, as the walk gave it. */
void record_reader_goto(struct record_reader *r, size_t pos);

/* For -w: the recording at rfd (size bytes) may be appended to. 0, after cutting off
 * through wfd an incomplete last record (said on stderr); -1 with why set when it is not
 * a recording of this format. */
int record_file_check_existing(const char *path, int rfd, int wfd, off_t size, char *why,
			       size_t why_len);

#endif
