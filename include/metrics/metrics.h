/* The metrics thread (--metrics): a snapshot reader like the live view and the writers.
 * On each snapshot published it folds the newest into its ledger (metrics_state.h),
 * holding the snapshot only while it does; between snapshots it serves scrapes from the
 * ledger. It never takes a lock the collector or compute thread takes, and starts after
 * the BPF programs are loaded: it needs no privilege at all. */
#ifndef TCPTOP_METRICS_H
#define TCPTOP_METRICS_H

#include <stdint.h>
#include "metrics/metrics_http.h"
#include "metrics/metrics_state.h"
#include "metrics/snapshot_facts.h"
#include "options.h"
#include "output/losses.h"
#include "snapshot.h"

struct metrics_args {
	const struct options *opt;
	struct snapshot_feed *feed;
	struct loss_sources loss_sources;
	int notify_fd; /* from snapshot_feed_subscribe() */
	int stop_fd;   /* readable when the program stops (never read) */
	/* Made by metrics_open(), used by the thread only. */
	struct metrics_http *http;
	struct metrics_state state;
	struct snapshot_facts facts;
};

/* Listen (before the threads start, so that a taken port ends tcptop with status 1);
 * says on stderr where, when the address reaches beyond loopback. -1 with a line reported. */
int metrics_open(struct metrics_args *args);
void *metrics_thread(void *args);
/* After the thread has ended. */
void metrics_close(struct metrics_args *args);

#endif
