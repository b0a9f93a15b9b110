/* An output thread: writes each published snapshot as CSV or JSONL, filtered and sorted
 * as the options say, to one stream: stdout (batch mode) or the --log file. Each stream
 * has its own thread, so a stalled stdout reader costs stdout its snapshots only. */
#ifndef TCPTOP_OUTPUT_H
#define TCPTOP_OUTPUT_H

#include <stdio.h>
#include "output/log_file.h"
#include "output/losses.h"
#include "output/stdout_sink.h"
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
	struct log_file *log;    /* the log's writer; NULL for stdout's */
	struct stdout_sink sink; /* stdout's writer: where it writes */
	bool says_losses;        /* the one writer that says losses on stderr */
	bool reports_cpu;        /* the one writer that says the steady CPU (-vv) */
	int notify_fd;     /* from snapshot_feed_subscribe() */
	int stop_fd;       /* readable when the program stops (never read) */
	int done_fd;       /* written when the thread ends by itself */
	int ack_fd;        /* -r: 1 is added for each snapshot written, or -1 */
	enum output_status status;
	/* Loss counters: where the others come from, and this thread's own. */
	struct loss_sources loss_sources;
	struct losses losses_said;
	/* __atomic: snapshots stdout's writer was too slow to write (the pipeline's); the
	 * log's writer counts its own in the log's health. */
	uint64_t *skipped;
};

void *output_thread(void *args);
/* What --log holds: the snapshots' rows, in columns (-o). Call before the threads start. */
const struct log_kind *output_log_kind(const struct column_list *list);

#endif
