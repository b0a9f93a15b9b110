/* -r/--read: the recording backend (it opens the file; there is nothing to drain) and the
 * replay thread, which publishes the recording's snapshots in the collector's and the
 * compute thread's place, so that every reader (the live view, stdout's writer, the log,
 * the metrics) takes them as it takes live ones. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "output/format.h"
#include "record/record.h"
#include "record/record_file.h"
#include "record/record_range.h"
#include "record/replay_live.h"
#include "util/report.h"
#include "util/wakeup.h"

/* ---------------------------------------------------------------- the backend */

struct recording_state {
	struct record_reader *reader;
	char description[160];
};

static int recording_open(struct backend *b, const struct options *opt)
{
	struct recording_state *st = calloc(1, sizeof(*st));

	if (!st) {
		report_error("-r/--read: out of memory");
		return -1;
	}
	st->reader = record_reader_open(opt->read_path);
	if (!st->reader) {
		free(st);
		return -1;
	}
	snprintf(st->description, sizeof(st->description),
		 "hook set: none (reading recording '%s')", opt->read_path);
	b->state = st;
	return 0;
}

static int recording_attach(struct backend *b, struct flow_table *table)
{
	(void)b;
	(void)table;
	return 0;
}

static int recording_drain(struct backend *b, struct flow_table *table, uint64_t now_ns)
{
	(void)b;
	(void)table;
	(void)now_ns;
	return 0;
}

static int recording_event_fd(struct backend *b)
{
	(void)b;
	return -1;
}

static int recording_expire(struct backend *b, const struct flow_key *key, struct flow_value *final)
{
	(void)b;
	(void)key;
	(void) final;
	return -1;
}

static uint64_t recording_none(struct backend *b)
{
	(void)b;
	return 0;
}

static const char *recording_describe(struct backend *b)
{
	return ((struct recording_state *)b->state)->description;
}

static void recording_close(struct backend *b)
{
	struct recording_state *st = b->state;

	if (st)
		record_reader_close(st->reader);
	free(st);
	b->state = NULL;
}

const struct backend_ops backend_recording_ops = {
	.name = "recording",
	.open = recording_open,
	.attach = recording_attach,
	.drain = recording_drain,
	.event_fd = recording_event_fd,
	.drain_events = recording_drain,
	.expire = recording_expire,
	.flows_dropped = recording_none,
	.close_records_lost = recording_none,
	.describe = recording_describe,
	.close = recording_close,
};

/* ---------------------------------------------------------------- the thread */

/* Every writer has written the snapshot published last; false when stopping. */
static bool wait_for_acks(struct replay_args *args, uint64_t *acked, uint64_t wanted)
{
	struct pollfd fds[2] = { { .fd = args->stop_fd, .events = POLLIN },
				 { .fd = args->ack_fd, .events = POLLIN } };
	uint64_t count;

	while (*acked < wanted) {
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			return false;
		if (fds[0].revents)
			return false;
		if (fds[1].revents && read(args->ack_fd, &count, sizeof(count)) > 0)
			*acked += count;
	}
	return true;
}

void *replay_thread(void *arg)
{
	struct replay_args *args = arg;
	struct record_reader *reader = ((struct recording_state *)args->backend->state)->reader;
	uint64_t published = 0, acked = 0, first_ns = 0;
	struct snapshot *s;
	struct record_times range;
	bool going = true;

	urcu_memb_register_thread();
	record_reader_first_time(reader, &first_ns);
	record_range_resolve(&range, &args->range, first_ns);
	if (args->control) {
		replay_live(args->control, reader, &range, args->feed, args->stop_fd);
		goto out;
	}
	record_reader_seek(reader, record_range_begin_ns(&range));
	while (going && (s = record_reader_next(reader))) {
		int place = record_range_place(&range, &s->time);

		if (place != 0) {
			snapshot_release(s);
			going = place < 0;
			continue;
		}
		replay_renumber(s, ++published);
		snapshot_publish(args->feed, s);
		going = going && wait_for_acks(args, &acked, published * args->acks);
	}
	if (!published)
		report_error("-r/--read: no snapshot in the recording%s",
			     range.begin_len || range.end_len ? " between --begin and --end" : "");
out:
	__atomic_store_n(&args->finished, true, __ATOMIC_RELEASE);
	if (!args->control)
		wakeup_signal(args->done_fd);
	urcu_memb_unregister_thread();
	return NULL;
}
