/* The pipeline: a backend, the flow table, and the collector, compute and writer threads
 * (stdout's, the log's) wired together through eventfds and the snapshot feed. main()
 * and the tests run it. */
#ifndef TCPTOP_PIPELINE_H
#define TCPTOP_PIPELINE_H

#include <pthread.h>
#include <stdio.h>
#include "backend.h"
#include "collector.h"
#include "compute.h"
#include "flow_table.h"
#include "metrics/metrics.h"
#include "output/closed_log.h"
#include "output/log_file.h"
#include "options.h"
#include "output/output.h"
#include "record/record.h"
#include "record/replay_live.h"
#include "snapshot.h"
#include "ui/ui.h"

enum pipeline_end {
	PIPELINE_COUNT_REACHED,
	PIPELINE_STDOUT_GONE,
	PIPELINE_SIGNALLED,
	PIPELINE_FAILED,
	PIPELINE_QUIT, /* the user quit the live view */
};

struct pipeline {
	const struct options *opt;
	struct backend backend;
	bool backend_open;
	struct flow_table *table;
	struct cgroup_ids *cgroups; /* the compute thread's, once it runs; NULL: no names */
	struct snapshot_feed feed;
	struct log_file *log; /* NULL without --log; main opens and closes it */
	/* --closed: set by main before the threads start, or NULL; main frees them. */
	struct log_file *closed_file;
	struct closed_log *closed;
	pthread_t closed_tid;
	bool closed_started;
	/* -w: its file, set by main before the threads start, or NULL; main closes it. */
	struct log_file *record_file;
	struct record_writer_args recorder;
	pthread_t recorder_tid;
	bool recorder_started;
	/* -r: the replay thread, in the collector's and compute thread's place. */
	struct replay_args replay;
	pthread_t replay_tid;
	bool replay_started;
	/* -r in the live view: the UI's keys steer the replay through it. */
	struct replay_control replay_control;
	bool replay_control_open;
	int stop_fd, drained_fd, built_fd, done_fd, failed_fd, quit_fd;
	struct collector_args collector;
	struct compute_args compute;
	/* The writers: stdout's (batch mode) and the log's, each a thread of its own. */
	struct output_args to_stdout, to_log;
	bool stdout_wanted;
	uint64_t output_skipped; /* __atomic: written by stdout's writer, read by the UI */
	struct ui_args ui;
	/* --metrics: a reader of its own, apart from the others (it holds no privilege). */
	struct metrics_args metrics;
	bool metrics_open;
	pthread_t collector_tid, compute_tid, stdout_tid, log_tid, ui_tid, metrics_tid;
	bool collector_started, compute_started, stdout_started, log_started, ui_started;
	bool metrics_started;
	bool stopped;
};

/* Open the backend, attach it and walk what exists into a new flow table. The calling
 * thread must be registered with RCU. On failure a line has been reported. */
int pipeline_open(struct pipeline *p, const struct options *opt, const struct backend_ops *ops);
/* Snapshots go to stdout_fd (batch mode; -1 for none) and to log (NULL for none). */
int pipeline_start(struct pipeline *p, int stdout_fd, struct log_file *log);
/* The same with the live view on the terminal instead of snapshots on stdout. */
int pipeline_start_ui(struct pipeline *p, struct log_file *log);
/* Block until the output is done, a thread fails, the user quits the live view, or
 * signal_fd (a signalfd, or -1) gives a signal other than SIGHUP. SIGHUP asks the log to
 * reopen before the next snapshot (logrotate), and the wait goes on. */
enum pipeline_end pipeline_wait(struct pipeline *p, int signal_fd);
/* With -v: how many rows of the last snapshot, and how many flows that ended, named no
 * process (man tcptop, PROCESSES). */
void pipeline_report_owners(struct pipeline *p);
/* Tell every thread to stop, and wait for the live view to restore the terminal. */
void pipeline_stop(struct pipeline *p);
/* Stop (if not yet) and join the threads, then release everything. The log's writer
 * finishes the snapshot it is writing; stdout's drops what a stalled reader did not
 * take. Safe after a failed open or start. */
void pipeline_close(struct pipeline *p);

#endif
