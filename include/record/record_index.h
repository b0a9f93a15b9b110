/* The live view's way around a recording: every snapshot it holds (within --begin and
 * --end), found once by a walk over the records' fixed parts, and any one of them decoded
 * on demand from the key record it depends on. The reader only goes forward; going back
 * is a seek to that key and a replay of the deltas after it, so a snapshot reads the
 * same whichever way it is reached (and as -r -b prints it). */
#ifndef TCPTOP_RECORD_INDEX_H
#define TCPTOP_RECORD_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include "record/record_file.h"
#include "record/record_range.h"
#include "snapshot.h"

struct record_entry {
	uint64_t real_ns;  /* the snapshot's time */
	size_t key_pos;    /* where the key record it is decoded from starts */
	uint32_t from_key; /* records decoded after that key to reach it (0: it is the key) */
};

struct record_index {
	struct record_entry *entries;
	size_t n, room;
	size_t next;       /* the entry record_reader_next() yields next without a seek, or n */
	uint64_t first_ns; /* the recording's first snapshot, in range or not: its day is
			    * the one a bare time of day is on, as for --begin */
};

/* The snapshots of r within range (no bound: every one); -1 when out of memory. */
int record_index_build(struct record_index *x, struct record_reader *r,
		       const struct record_times *range);
void record_index_free(struct record_index *x);
/* Snapshot i of the index (i < x->n), the caller's reference; NULL when it cannot be
 * decoded after all (a malformed payload under a good checksum: said on stderr). */
struct snapshot *record_index_fetch(struct record_index *x, struct record_reader *r, size_t i);
/* The first entry whose time is at or after text (a record_time_valid time, a bare time
 * of day on the recording's first day), or x->n when none is. */
size_t record_index_find(const struct record_index *x, const char *text);

#endif
