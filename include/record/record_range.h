/* --begin/--end, and the live view's jump to a time, resolved against a recording: the
 * text a snapshot's CSV time must start at or after (begin) and at or before (end),
 * compared at the precision given. */
#ifndef TCPTOP_RECORD_RANGE_H
#define TCPTOP_RECORD_RANGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "record/record.h"

struct record_times {
	char begin[40], end[40];
	size_t begin_len, end_len; /* 0: no bound */
};

/* The times given (record_time_valid ones, or NULL), a bare time of day on the day of
 * first_ns (the recording's first snapshot, CLOCK_REALTIME). */
void record_range_resolve(struct record_times *r, const struct record_range *given,
			  uint64_t first_ns);
/* <0 before the range, 0 in it, >0 after it. */
int record_range_place(const struct record_times *r, const struct timespec *t);
/* The first moment the begin text can name: where reading may start. */
uint64_t record_range_begin_ns(const struct record_times *r);

#endif
