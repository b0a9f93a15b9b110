/* Wiring of the threads. Each talks to the next only through the flow table, the snapshot
 * feed and eventfds: "drained" (collector → compute), "built" (compute → collector), a
 * feed subscription (compute → each writer, and compute → ui), "stop" (main → all; polled, never
 * read, so every thread sees it) and "done" / "failed" / "quit" (threads → main). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "pipeline.h"
#include "output/stdout_sink.h"
#include "util/clock.h"
#include "util/report.h"
#include "util/thread_start.h"
#include "util/wakeup.h"

int pipeline_open(struct pipeline *p, const struct options *opt, const struct backend_ops *ops)
{
	memset(p, 0, sizeof(*p));
	p->opt = opt;
	p->stop_fd = p->drained_fd = p->built_fd = p->done_fd = p->failed_fd = p->quit_fd = -1;
	p->replay.ack_fd = -1;
	snapshot_feed_init(&p->feed);
	p->table = flow_table_new();
	if (!p->table) {
		report_error("cannot create the flow table: out of memory");
		return -1;
	}
	flow_table_keep_health(p->table, opt->wants & WANT_HEALTH);
	p->backend.ops = ops;
	if (ops->open(&p->backend, opt) < 0)
		return -1;
	p->backend_open = true;
	/* The kernel's sockets have cgroups; a replay's rows bring their own names. Opened
	 * now, while tcptop may still mount a cgroup v2 tree to read it. */
	if (!opt->read_path && !opt->replay_spec)
		p->cgroups = cgroup_ids_open();
	return ops->attach(&p->backend, p->table);
}

static int start_thread(pthread_t *tid, bool *started, const char *name,
			enum thread_privilege privilege, void *(*fn)(void *), void *arg)
{
	int err = thread_start(tid, NULL, name, privilege, fn, arg);

	if (err) {
		report_error("cannot start a thread: %s", strerror(err));
		return -1;
	}
	*started = true;
	return 0;
}

/* The live view subscribes before any thread runs and starts first, like every reader. */
static int start_ui(struct pipeline *p)
{
	int err;

	p->quit_fd = wakeup_new();
	if (p->opt->read_path) {
		if (replay_control_init(&p->replay_control) < 0)
			return -1;
		p->replay_control_open = true;
	}
	p->ui = (struct ui_args){
		.opt = p->opt,
		.feed = &p->feed,
		.notify_fd = snapshot_feed_subscribe(&p->feed),
		.stop_fd = p->stop_fd,
		.quit_fd = p->quit_fd,
		.failed_fd = p->failed_fd,
		.log_health = p->log ? log_file_health(p->log) : NULL,
		.closed_health = p->closed ? closed_log_health(p->closed) : NULL,
		.record_health = p->record_file ? log_file_health(p->record_file) : NULL,
		.output_skipped = &p->output_skipped,
		.replay = p->replay_control_open ? &p->replay_control : NULL,
	};
	if (p->quit_fd < 0 || p->ui.notify_fd < 0) {
		report_error("cannot create eventfds: %s", strerror(errno));
		return -1;
	}
	err = thread_start(&p->ui_tid, NULL, "tcptop-ui", THREAD_NO_CAPS, ui_thread, &p->ui);
	if (err) {
		report_error("cannot start a thread: %s", strerror(err));
		return -1;
	}
	p->ui_started = true;
	return 0;
}

/* pipeline_start_ui() makes the two the live view shares before pipeline_start() runs. */
static int wakeup_once(int *fd)
{
	if (*fd < 0)
		*fd = wakeup_new();
	return *fd;
}

int pipeline_start_ui(struct pipeline *p, struct log_file *log)
{
	p->log = log;
	if (wakeup_once(&p->stop_fd) < 0 || wakeup_once(&p->failed_fd) < 0) {
		report_error("cannot create eventfds: %s", strerror(errno));
		return -1;
	}
	if (start_ui(p) < 0)
		return -1;
	return pipeline_start(p, -1, log);
}

/* The closed log's writer runs apart from the others: it ends only once main has handed
 * it the last flows, after the collector has ended (pipeline_close). */
static int start_closed_writer(struct pipeline *p)
{
	int err = thread_start(&p->closed_tid, NULL, "tcptop-closed", THREAD_NO_CAPS,
			       closed_log_thread, p->closed);

	if (err) {
		report_error("cannot start a thread: %s", strerror(err));
		return -1;
	}
	p->closed_started = true;
	return 0;
}

/* A writer of one stream (output/output.h), subscribed to the feed. */
static int writer_init(struct pipeline *p, struct output_args *w, struct log_file *log)
{
	*w = (struct output_args){
		.opt = p->opt,
		.feed = &p->feed,
		.log = log,
		.sink = { .fd = -1 },
		.notify_fd = snapshot_feed_subscribe(&p->feed),
		.stop_fd = p->stop_fd,
		.done_fd = p->done_fd,
		.loss_sources = { p->log ? log_file_health(p->log) : NULL,
				  p->closed ? closed_log_health(p->closed) : NULL,
				  &p->output_skipped,
				  p->record_file ? log_file_health(p->record_file) : NULL },
		.skipped = &p->output_skipped,
		.ack_fd = p->opt->read_path ? p->replay.ack_fd : -1,
	};
	if (w->notify_fd < 0) {
		report_error("cannot create eventfds: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* stdout's writer (batch) says the losses on stderr and the steady CPU; the log's writer
 * does the latter when it writes alone (beside the live view). */
static int writers_init(struct pipeline *p, int stdout_fd)
{
	if (stdout_fd >= 0) {
		if (writer_init(p, &p->to_stdout, NULL) < 0)
			return -1;
		if (stdout_sink_init(&p->to_stdout.sink, stdout_fd, p->stop_fd) < 0) {
			report_error("cannot use standard output: %s", strerror(errno));
			return -1;
		}
		p->to_stdout.says_losses = p->to_stdout.reports_cpu = true;
	}
	if (p->log) {
		if (writer_init(p, &p->to_log, p->log) < 0)
			return -1;
		p->to_log.reports_cpu = stdout_fd < 0;
	}
	p->stdout_wanted = stdout_fd >= 0;
	return 0;
}

/* --metrics: listens now, so that a taken port fails the start; the thread starts with
 * the other readers. */
static int metrics_init(struct pipeline *p)
{
	p->metrics = (struct metrics_args){
		.opt = p->opt,
		.feed = &p->feed,
		.loss_sources = { p->log ? log_file_health(p->log) : NULL,
				  p->closed ? closed_log_health(p->closed) : NULL,
				  &p->output_skipped,
				  p->record_file ? log_file_health(p->record_file) : NULL },
		.notify_fd = snapshot_feed_subscribe(&p->feed),
		.stop_fd = p->stop_fd,
	};
	if (p->metrics.notify_fd < 0) {
		report_error("cannot create eventfds: %s", strerror(errno));
		return -1;
	}
	p->metrics_open = true;
	return metrics_open(&p->metrics);
}

/* -w's writer: a reader of the feed like the others. */
static int recorder_init(struct pipeline *p)
{
	p->recorder = (struct record_writer_args){
		.feed = &p->feed,
		.file = p->record_file,
		.notify_fd = snapshot_feed_subscribe(&p->feed),
		.stop_fd = p->stop_fd,
	};
	if (p->recorder.notify_fd < 0) {
		report_error("cannot create eventfds: %s", strerror(errno));
		return -1;
	}
	return start_thread(&p->recorder_tid, &p->recorder_started, "tcptop-record", THREAD_NO_CAPS,
			    record_writer_thread, &p->recorder);
}

/* -r: the recording's snapshots, published one by one; in batch each waits until every
 * writer has written the one before it, so none is skipped. */
static int start_replay(struct pipeline *p)
{
	p->replay.backend = &p->backend;
	p->replay.feed = &p->feed;
	p->replay.range = (struct record_range){ p->opt->begin_time, p->opt->end_time };
	p->replay.control = p->ui_started ? &p->replay_control : NULL;
	p->replay.acks = (p->stdout_wanted ? 1 : 0) + (p->log ? 1 : 0);
	p->replay.stop_fd = p->stop_fd;
	p->replay.done_fd = p->done_fd;
	return start_thread(&p->replay_tid, &p->replay_started, "tcptop-replay", THREAD_NO_CAPS,
			    replay_thread, &p->replay);
}

/* The collector and the compute thread, or the replay in their place. */
static int start_sources(struct pipeline *p)
{
	if (p->opt->read_path)
		return start_replay(p);
	if (start_thread(&p->compute_tid, &p->compute_started, "tcptop-compute", THREAD_NO_CAPS,
			 compute_thread, &p->compute) < 0)
		return -1;
	return start_thread(&p->collector_tid, &p->collector_started, "tcptop-collect",
			    THREAD_KEEPS_CAPS, collector_thread, &p->collector);
}

int pipeline_start(struct pipeline *p, int stdout_fd, struct log_file *log)
{
	p->log = log;
	wakeup_once(&p->stop_fd);
	p->drained_fd = wakeup_new();
	p->built_fd = wakeup_new();
	p->done_fd = wakeup_new();
	wakeup_once(&p->failed_fd);
	p->replay.ack_fd = wakeup_new();
	if (p->replay.ack_fd < 0 || p->stop_fd < 0 || p->drained_fd < 0 || p->built_fd < 0 ||
	    p->done_fd < 0 || p->failed_fd < 0) {
		report_error("cannot create eventfds: %s", strerror(errno));
		return -1;
	}
	if (writers_init(p, stdout_fd) < 0 || (p->opt->metrics && metrics_init(p) < 0))
		return -1;
	p->collector = (struct collector_args){
		.backend = &p->backend,
		.table = p->table,
		.interval_ns = p->opt->interval_ns,
		.udp_timeout_ns = p->opt->udp_timeout_ns,
		.drained_fd = p->drained_fd,
		.built_fd = p->built_fd,
		.stop_fd = p->stop_fd,
		.failed_fd = p->failed_fd,
		.closed = p->closed,
		.closed_bound = p->opt->max_flows,
	};
	p->compute = (struct compute_args){
		.table = p->table,
		.feed = &p->feed,
		.drained_fd = p->drained_fd,
		.built_fd = p->built_fd,
		.stop_fd = p->stop_fd,
		.cgroups = p->cgroups,
	};
	if (p->closed && start_closed_writer(p) < 0)
		return -1;
	/* Readers first, so that no snapshot is published before they listen. Only the
	 * collector keeps main's capabilities (privileges.h). */
	if ((p->stdout_wanted && start_thread(&p->stdout_tid, &p->stdout_started, "tcptop-stdout",
					      THREAD_NO_CAPS, output_thread, &p->to_stdout) < 0) ||
	    (p->log && start_thread(&p->log_tid, &p->log_started, "tcptop-log", THREAD_NO_CAPS,
				    output_thread, &p->to_log) < 0) ||
	    (p->metrics_open && start_thread(&p->metrics_tid, &p->metrics_started, "tcptop-metrics",
					     THREAD_NO_CAPS, metrics_thread, &p->metrics) < 0) ||
	    (p->record_file && recorder_init(p) < 0) || start_sources(p) < 0)
		return -1;
	return 0;
}

static void reopen_logs(struct pipeline *p)
{
	if (p->log)
		log_file_request_reopen(p->log);
	if (p->closed_file)
		log_file_request_reopen(p->closed_file);
	if (p->record_file)
		log_file_request_reopen(p->record_file);
}

/* SIGHUP asks for the log to be reopened (logrotate), or nothing without one: true when
 * only hang-ups came. Any other signal ends the run. */
static bool only_hangups(struct pipeline *p, int signal_fd)
{
	struct signalfd_siginfo info;
	bool hangups_only = true;

	while (read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
		if (info.ssi_signo != SIGHUP)
			hangups_only = false;
		else if (p->log || p->closed_file || p->record_file)
			reopen_logs(p);
	}
	return hangups_only;
}

/* How the writers ended, once that ends the run: one failed, stdout's reader left, or
 * each wrote its --count snapshots. -1 while that is not yet so. */
static int writers_end(const struct pipeline *p)
{
	const struct output_args *writers[2] = {
		p->stdout_started ? &p->to_stdout : NULL,
		p->log_started ? &p->to_log : NULL,
	};
	bool all_done = true, replayed = __atomic_load_n(&p->replay.finished, __ATOMIC_ACQUIRE);

	for (int i = 0; i < 2; i++) {
		if (!writers[i])
			continue;
		switch (__atomic_load_n(&writers[i]->status, __ATOMIC_ACQUIRE)) {
		case OUTPUT_FAILED:
			return PIPELINE_FAILED;
		case OUTPUT_STDOUT_GONE:
			return PIPELINE_STDOUT_GONE;
		case OUTPUT_DONE:
			break;
		default:
			all_done = false;
		}
	}
	return all_done || replayed ? PIPELINE_COUNT_REACHED : -1;
}

enum pipeline_end pipeline_wait(struct pipeline *p, int signal_fd)
{
	/* poll() skips negative fds: no signal_fd, no live view. */
	struct pollfd fds[4] = {
		{ .fd = p->done_fd, .events = POLLIN },
		{ .fd = p->failed_fd, .events = POLLIN },
		{ .fd = signal_fd, .events = POLLIN },
		{ .fd = p->quit_fd, .events = POLLIN },
	};
	uint64_t count;
	int end;

	for (;;) {
		while (poll(fds, 4, -1) < 0)
			if (errno != EINTR)
				return PIPELINE_FAILED;
		if (fds[1].revents)
			return PIPELINE_FAILED;
		if (fds[3].revents)
			return PIPELINE_QUIT;
		if (fds[0].revents && read(p->done_fd, &count, sizeof(count)) >= 0 &&
		    (end = writers_end(p)) >= 0)
			return end;
		if (fds[2].revents && !only_hangups(p, signal_fd))
			return PIPELINE_SIGNALLED;
	}
}

void pipeline_report_owners(struct pipeline *p)
{
	struct snapshot *s = snapshot_acquire(&p->feed);

	if (!s)
		return;
	report_verbose("rows with no process: %zu of %zu in the last snapshot; %llu flows ended "
		       "without one", s->totals.unowned_flows,
		       s->totals.tcp_flows + s->totals.udp_flows,
		       (unsigned long long)s->ended_unowned);
	snapshot_release(s);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* A writer to a file on a filesystem that stopped answering may never end: after a
 * second, the user hears why tcptop waits, and how not to. */
static void join_patiently(pthread_t tid, const char *what)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 1;
	if (pthread_timedjoin_np(tid, NULL, &deadline) != ETIMEDOUT)
		return;
	report_error("stopping: still writing %s; a second SIGINT or SIGTERM ends tcptop "
		     "without it",
		     what);
	pthread_join(tid, NULL);
}

/* The connections that ended since the last drain, and those ended but not shown yet, go
 * to the closed log before its writer ends: main drains once more (the collector has
 * ended, so main is the table's only writer now). */
static void finish_closed_log(struct pipeline *p)
{
	if (!p->closed_started)
		return;
	if (p->backend_open && p->table &&
	    p->backend.ops->drain(&p->backend, p->table, clock_now_ns(CLOCK_MONOTONIC)) < 0)
		report_error("--closed: the last flows could not be read; some may be missing");
	if (p->table)
		collector_sweep(&p->collector, true);
	closed_log_flush(p->closed, true);
	join_patiently(p->closed_tid, "the closed log");
	p->closed_started = false;
}

/* Losses that grew after stdout's writer last said them (the final drain's, or after its
 * last snapshot; beside the live view, all of them) are said once more at the end. */
static void say_last_losses(struct pipeline *p)
{
	struct loss_sources sources = {
		p->log ? log_file_health(p->log) : NULL,
		p->closed ? closed_log_health(p->closed) : NULL,
		&p->output_skipped,
		p->record_file ? log_file_health(p->record_file) : NULL,
	};
	struct losses now, said = { { 0 } };
	struct snapshot *s;
	char text[512];

	if (p->stdout_wanted)
		said = p->to_stdout.losses_said;
	s = snapshot_acquire(&p->feed);
	losses_read(&now, s, &sources);
	snapshot_release(s);
	if (!losses_grew(&now, &said))
		return;
	losses_text(&now, text, sizeof(text));
	report_error("lost so far: %s", text);
}

/* stdout's writer gives a stalled reader 300 ms (output/stdout_sink.c); past that
 * it may sit in a write() that poll() could not foresee, and is interrupted until it
 * ends. */
static void join_stdout_writer(struct pipeline *p)
{
	struct timespec deadline;
	long wait_ns = 400 * 1000 * 1000;

	for (;; wait_ns = 50 * 1000 * 1000) {
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_nsec += wait_ns;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		if (pthread_timedjoin_np(p->stdout_tid, NULL, &deadline) != ETIMEDOUT)
			return;
		stdout_sink_interrupt(p->stdout_tid);
	}
}

void pipeline_stop(struct pipeline *p)
{
	if (p->stopped)
		return;
	p->stopped = true;
	if ((p->collector_started || p->compute_started || p->stdout_started || p->log_started ||
	     p->ui_started || p->metrics_started || p->recorder_started || p->replay_started) &&
	    wakeup_signal(p->stop_fd) < 0)
		report_error("cannot stop the threads: %s", strerror(errno));
	if (p->ui_started)
		pthread_join(p->ui_tid, NULL);
	p->ui_started = false;
}

void pipeline_close(struct pipeline *p)
{
	bool started = p->collector_started;

	/* The terminal first: it is restored before anything else can take long. */
	pipeline_stop(p);
	if (p->collector_started)
		pthread_join(p->collector_tid, NULL);
	if (p->compute_started)
		pthread_join(p->compute_tid, NULL);
	if (p->replay_started)
		pthread_join(p->replay_tid, NULL);
	if (p->recorder_started)
		join_patiently(p->recorder_tid, "the recording");
	p->replay_started = p->recorder_started = false;
	if (p->stdout_started)
		join_stdout_writer(p);
	if (p->log_started)
		join_patiently(p->log_tid, "the log");
	if (p->metrics_started)
		pthread_join(p->metrics_tid, NULL);
	p->collector_started = p->compute_started = p->stdout_started = p->log_started = false;
	p->metrics_started = false;
	if (p->metrics_open)
		metrics_close(&p->metrics);
	p->metrics_open = false;
	finish_closed_log(p);
	if (started)
		say_last_losses(p);
	/* Every snapshot and node released with call_rcu is freed before we go on. */
	urcu_memb_barrier();
	snapshot_feed_destroy(&p->feed);
	if (p->backend_open)
		p->backend.ops->close(&p->backend);
	p->backend_open = false;
	flow_table_destroy(p->table);
	p->table = NULL;
	cgroup_ids_close(p->cgroups);
	p->cgroups = NULL;
	close_fd(&p->stop_fd);
	close_fd(&p->drained_fd);
	close_fd(&p->built_fd);
	close_fd(&p->done_fd);
	close_fd(&p->failed_fd);
	close_fd(&p->quit_fd);
	close_fd(&p->replay.ack_fd);
	if (p->replay_control_open)
		replay_control_destroy(&p->replay_control);
	p->replay_control_open = false;
}
