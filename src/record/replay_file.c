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

/* ---------------------------------------------------------------- the time range */

/* Digits where the pattern has 'd', the pattern's own character elsewhere. */
static bool matches(const char *text, const char *pattern, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (pattern[i] == 'd' ? text[i] < '0' || text[i] > '9' : text[i] != pattern[i])
			return false;
	}
	return true;
}

/* The ISO-8601 prefixes the CSV's time can be cut to, and HH:MM[:SS]. */
bool record_time_valid(const char *text)
{
	static const char iso[] = "dddd-dd-ddTdd:dd:dd.ddddddddd";
	size_t len = strlen(text);

	if (len > 0 && text[len - 1] == 'Z')
		len--;
	if (len == 5 || len == 8)
		return matches(text, "dd:dd:dd", len) && text[len] != 'Z';
	if (len == 10 || len == 13 || len == 16 || len == 19 || (len >= 21 && len < sizeof(iso)))
		return matches(text, iso, len);
	return false;
}

/* The time given as the CSV's text would begin, at most 29 characters and no 'Z'; a bare
 * time of day is on the day of day_ns (CLOCK_REALTIME). */
static void resolve(const char *given, uint64_t day_ns, char *out, size_t len)
{
	char day[32];
	struct timespec t = { (time_t)(day_ns / 1000000000ULL), 0 };
	size_t n = strlen(given);

	if (n && given[n - 1] == 'Z')
		n--;
	if (given[2] != ':') {
		snprintf(out, len, "%.*s", (int)n, given);
		return;
	}
	format_time_iso8601(&t, day, sizeof(day));
	snprintf(out, len, "%.11s%.*s", day, (int)n, given);
}

struct range {
	char begin[40], end[40];
	size_t begin_len, end_len;
};

/* --end as a time of day earlier than --begin's is on the next day (23:00 to 01:00). */
static void range_resolve(struct range *r, const struct record_range *given, uint64_t first_ns)
{
	memset(r, 0, sizeof(*r));
	if (given->begin)
		resolve(given->begin, first_ns, r->begin, sizeof(r->begin));
	if (given->end) {
		resolve(given->end, first_ns, r->end, sizeof(r->end));
		if (given->end[2] == ':' && given->begin && strcmp(r->end, r->begin) < 0)
			resolve(given->end, first_ns + 86400ULL * 1000000000ULL, r->end,
				sizeof(r->end));
	}
	r->begin_len = strlen(r->begin);
	r->end_len = strlen(r->end);
}

/* <0 before the range, 0 in it, >0 after it, compared at the precision given. */
static int range_place(const struct range *r, const struct snapshot *s)
{
	char text[40];

	format_time_iso8601(&s->time, text, sizeof(text));
	if (r->begin_len && strncmp(text, r->begin, r->begin_len) < 0)
		return -1;
	if (r->end_len && strncmp(text, r->end, r->end_len) > 0)
		return 1;
	return 0;
}

/* The first moment the begin text can name: where reading starts. */
static uint64_t range_begin_ns(const struct range *r)
{
	static const char floor_text[] = "0000-01-01T00:00:00";
	char text[32];
	struct tm tm = { 0 };

	if (!r->begin_len)
		return 0;
	snprintf(text, sizeof(text), "%s%s", r->begin,
		 r->begin_len < 19 ? floor_text + r->begin_len : "");
	if (!strptime(text, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return (uint64_t)timegm(&tm) * 1000000000ULL;
}

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

/* The recorded time between two snapshots, at most 10 s; false when stopping. */
static bool wait_recorded_time(struct replay_args *args, const struct snapshot *prev,
			       const struct snapshot *s)
{
	struct pollfd stop = { .fd = args->stop_fd, .events = POLLIN };
	int64_t ms = ((int64_t)s->time.tv_sec - prev->time.tv_sec) * 1000 +
		     (s->time.tv_nsec - prev->time.tv_nsec) / 1000000;

	if (ms <= 0)
		return true;
	return poll(&stop, 1, (int)(ms < 10000 ? ms : 10000)) == 0;
}

/* Published snapshots count from 1, whatever was read before --begin. */
static void renumber(struct snapshot *s, uint64_t generation)
{
	uint64_t offset = s->generation - generation;

	for (size_t i = 0; offset && i < s->nrows; i++)
		s->rows[i].version = s->rows[i].version > offset ? s->rows[i].version - offset : 0;
	s->generation = generation;
}

void *replay_thread(void *arg)
{
	struct replay_args *args = arg;
	struct record_reader *reader = ((struct recording_state *)args->backend->state)->reader;
	uint64_t published = 0, acked = 0, first_ns = 0;
	struct snapshot *s, *prev = NULL;
	struct range range;
	bool going = true;

	urcu_memb_register_thread();
	record_reader_first_time(reader, &first_ns);
	range_resolve(&range, &args->range, first_ns);
	record_reader_seek(reader, range_begin_ns(&range));
	while (going && (s = record_reader_next(reader))) {
		int place = range_place(&range, s);

		if (place != 0) {
			snapshot_release(s);
			going = place < 0;
			continue;
		}
		if (args->paced && prev)
			going = wait_recorded_time(args, prev, s);
		snapshot_release(prev);
		prev = snapshot_hold(s);
		renumber(s, ++published);
		snapshot_publish(args->feed, s);
		going = going && wait_for_acks(args, &acked, published * args->acks);
	}
	snapshot_release(prev);
	if (!published)
		report_error("-r/--read: no snapshot in the recording%s",
			     range.begin_len || range.end_len ? " between --begin and --end" : "");
	__atomic_store_n(&args->finished, true, __ATOMIC_RELEASE);
	if (!args->paced)
		wakeup_signal(args->done_fd);
	urcu_memb_unregister_thread();
	return NULL;
}
