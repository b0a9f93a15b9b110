/* The collector thread: one drain at start (the baseline rates are measured from), then
 * one per interval on a CLOCK_MONOTONIC timer. Close records that pile up between drains
 * wake it early through the backend's event fd, so a burst of churn cannot overflow the
 * ring buffer. Once the threads run it is the flow table's only writer (before, the
 * start-up walk fills it from the main thread). */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include "util/clock.h"
#include "collector.h"
#include "util/report.h"
#include "util/stage_time.h"
#include "util/wakeup.h"

struct expiry {
	struct collector_args *args;
	uint64_t now_ns;
	enum flow_end how;
	uint64_t budget; /* flows it may still end */
};

static void expire_idle_flow(const struct flow_key *key, void *ctx)
{
	struct expiry *e = ctx;
	struct backend *b = e->args->backend;
	struct flow_value final;

	if (e->budget == 0)
		return;
	e->budget--;
	/* A final read as the entry goes, so the last datagrams still count. */
	if (b->ops->expire(b, key, &final) == 0)
		flow_table_end(e->args->table, key, &final, e->now_ns, e->how);
	else
		flow_table_end(e->args->table, key, NULL, e->now_ns, e->how);
}

/* When the backend had to refuse new flows (its store full), the UDP flows idle the
 * longest make room: each interval as many as were refused (at least a few dozen) of
 * those idle for a whole interval, which new peers then take. */
#define EVICT_AT_LEAST 64

static void evict_for_room(struct collector_args *args, uint64_t dropped, uint64_t now_ns)
{
	struct expiry e = { args, now_ns, FLOW_END_EVICTED, 0 };

	if (dropped <= args->dropped_seen || now_ns < args->interval_ns)
		return;
	e.budget = dropped - args->dropped_seen;
	if (e.budget < EVICT_AT_LEAST)
		e.budget = EVICT_AT_LEAST;
	args->dropped_seen = dropped;
	flow_table_for_each_idle_udp(args->table, now_ns - args->interval_ns, expire_idle_flow, &e);
}

struct sweep {
	struct closed_log *closed;
	int64_t real_minus_mono;
};

static void hand_over(const struct flow_node *node, void *arg)
{
	struct sweep *s = arg;

	closed_log_push(s->closed, node, s->real_minus_mono);
}

void collector_sweep(struct collector_args *args, bool all)
{
	struct sweep s = { args->closed, 0 };

	if (!args->closed) {
		flow_table_sweep_closed(args->table, all, NULL, NULL);
		return;
	}
	s.real_minus_mono = (int64_t)(clock_now_ns(CLOCK_REALTIME) - clock_now_ns(CLOCK_MONOTONIC));
	flow_table_sweep_closed(args->table, all, hand_over, &s);
	closed_log_flush(args->closed, false);
}

/* Closed flows wait for the next snapshot to be shown once; under churn with a long
 * interval they would pile up without bound (14k connections/s at -d 60s: 840k). Beyond
 * the bound, those never shown go unshown (counted), still to the closed log. */
static void trim_closed(struct collector_args *args)
{
	struct sweep s = { args->closed, 0 };

	if (!args->closed) {
		flow_table_trim_closed(args->table, args->closed_bound, NULL, NULL);
		return;
	}
	s.real_minus_mono = (int64_t)(clock_now_ns(CLOCK_REALTIME) - clock_now_ns(CLOCK_MONOTONIC));
	if (flow_table_trim_closed(args->table, args->closed_bound, hand_over, &s))
		closed_log_flush(args->closed, false);
}

static int drain_once(struct collector_args *args, uint64_t generation,
		      struct stage_time *timing)
{
	uint64_t start_ns = stage_time_start();
	struct backend *b = args->backend;
	struct drain_stamp stamp;
	struct expiry e = { args, 0, FLOW_END_TIMEOUT, UINT64_MAX };

	/* Flows whose final row the last snapshot carried go before the new drain. */
	collector_sweep(args, false);
	stamp.mono_ns = clock_now_ns(CLOCK_MONOTONIC);
	stamp.real_ns = clock_now_ns(CLOCK_REALTIME);
	if (b->ops->drain(b, args->table, stamp.mono_ns) < 0)
		return -1;
	if (stamp.mono_ns > args->udp_timeout_ns) {
		e.now_ns = stamp.mono_ns;
		flow_table_for_each_idle_udp(args->table, stamp.mono_ns - args->udp_timeout_ns,
					     expire_idle_flow, &e);
	}
	stamp.flows_dropped = b->ops->flows_dropped(b);
	stamp.close_records_lost = b->ops->close_records_lost(b);
	stamp.listen_drops_known = b->ops->listen_drops &&
				   b->ops->listen_drops(b, &stamp.listen_drops);
	stamp.jiffies_known = b->ops->jiffies &&
			      b->ops->jiffies(b, &stamp.jiffies, &stamp.jiffies_before);
	stamp.nprogs = b->ops->prog_stats
			       ? (uint32_t)b->ops->prog_stats(b, stamp.progs, PROG_STATS_MAX)
			       : 0;
	stamp.events_missed = 0;
	for (uint32_t i = 0; i < stamp.nprogs; i++)
		stamp.events_missed += stamp.progs[i].misses;
	evict_for_room(args, stamp.flows_dropped, stamp.mono_ns);
	trim_closed(args);
	if (generation > 1) /* the first drain loads every flow: start-up, not an interval */
		stage_time_add(timing, start_ns);
	stamp.generation = generation;
	flow_table_publish_stamp(args->table, &stamp);
	return wakeup_signal(args->drained_fd);
}

static int arm_timer(uint64_t interval_ns)
{
	struct itimerspec spec;
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd < 0)
		return -1;
	spec.it_interval.tv_sec = (time_t)(interval_ns / 1000000000ULL);
	spec.it_interval.tv_nsec = (long)(interval_ns % 1000000000ULL);
	spec.it_value = spec.it_interval;
	if (timerfd_settime(fd, 0, &spec, NULL) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void fail(struct collector_args *args, const char *what)
{
	report_error("collector: %s: %s", what, strerror(errno));
	wakeup_signal(args->failed_fd);
}

/* What the thread waits for; a tick that comes while the compute thread still reads the
 * previous drain is kept pending: merging then would mix two drains in one snapshot. */
struct collector_loop {
	struct pollfd fds[4];
	int nfds;
	bool compute_busy;
	bool tick_pending;
};

enum { FD_STOP, FD_TIMER, FD_BUILT, FD_EVENTS };

static void loop_init(struct collector_loop *l, struct collector_args *args, int timer)
{
	int events = args->backend->ops->event_fd(args->backend);

	l->fds[FD_STOP] = (struct pollfd){ .fd = args->stop_fd, .events = POLLIN };
	l->fds[FD_TIMER] = (struct pollfd){ .fd = timer, .events = POLLIN };
	l->fds[FD_BUILT] = (struct pollfd){ .fd = args->built_fd, .events = POLLIN };
	l->fds[FD_EVENTS] = (struct pollfd){ .fd = events, .events = POLLIN };
	l->nfds = events >= 0 ? 4 : 3;
	l->compute_busy = true; /* with the baseline drain */
	l->tick_pending = false;
}

void *collector_thread(void *arg)
{
	struct collector_args *args = arg;
	struct backend *b = args->backend;
	uint64_t generation = 1, count;
	struct stage_time timing = { 0 };
	struct collector_loop l;
	int timer;

	urcu_memb_register_thread();
	timer = arm_timer(args->interval_ns);
	if (timer < 0 || drain_once(args, generation++, &timing) < 0) {
		fail(args, timer < 0 ? "cannot create the interval timer" : "drain failed");
		goto out;
	}
	loop_init(&l, args, timer);
	for (;;) {
		if (poll(l.fds, (nfds_t)l.nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail(args, "poll");
			break;
		}
		if (l.fds[FD_STOP].revents)
			break;
		if (l.nfds > FD_EVENTS && l.fds[FD_EVENTS].revents)
			b->ops->drain_events(b, args->table, clock_now_ns(CLOCK_MONOTONIC));
		if (l.fds[FD_TIMER].revents && read(timer, &count, sizeof(count)) > 0)
			l.tick_pending = true;
		if (l.fds[FD_BUILT].revents && read(args->built_fd, &count, sizeof(count)) > 0)
			l.compute_busy = false;
		if (!l.tick_pending || l.compute_busy)
			continue;
		if (drain_once(args, generation++, &timing) < 0) {
			fail(args, "drain failed");
			break;
		}
		l.tick_pending = false;
		l.compute_busy = true;
	}
out:
	stage_time_report(&timing, "drain+merge");
	if (timer >= 0)
		close(timer);
	urcu_memb_unregister_thread();
	return NULL;
}
