/* The output thread. It holds a reference on the snapshot it writes, never an RCU
 * read-side section, so a blocked pipe cannot stall the grace periods of the others. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "columns.h"
#include "format.h"
#include "output.h"
#include "report.h"
#include "stage_time.h"
#include "wakeup.h"

/* A row with its value of the sort column, computed once before sorting. */
struct sort_item {
	struct column_value value;
	const struct flow_row *row;
};

static int compare_items(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;

	return column_compare_values(&x->value, x->row, &y->value, y->row);
}

const struct flow_row **output_view(const struct snapshot *s, const struct filter *f,
				    int sort_column, size_t *count)
{
	size_t i, n = 0, room = s->nrows ? s->nrows : 1;
	const struct flow_row **view = malloc(room * sizeof(*view));
	struct sort_item *items = malloc(room * sizeof(*items));

	*count = 0;
	if (!view || !items) {
		free(view);
		free(items);
		return NULL;
	}
	for (i = 0; i < s->nrows; i++) {
		if (!filter_match(f, &s->rows[i]))
			continue;
		items[n].row = &s->rows[i];
		column_value(&s->rows[i], sort_column, &items[n].value);
		n++;
	}
	qsort(items, n, sizeof(*items), compare_items);
	for (i = 0; i < n; i++)
		view[i] = items[i].row;
	free(items);
	*count = n;
	return view;
}

static int write_snapshot(FILE *sink, const struct options *opt, const struct snapshot *s,
			  const struct flow_row **view, size_t n)
{
	char time_text[32];
	size_t i;

	format_time_iso8601(&s->time, time_text, sizeof(time_text));
	for (i = 0; i < n; i++)
		if (format_row(sink, opt->format, time_text, view[i]) < 0)
			return -1;
	return fflush(sink) == 0 ? 0 : -1;
}

static void report_drops(const struct snapshot *s, uint64_t *reported)
{
	if (s->flows_dropped <= *reported)
		return;
	/* The kernel counts refused inserts: an untracked socket retries on each event. */
	report_error("flow map full: %llu flow updates refused so far; raise --max-flows",
		     (unsigned long long)s->flows_dropped);
	*reported = s->flows_dropped;
}

/* Write one snapshot to every sink; the status to stop with, or OUTPUT_RUNNING. */
static enum output_status write_all(struct output_args *args, const struct snapshot *s)
{
	const struct flow_row **view;
	size_t n;

	/* The live view owns the terminal and there is no --log: nothing to filter or sort. */
	if (!args->log_sink && !args->stdout_sink)
		return OUTPUT_RUNNING;
	view = output_view(s, &args->opt->filter, args->opt->sort_column, &n);
	if (!view)
		return OUTPUT_FAILED;
	if (args->log_sink && write_snapshot(args->log_sink, args->opt, s, view, n) < 0) {
		report_error("cannot write to log %s: %s", args->opt->log_path, strerror(errno));
		free(view);
		return OUTPUT_FAILED;
	}
	if (args->stdout_sink && write_snapshot(args->stdout_sink, args->opt, s, view, n) < 0) {
		free(view);
		if (errno == EPIPE)
			return OUTPUT_STDOUT_GONE;
		report_error("cannot write to standard output: %s", strerror(errno));
		return OUTPUT_FAILED;
	}
	free(view);
	return OUTPUT_RUNNING;
}

/* Flushed at once: a reader sees the header (and its own exit, e.g. head -1, ends tcptop)
 * without waiting an interval for the first snapshot. */
static int write_headers(struct output_args *args)
{
	if (args->log_sink && (format_header(args->log_sink, args->opt->format) < 0 ||
			       fflush(args->log_sink) != 0))
		return -1;
	if (args->stdout_sink && (format_header(args->stdout_sink, args->opt->format) < 0 ||
				  fflush(args->stdout_sink) != 0))
		return -1;
	return 0;
}

static enum output_status header_failure(struct output_args *args)
{
	if (errno == EPIPE)
		return OUTPUT_STDOUT_GONE;
	report_error("cannot write the header to %s: %s",
		     args->log_sink ? args->opt->log_path : "standard output", strerror(errno));
	return OUTPUT_FAILED;
}

/* OUTPUT_RUNNING when a snapshot was published; OUTPUT_STOPPED when the program stops. */
static enum output_status wait_for_snapshot(struct output_args *args)
{
	int watched = args->stdout_sink ? fileno(args->stdout_sink) : -1;

	switch (wakeup_wait(args->stop_fd, args->notify_fd, watched)) {
	case WAKEUP_SIGNALLED:
		return OUTPUT_RUNNING;
	case WAKEUP_HANGUP:
		return OUTPUT_STDOUT_GONE; /* the reader left: no need to wait for a write */
	default:
		return OUTPUT_STOPPED;
	}
}

void *output_thread(void *arg)
{
	struct output_args *args = arg;
	uint64_t last_generation = 0, written = 0, drops_reported = 0;
	struct stage_time timing = { 0 };
	enum output_status status;
	struct snapshot *s;
	uint64_t start_ns;

	urcu_memb_register_thread();
	status = write_headers(args) < 0 ? header_failure(args) : OUTPUT_RUNNING;
	while (status == OUTPUT_RUNNING && (status = wait_for_snapshot(args)) == OUTPUT_RUNNING) {
		s = snapshot_acquire(args->feed);
		if (!s || s->generation == last_generation) {
			snapshot_release(s);
			continue;
		}
		last_generation = s->generation;
		report_drops(s, &drops_reported);
		start_ns = stage_time_start();
		status = write_all(args, s);
		stage_time_add(&timing, start_ns);
		snapshot_release(s);
		if (status == OUTPUT_RUNNING && args->opt->count && ++written >= args->opt->count)
			status = OUTPUT_DONE;
	}
	stage_time_report(&timing, "output write");
	urcu_memb_unregister_thread();
	/* Published before done_fd: main reads it after seeing done_fd. */
	__atomic_store_n(&args->status, status, __ATOMIC_RELEASE);
	if (status != OUTPUT_STOPPED && wakeup_signal(args->done_fd) < 0)
		report_error("cannot signal the end of output: %s", strerror(errno));
	return NULL;
}
