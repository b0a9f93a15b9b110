/* -r in the live view: one snapshot of the index at a time, the next one when its
 * recorded time has come (divided by the speed) unless paused, or the one the UI asked
 * for at once. Every snapshot shown is published anew with the next generation, so the
 * UI takes a step back as it takes a step forward. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "record/replay_live.h"
#include "util/report.h"
#include "util/wakeup.h"

int replay_control_init(struct replay_control *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->speed = 1;
	c->target = -1;
	c->wake_fd = wakeup_new();
	if (c->wake_fd < 0) {
		report_error("cannot create eventfds: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void replay_control_destroy(struct replay_control *c)
{
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	c->wake_fd = -1;
	pthread_mutex_destroy(&c->lock);
}

void replay_control_pause(struct replay_control *c)
{
	pthread_mutex_lock(&c->lock);
	c->paused = !c->paused;
	pthread_mutex_unlock(&c->lock);
	wakeup_signal(c->wake_fd);
}

/* A step pauses: the snapshot stepped to stays on screen until asked to play on. Each
 * step counts from where the last one went, within the recording: [ then ] on the first
 * snapshot is the second, whenever the replay thread gets to them. */
void replay_control_step(struct replay_control *c, int step)
{
	long at;

	pthread_mutex_lock(&c->lock);
	c->paused = true;
	if (c->index && c->index->n) {
		at = (c->target >= 0 ? c->target : (long)c->shown_entry) + step;
		at = at < 0 ? 0 : at;
		c->target = at < (long)c->index->n ? at : (long)c->index->n - 1;
	}
	pthread_mutex_unlock(&c->lock);
	wakeup_signal(c->wake_fd);
}

void replay_control_speed(struct replay_control *c, bool faster)
{
	pthread_mutex_lock(&c->lock);
	if (faster && c->speed < REPLAY_SPEED_MAX)
		c->speed *= 2;
	else if (!faster && c->speed > 1)
		c->speed /= 2;
	pthread_mutex_unlock(&c->lock);
	wakeup_signal(c->wake_fd);
}

void replay_control_go(struct replay_control *c, size_t entry)
{
	pthread_mutex_lock(&c->lock);
	c->target = (long)entry;
	pthread_mutex_unlock(&c->lock);
	wakeup_signal(c->wake_fd);
}

void replay_control_position(struct replay_control *c, uint64_t generation,
			     struct replay_position *out)
{
	pthread_mutex_lock(&c->lock);
	out->entry = c->shown_entry;
	out->known = c->index && generation == c->shown_generation;
	out->count = c->index ? c->index->n : 0;
	out->paused = c->paused;
	out->speed = c->speed;
	pthread_mutex_unlock(&c->lock);
}

int replay_control_find(struct replay_control *c, const char *text, size_t *entry)
{
	int found = -1;

	pthread_mutex_lock(&c->lock);
	if (c->index) {
		*entry = record_index_find(c->index, text);
		found = *entry < c->index->n ? 0 : -1;
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

/* ---------------------------------------------------------------- the thread's side */

struct live {
	struct replay_control *c;
	struct record_reader *reader;
	struct record_index index;
	struct snapshot_feed *feed;
	uint64_t published;
	size_t shown;
	uint64_t shown_at; /* CLOCK_MONOTONIC ns: keys that wake the thread keep the pace */
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

void replay_renumber(struct snapshot *s, uint64_t generation)
{
	uint64_t offset = s->generation - generation;

	for (size_t i = 0; offset && i < s->nrows; i++)
		s->rows[i].version = s->rows[i].version > offset ? s->rows[i].version - offset : 0;
	s->generation = generation;
}

/* A snapshot that does not decode after all (said on stderr) is passed over: the one
 * before stays on screen and playing goes on after it. */
static void show(struct live *l, size_t entry)
{
	struct snapshot *s = record_index_fetch(&l->index, l->reader, entry);

	l->shown = entry;
	l->shown_at = now_ns();
	if (!s)
		return;
	replay_renumber(s, ++l->published);
	pthread_mutex_lock(&l->c->lock);
	l->c->shown_generation = l->published;
	l->c->shown_entry = entry;
	pthread_mutex_unlock(&l->c->lock);
	snapshot_publish(l->feed, s);
}

/* The entry the UI asked for, if any, other than the one shown. */
static bool asked(struct live *l, size_t *entry, bool *paused, unsigned *speed)
{
	struct replay_control *c = l->c;
	long want;

	pthread_mutex_lock(&c->lock);
	want = c->target;
	c->target = -1;
	*paused = c->paused;
	*speed = c->speed;
	pthread_mutex_unlock(&c->lock);
	if (want < 0)
		return false;
	*entry = (size_t)want < l->index.n ? (size_t)want : l->index.n - 1;
	return *entry != l->shown;
}

/* How long until the next snapshot: its recorded distance from the one shown, at the
 * speed, at most 10 s of recorded time, less the time it has been shown; -1 when paused
 * or at the end. */
static int wait_ms(const struct live *l, bool paused, unsigned speed)
{
	const struct record_entry *e = l->index.entries;
	uint64_t ns, shown_for = now_ns() - l->shown_at;

	if (paused || l->shown + 1 >= l->index.n)
		return -1;
	ns = e[l->shown + 1].real_ns > e[l->shown].real_ns
		     ? e[l->shown + 1].real_ns - e[l->shown].real_ns
		     : 0;
	if (ns > 10000000000ULL)
		ns = 10000000000ULL;
	ns /= speed;
	return ns > shown_for ? (int)((ns - shown_for) / 1000000ULL) : 0;
}

void replay_live(struct replay_control *c, struct record_reader *r,
		 const struct record_times *range, struct snapshot_feed *feed, int stop_fd)
{
	struct live l = { .c = c, .reader = r, .feed = feed };
	struct pollfd fds[2] = { { .fd = stop_fd, .events = POLLIN },
				 { .fd = c->wake_fd, .events = POLLIN } };
	bool paused;
	unsigned speed;
	size_t entry;
	uint64_t count;

	if (record_index_build(&l.index, r, range) < 0) {
		report_error("-r/--read: out of memory");
		goto out;
	}
	if (!l.index.n) {
		report_error("-r/--read: no snapshot in the recording%s",
			     range->begin_len || range->end_len ? " between --begin and --end"
								: "");
		goto out;
	}
	pthread_mutex_lock(&c->lock);
	c->index = &l.index;
	pthread_mutex_unlock(&c->lock);
	show(&l, 0);
	for (;;) {
		if (asked(&l, &entry, &paused, &speed)) {
			show(&l, entry);
			continue;
		}
		int n = poll(fds, 2, wait_ms(&l, paused, speed));

		if (n < 0 && errno != EINTR)
			break;
		if (fds[0].revents)
			break;
		if (fds[1].revents && read(c->wake_fd, &count, sizeof(count)) < 0 &&
		    errno != EAGAIN)
			break;
		if (n != 0)
			continue;
		/* A key may have come while the wait ran out: it wins (P stops this one). */
		if (asked(&l, &entry, &paused, &speed))
			show(&l, entry);
		else if (!paused)
			show(&l, l.shown + 1);
	}
out:
	pthread_mutex_lock(&c->lock);
	c->index = NULL;
	pthread_mutex_unlock(&c->lock);
	record_index_free(&l.index);
}
