/* The output thread: writes each published snapshot as CSV or JSONL to stdout (batch
 * mode) and/or the --log file, filtered and sorted as the options say. */
#ifndef TCPTOP_OUTPUT_H
#define TCPTOP_OUTPUT_H

#include <stdio.h>
#include "output/log_file.h"
#include "output/losses.h"
#include "options.h"
#include "snapshot.h"

enum output_status {
	OUTPUT_RUNNING,
	OUTPUT_DONE,        /* --count snapshots written */
	OUTPUT_STDOUT_GONE, /* EPIPE: the reader went away; stop quietly, exit 0 */
	OUTPUT_FAILED,      /* a write error on the log or stdout */
	OUTPUT_STOPPED,     /* the program is stopping (a signal): not an end of its own */
};

struct output_args {
	const struct options *opt;
	struct snapshot_feed *feed;
	FILE *stdout_sink; /* NULL when the TUI owns the terminal */
	struct log_file *log; /* NULL without --log */
	int notify_fd;     /* from snapshot_feed_subscribe() */
	int stop_fd;       /* readable when the program stops (never read) */
	int done_fd;       /* written when the thread ends by itself */
	enum output_status status;
	/* Loss counters: where the others come from, and this thread's own. */
	struct loss_sources loss_sources;
	struct losses losses_said;
	uint64_t *skipped; /* __atomic: snapshots it was too slow to write (the pipeline's) */
};

void *output_thread(void *args);
/* What --log holds: the snapshots' rows. Call before the threads start. */
const struct log_kind *output_log_kind(void);

#endif
