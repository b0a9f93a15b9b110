/* An output thread. It holds a reference on the snapshot it writes, never an RCU
 * read-side section, so a blocked pipe cannot stall the grace periods of the others. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "view/columns.h"
#include "view/group.h"
#include "view/rate_history.h"
#include "output/format.h"
#include "output/line_cache.h"
#include "output/log_file.h"
#include "output/losses.h"
#include "output/output.h"
#include "output/stdout_sink.h"
#include "util/report.h"
#include "util/stage_time.h"
#include "util/wakeup.h"

static const char *snapshot_columns[COL_COUNT];
static struct log_kind snapshot_log = {
	.option = "-l/--log",
	.noun = "log",
	.unit = "snapshot",
	.names = snapshot_columns,
	.count = COL_COUNT,
};

const struct log_kind *output_log_kind(const struct column_list *list)
{
	for (int i = 0; i < list->count; i++)
		snapshot_columns[i] = column_name(list->id[i]);
	snapshot_log.count = (size_t)list->count;
	return &snapshot_log;
}

/* Lines are formatted into blocks of this size, each written as a whole. The log never
 * stops its writer: it says itself when it fails, and retries. */
#define OUTPUT_BLOCK_SIZE (256 * 1024)

/* Once per snapshot in which a loss counter grew: in JSONL a line of its own after the
 * snapshot's rows, in each stream; on stderr, by the writer chosen to say it. */
static void say_losses(struct output_args *args, const struct snapshot *s, char *block, size_t *len,
		       const char *time_text)
{
	struct losses now;
	char text[512];

	losses_read(&now, s, &args->loss_sources);
	if (!losses_grew(&now, &args->losses_said))
		return;
	if (args->says_losses) {
		losses_text(&now, text, sizeof(text));
		report_error("lost so far: %s", text);
	}
	args->losses_said = now;
	if (args->opt->format == FORMAT_JSONL && *len + FORMAT_LINE_MAX <= OUTPUT_BLOCK_SIZE)
		*len += losses_json_line(&now, time_text, block + *len);
}

static enum output_status stdout_failure(struct output_args *args, enum sink_result result)
{
	if (result == SINK_STOPPED)
		return OUTPUT_STOPPED;
	if (errno == EPIPE)
		return OUTPUT_STDOUT_GONE;
	report_error("cannot write to standard output: %s", strerror(errno));
	(void)args;
	return OUTPUT_FAILED;
}

static enum output_status write_block(struct output_args *args, const char *block, size_t len)
{
	enum sink_result result;

	if (args->log) {
		log_file_append(args->log, block, len);
		return OUTPUT_RUNNING;
	}
	result = stdout_sink_write(&args->sink, block, len);
	return result == SINK_WRITTEN ? OUTPUT_RUNNING : stdout_failure(args, result);
}

/* What a writer shows of each snapshot: its flows (kept lines, line_cache.h) or, with
 * --group, its groups (view/group.h), which are few and formatted anew each time. */
struct shown_rows {
	struct line_cache *cache;
	struct group_set *groups;
	struct rate_history *history; /* with the history column only */
};

static int shown_rows_init(struct shown_rows *rows, const struct options *opt)
{
	bool history = column_list_has(&opt->output_columns, COL_HISTORY);

	rows->cache = NULL;
	rows->groups = NULL;
	rows->history = history ? rate_history_new() : NULL;
	if (history && !rows->history)
		return -1;
	if (opt->grouping != GROUP_FLOW)
		rows->groups = group_set_new(opt->grouping, &opt->filter, opt->sort_column);
	else
		rows->cache = line_cache_new(opt->format, &opt->filter, opt->sort_column);
	if (rows->cache && history)
		line_cache_keep_texts(rows->cache, false); /* a history moves every interval */
	return rows->cache || rows->groups ? 0 : -1;
}

static void shown_rows_free(struct shown_rows *rows)
{
	line_cache_free(rows->cache);
	group_set_free(rows->groups);
	rate_history_free(rows->history);
}

/* The rows' rates into the history: the groups', or every flow's. */
static int learn_history(struct shown_rows *rows, const struct snapshot *s)
{
	size_t n = rows->groups ? group_set_count(rows->groups) : s->nrows;

	rate_history_begin(rows->history, s->generation, s->interval_s);
	for (size_t i = 0; i < n; i++) {
		const struct flow_row *r = rows->groups ? &group_set_row(rows->groups, i)->row
							: &s->rows[i];

		rate_history_add_row(rows->history, r);
	}
	return rate_history_end(rows->history);
}

static int shown_rows_update(struct shown_rows *rows, const struct snapshot *s)
{
	int err = rows->groups ? group_set_update(rows->groups, s)
			       : line_cache_update(rows->cache, s);

	if (!err && rows->history)
		err = learn_history(rows, s);
	return err;
}

static size_t shown_rows_count(const struct shown_rows *rows)
{
	return rows->groups ? group_set_count(rows->groups) : line_cache_count(rows->cache);
}

static size_t shown_rows_line(struct shown_rows *rows, const struct format_snapshot *fs,
			      const struct snapshot *s, size_t i, char *out)
{
	const struct group_row *g;
	struct column_value values[COL_COUNT];

	if (!rows->groups)
		return line_cache_line(rows->cache, fs, s, i, out);
	/* Only the columns written: every value of 100k groups was half their cost. */
	g = group_set_row(rows->groups, i);
	for (int c = 1; c < fs->output_columns.count; c++)
		group_value(g, fs->output_columns.id[c], &values[fs->output_columns.id[c]]);
	return format_line_values(fs, values, &g->row.key, out, NULL);
}

/* The rows shown, as lines, in blocks of whole lines. */
static enum output_status write_lines(struct output_args *args, const struct snapshot *s,
				      struct shown_rows *rows, char *block)
{
	enum output_status status = OUTPUT_RUNNING;
	size_t i = 0, len, n = shown_rows_count(rows);
	struct format_snapshot fs;
	char time_text[32];

	format_time_iso8601(&s->time, time_text, sizeof(time_text));
	if (format_snapshot_init(&fs, args->opt->format, &args->opt->output_columns, time_text) < 0)
		return OUTPUT_FAILED;
	fs.history = rows->history;
	if (args->log)
		log_file_begin(args->log);
	do {
		for (len = 0; i < n && len + FORMAT_LINE_MAX <= OUTPUT_BLOCK_SIZE; i++)
			len += shown_rows_line(rows, &fs, s, i, block + len);
		if (i == n)
			say_losses(args, s, block, &len, time_text);
		status = write_block(args, block, len);
	} while (i < n && status == OUTPUT_RUNNING);
	if (args->log)
		log_file_end(args->log, status == OUTPUT_RUNNING);
	return status;
}

/* Write one snapshot; the status to stop with, or OUTPUT_RUNNING. */
static enum output_status write_snapshot(struct output_args *args, const struct snapshot *s,
					 struct shown_rows *rows, char *block)
{
	if (shown_rows_update(rows, s) < 0) {
		report_error("out of memory sorting a snapshot's rows");
		return OUTPUT_FAILED;
	}
	return write_lines(args, s, rows, block);
}

/* Written at once: a reader sees the header (and its own exit, e.g. head -1, ends tcptop)
 * without waiting an interval for the first snapshot. The log writes its own, when the
 * file is empty. */
static enum output_status write_header(struct output_args *args, char *block)
{
	enum sink_result result;

	if (args->log || args->opt->format != FORMAT_CSV)
		return OUTPUT_RUNNING;
	result = stdout_sink_write(
		&args->sink, block,
		format_header_text(FORMAT_CSV, &args->opt->output_columns, block));
	if (result == SINK_WRITTEN)
		return OUTPUT_RUNNING;
	if (result == SINK_FAILED && errno != EPIPE) {
		report_error("cannot write the header to standard output: %s", strerror(errno));
		return OUTPUT_FAILED;
	}
	return stdout_failure(args, result);
}

/* OUTPUT_RUNNING when a snapshot was published; OUTPUT_STOPPED when the program stops. */
static enum output_status wait_for_snapshot(struct output_args *args)
{
	int watched = args->log ? -1 : args->sink.fd;

	switch (wakeup_wait(args->stop_fd, args->notify_fd, watched)) {
	case WAKEUP_SIGNALLED:
		return OUTPUT_RUNNING;
	case WAKEUP_HANGUP:
		return OUTPUT_STDOUT_GONE; /* the reader left: no need to wait for a write */
	default:
		return OUTPUT_STOPPED;
	}
}

/* Snapshots published while the last was written are skipped: the newest is what a top
 * shows. Each skip is counted where the losses say it (output/losses.h). */
static void count_skipped(struct output_args *args, uint64_t n)
{
	if (args->log)
		log_file_skipped(args->log, n);
	else
		__atomic_add_fetch(args->skipped, n, __ATOMIC_RELAXED);
}

/* At the stop. The log gets the newest snapshot if it raced with the stop; stdout's
 * writer, when a stalled reader held it up, counts the snapshot cut short and those
 * published after it. */
static void finish(struct output_args *args, uint64_t last_generation, bool cut_short,
		   struct shown_rows *rows, char *block)
{
	struct snapshot *s = snapshot_acquire(args->feed);
	uint64_t newer = s && s->generation > last_generation ? s->generation - last_generation : 0;

	if (args->log && newer) {
		if (last_generation && newer > 1)
			count_skipped(args, newer - 1);
		write_snapshot(args, s, rows, block);
	} else if (cut_short) {
		count_skipped(args, 1 + newer);
	}
	snapshot_release(s);
}

void *output_thread(void *arg)
{
	struct output_args *args = arg;
	uint64_t last_generation = 0, written = 0;
	bool cut_short = false;
	struct stage_time timing = { 0 };
	struct steady_cpu cpu = { 0 };
	enum output_status status;
	struct snapshot *s;
	uint64_t start_ns;
	char *block = malloc(OUTPUT_BLOCK_SIZE);
	struct shown_rows rows;
	bool have_rows = shown_rows_init(&rows, args->opt) == 0;

	urcu_memb_register_thread();
	if (!block || !have_rows) {
		report_error("cannot allocate the output buffer: %s", strerror(errno));
		status = OUTPUT_FAILED;
	} else {
		status = write_header(args, block);
	}
	while (status == OUTPUT_RUNNING && (status = wait_for_snapshot(args)) == OUTPUT_RUNNING) {
		cut_short = false;
		s = snapshot_acquire(args->feed);
		if (!s || s->generation == last_generation) {
			snapshot_release(s);
			continue;
		}
		if (last_generation && s->generation > last_generation + 1)
			count_skipped(args, s->generation - last_generation - 1);
		last_generation = s->generation;
		start_ns = stage_time_start();
		status = write_snapshot(args, s, &rows, block);
		cut_short = status == OUTPUT_STOPPED;
		stage_time_add(&timing, start_ns);
		steady_cpu_mark(&cpu);
		snapshot_release(s);
		if (status == OUTPUT_RUNNING && args->opt->count && ++written >= args->opt->count)
			status = OUTPUT_DONE;
		if (args->ack_fd >= 0)
			wakeup_signal(args->ack_fd);
	}
	stage_time_report(&timing, args->log ? "log write" : "output write");
	if (args->reports_cpu)
		steady_cpu_report(&cpu);
	if (status == OUTPUT_STOPPED && block && have_rows)
		finish(args, last_generation, cut_short, &rows, block);
	shown_rows_free(&rows);
	free(block);
	urcu_memb_unregister_thread();
	/* Published before done_fd: main reads it after seeing done_fd. */
	__atomic_store_n(&args->status, status, __ATOMIC_RELEASE);
	if (status != OUTPUT_STOPPED && wakeup_signal(args->done_fd) < 0)
		report_error("cannot signal the end of output: %s", strerror(errno));
	return NULL;
}
