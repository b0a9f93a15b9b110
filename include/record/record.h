/* -w/--write and -r/--read: the recording's writer thread, the replay thread that
 * publishes a recording's snapshots in place of the collector and compute threads, and
 * the backend that opens a recording (it loads nothing and needs no privilege). */
#ifndef TCPTOP_RECORD_H
#define TCPTOP_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include "backend.h"
#include "output/log_file.h"
#include "snapshot.h"

/* What -w's file is, for log_file_open(). */
const struct log_kind *record_log_kind(void);

struct record_writer_args {
	struct snapshot_feed *feed;
	struct log_file *file;
	int notify_fd; /* from snapshot_feed_subscribe() */
	int stop_fd;
};

void *record_writer_thread(void *args);

extern const struct backend_ops backend_recording_ops;

/* --begin/--end as given; "" for none. Either an ISO-8601 prefix of the CSV's time
 * (2026-12-04T03:12:05.123Z down to 2026-12-04) or HH:MM[:SS]. */
struct replay_control;

struct record_range {
	const char *begin, *end;
};

/* Whether text is a time --begin/--end takes. */
bool record_time_valid(const char *text);

struct replay_args {
	struct backend *backend; /* backend_recording_ops, opened */
	struct snapshot_feed *feed;
	struct record_range range;
	/* The live view's keys steer the replay through it (replay_live.h), at the recorded
	 * pace; NULL in batch, which reads as fast as the writers take the snapshots. */
	struct replay_control *control;
	unsigned acks; /* writers that ack each snapshot on ack_fd before the next */
	int ack_fd;    /* eventfd the writers add 1 to per snapshot written */
	int stop_fd;
	int done_fd;   /* signalled once the last snapshot was published and acked */
	bool finished; /* __atomic: set before done_fd */
};

void *replay_thread(void *args);

#endif
