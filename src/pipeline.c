/* Wiring of the threads. Each talks to the next only through the flow table, the snapshot
 * feed and eventfds: "drained" (collector → compute), "built" (compute → collector), a
 * feed subscription (compute → output, and compute → ui), "stop" (main → all; polled, never
 * read, so every thread sees it) and "done" / "failed" / "quit" (threads → main). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "pipeline.h"
#include "util/clock.h"
#include "util/report.h"
#include "util/thread_start.h"
#include "util/wakeup.h"

int pipeline_open(struct pipeline *p, const struct options *opt, const struct backend_ops *ops)
{
	memset(p, 0, sizeof(*p));
	p->opt = opt;
	p->stop_fd = p->drained_fd = p->built_fd = p->done_fd = p->failed_fd = p->quit_fd = -1;
	snapshot_feed_init(&p->feed);
	p->table = flow_table_new();
	if (!p->table) {
		report_error("cannot create the flow table: out of memory");
		return -1;
	}
	p->backend.ops = ops;
	if (ops->open(&p->backend, opt) < 0)
		return -1;
	p->backend_open = true;
	return ops->attach(&p->backend, p->table);
}

static int start_thread(struct pipeline *p, pthread_t *tid, const char *name,
			enum thread_privilege privilege, void *(*fn)(void *), void *arg)
{
	int err = thread_start(tid, NULL, name, privilege, fn, arg);

	if (err) {
		report_error("cannot start a thread: %s", strerror(err));
		return -1;
	}
	p->nthreads++;
	return 0;
}

/* The live view subscribes before any thread runs and starts first, like every reader. */
static int start_ui(struct pipeline *p)
{
	int err;

	p->quit_fd = wakeup_new();
	p->ui = (struct ui_args){
		.opt = p->opt,
		.feed = &p->feed,
		.notify_fd = snapshot_feed_subscribe(&p->feed),
		.stop_fd = p->stop_fd,
		.quit_fd = p->quit_fd,
		.failed_fd = p->failed_fd,
		.log_health = p->log ? log_file_health(p->log) : NULL,
		.closed_health = p->closed ? closed_log_health(p->closed) : NULL,
		.output_skipped = &p->output_skipped,
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
	return pipeline_start(p, NULL, log);
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

int pipeline_start(struct pipeline *p, FILE *stdout_sink, struct log_file *log)
{
	int notify_fd = snapshot_feed_subscribe(&p->feed);

	p->log = log;
	wakeup_once(&p->stop_fd);
	p->drained_fd = wakeup_new();
	p->built_fd = wakeup_new();
	p->done_fd = wakeup_new();
	wakeup_once(&p->failed_fd);
	if (notify_fd < 0 || p->stop_fd < 0 || p->drained_fd < 0 || p->built_fd < 0 ||
	    p->done_fd < 0 || p->failed_fd < 0) {
		report_error("cannot create eventfds: %s", strerror(errno));
		return -1;
	}
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
		.table = p->table, .feed = &p->feed, .drained_fd = p->drained_fd,
		.built_fd = p->built_fd, .stop_fd = p->stop_fd,
	};
	p->output = (struct output_args){
		.opt = p->opt,
		.feed = &p->feed,
		.stdout_sink = stdout_sink,
		.log = log,
		.notify_fd = notify_fd,
		.stop_fd = p->stop_fd,
		.done_fd = p->done_fd,
		.loss_sources = { log ? log_file_health(log) : NULL,
				  p->closed ? closed_log_health(p->closed) : NULL, NULL },
	};
	p->output.skipped = &p->output_skipped;
	p->output.loss_sources.skipped = &p->output_skipped;
	if (p->closed && start_closed_writer(p) < 0)
		return -1;
	/* Readers first, so that no snapshot is published before they listen. Only the
	 * collector keeps main's capabilities (privileges.h). */
	if (start_thread(p, &p->output_tid, "tcptop-output", THREAD_NO_CAPS, output_thread,
			 &p->output) < 0 ||
	    start_thread(p, &p->compute_tid, "tcptop-compute", THREAD_NO_CAPS, compute_thread,
			 &p->compute) < 0 ||
	    start_thread(p, &p->collector_tid, "tcptop-collect", THREAD_KEEPS_CAPS,
			 collector_thread, &p->collector) < 0)
		return -1;
	return 0;
}

static void reopen_logs(struct pipeline *p)
{
	if (p->log)
		log_file_request_reopen(p->log);
	if (p->closed_file)
		log_file_request_reopen(p->closed_file);
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
		else if (p->log || p->closed_file)
			reopen_logs(p);
	}
	return hangups_only;
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

	do {
		while (poll(fds, 4, -1) < 0)
			if (errno != EINTR)
				return PIPELINE_FAILED;
	} while (fds[2].revents && !fds[0].revents && !fds[1].revents && !fds[3].revents &&
		 only_hangups(p, signal_fd));
	if (fds[1].revents)
		return PIPELINE_FAILED;
	if (fds[3].revents)
		return PIPELINE_QUIT;
	if (fds[0].revents) {
		switch (__atomic_load_n(&p->output.status, __ATOMIC_ACQUIRE)) {
		case OUTPUT_DONE:
			return PIPELINE_COUNT_REACHED;
		case OUTPUT_STDOUT_GONE:
			return PIPELINE_STDOUT_GONE;
		default:
			return PIPELINE_FAILED;
		}
	}
	return PIPELINE_SIGNALLED;
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
	pthread_join(p->closed_tid, NULL);
	p->closed_started = false;
}

/* Losses that grew after the output thread last said them (the final drain's, or after its
 * last snapshot) are said once more at the end. */
static void say_last_losses(struct pipeline *p)
{
	struct snapshot *s;
	struct losses now;
	char text[512];

	if (!p->output.opt)
		return; /* never started */
	s = snapshot_acquire(&p->feed);
	losses_read(&now, s, &p->output.loss_sources);
	snapshot_release(s);
	if (!losses_grew(&now, &p->output.losses_said))
		return;
	losses_text(&now, text, sizeof(text));
	report_error("lost so far: %s", text);
}

void pipeline_close(struct pipeline *p)
{
	if ((p->nthreads || p->ui_started) && wakeup_signal(p->stop_fd) < 0)
		report_error("cannot stop the threads: %s", strerror(errno));
	/* The terminal first: it is restored before anything else can take long. */
	if (p->ui_started)
		pthread_join(p->ui_tid, NULL);
	p->ui_started = false;
	/* Threads were started output, compute, collector: join whichever started. */
	if (p->nthreads >= 3)
		pthread_join(p->collector_tid, NULL);
	if (p->nthreads >= 2)
		pthread_join(p->compute_tid, NULL);
	if (p->nthreads >= 1)
		pthread_join(p->output_tid, NULL);
	p->nthreads = 0;
	finish_closed_log(p);
	say_last_losses(p);
	/* Every snapshot and node released with call_rcu is freed before we go on. */
	urcu_memb_barrier();
	snapshot_feed_destroy(&p->feed);
	if (p->backend_open)
		p->backend.ops->close(&p->backend);
	p->backend_open = false;
	flow_table_destroy(p->table);
	p->table = NULL;
	close_fd(&p->stop_fd);
	close_fd(&p->drained_fd);
	close_fd(&p->built_fd);
	close_fd(&p->done_fd);
	close_fd(&p->failed_fd);
	close_fd(&p->quit_fd);
}
