/* The UI thread: owns the terminal (ncurses) while the live view runs. It reads the
 * latest snapshot, draws it, and answers keys; the other threads never touch the screen. */
#ifndef TCPTOP_UI_H
#define TCPTOP_UI_H

#include "output/closed_log.h"
#include "output/log_file.h"
#include "options.h"
#include "record/replay_live.h"
#include "snapshot.h"

struct ui_args {
	const struct options *opt;
	struct snapshot_feed *feed;
	int notify_fd; /* from snapshot_feed_subscribe() */
	int stop_fd;   /* readable when the program stops (never read) */
	int quit_fd;   /* written when the user quits */
	int failed_fd; /* written when the screen cannot be used; a line has been reported */
	const struct log_health *log_health;           /* NULL without --log */
	const struct closed_log_health *closed_health; /* NULL without --closed */
	const struct log_health *record_health;        /* NULL without -w */
	const uint64_t *output_skipped;                /* stdout's writer's (batch), __atomic */
	struct replay_control *replay;                 /* -r: the keys steer it; NULL live */
};

void *ui_thread(void *args);

#endif
