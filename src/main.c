/* tcptop: top for network connections. main() checks the command line and privileges,
 * then runs the pipeline until the count is reached, stdout goes away, or a signal
 * (SIGHUP only reopens the log). */
#include <errno.h>
#include <locale.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "backend.h"
#include "cli/cli.h"
#include "config.h"
#include "output/log_file.h"
#include "pipeline.h"
#include "privileges.h"
#include "record/record.h"
#include "util/privilege.h"
#include "util/report.h"
#include "view/alert.h"

/* The live view needs a terminal to draw on and one to read keys from; -N means a fixed
 * number of snapshots, which is batch output. */
static bool want_live_view(const struct options *opt)
{
	return !opt->batch && !opt->quiet && !opt->count && isatty(STDIN_FILENO) &&
	       isatty(STDOUT_FILENO);
}

/* Which optional data the backend gathers (WANT_*): what the columns written or shown at
 * start ask for. The live view may always show listeners (its c key adds their columns
 * at any time, and their dump is cheap); the on-demand hooks follow its columns at start
 * (doc/design.md, "Health columns"). --metrics and -w show none of them. */
static unsigned wanted_data(const struct options *opt, bool live)
{
	const struct column_list *shown = live ? &opt->view_columns : &opt->output_columns;
	unsigned wants = live ? WANT_LISTENERS | WANT_HEALTH : 0;
	static const struct {
		int column;
		unsigned wants;
	} needs[] = {
		{ COL_BACKLOG, WANT_LISTENERS },
		{ COL_BACKLOG_MAX, WANT_LISTENERS },
		{ COL_DROPS, WANT_LISTENERS },
		{ COL_DROP_RATE, WANT_LISTENERS },
		{ COL_SENDQ, WANT_LISTENERS | WANT_SEGMENTS | WANT_HEALTH },
		{ COL_RECVQ, WANT_LISTENERS | WANT_ARRIVALS | WANT_HEALTH },
		{ COL_CWND, WANT_SEGMENTS | WANT_HEALTH },
		{ COL_DELIVERY_RATE, WANT_SEGMENTS | WANT_HEALTH },
		{ COL_LIMITED, WANT_SEGMENTS | WANT_CHRONO | WANT_HEALTH },
	};

	if (opt->quiet && !opt->log_path)
		return 0;
	for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]); i++)
		if (column_list_has(shown, needs[i].column) ||
		    (opt->log_path && column_list_has(&opt->output_columns, needs[i].column)))
			wants |= needs[i].wants;
	return wants;
}

/* SIGINT/SIGTERM/SIGHUP arrive through a signalfd so that the threads see a clean stop
 * (or, for SIGHUP, a reopened log) instead of being interrupted; SIGPIPE is ignored so a
 * closed stdout shows up as EPIPE. Blocked too, in every thread, for the live view to
 * read from its own signalfd: SIGWINCH, and SIGTSTP/SIGCONT (Ctrl-Z, fg). */
static int block_signals(bool live)
{
	sigset_t set, blocked;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	blocked = set;
	sigaddset(&blocked, SIGWINCH);
	if (live) {
		sigaddset(&blocked, SIGTSTP);
		sigaddset(&blocked, SIGCONT);
	}
	if (pthread_sigmask(SIG_BLOCK, &blocked, NULL) != 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Once the stop has begun (and the terminal is restored), a second SIGINT or SIGTERM
 * ends tcptop at once, by the signal's own default action, wherever it waits. */
static void make_stop_signals_fatal(void)
{
	sigset_t set;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static int start(struct pipeline *p, const struct options *opt, struct log_file *log)
{
	if (opt->quiet)
		return pipeline_start(p, -1, log);
	if (!want_live_view(opt))
		return pipeline_start(p, STDOUT_FILENO, log);
	/* Only the character set: numbers in --log must keep their '.' whatever LC_NUMERIC. */
	setlocale(LC_CTYPE, "");
	return pipeline_start_ui(p, log);
}

static int exit_status(enum pipeline_end end)
{
	return end == PIPELINE_FAILED ? 1 : 0;
}

/* --closed: its file and writer, set on the pipeline before the threads start. */
static int open_closed_log(struct pipeline *p, const struct options *opt)
{
	enum output_format fmt;

	if (!opt->closed_path)
		return 0;
	fmt = closed_log_format(opt->closed_path, opt->format);
	p->closed_file = log_file_open(opt->closed_path, fmt, closed_log_kind());
	if (p->closed_file)
		p->closed = closed_log_new(p->closed_file, fmt, &opt->filter, opt->max_flows);
	return p->closed ? 0 : -1;
}

/* The logs are opened once the BPF programs are loaded and attached: a run that cannot
 * start leaves no file behind, and an existing one untouched. They are opened with the
 * capabilities dropped, as the output threads reopen them on SIGHUP. */
/* -w: its file, opened like the logs. */
static int open_recording(struct pipeline *p, const struct options *opt)
{
	if (!opt->write_path)
		return 0;
	p->record_file = log_file_open(opt->write_path, opt->format, record_log_kind());
	return p->record_file ? 0 : -1;
}

static const struct backend_ops *chosen_backend(const struct options *opt)
{
	if (opt->read_path)
		return &backend_recording_ops;
	return opt->replay_spec ? &backend_replay_ops : &backend_ebpf_ops;
}

static int run(const struct options *opt)
{
	const struct backend_ops *ops = chosen_backend(opt);
	struct pipeline p;
	struct log_file *log = NULL;
	enum pipeline_end end = PIPELINE_FAILED;
	int signal_fd = block_signals(want_live_view(opt));

	if (signal_fd < 0) {
		report_error("cannot set up signal handling: %s", strerror(errno));
		return 1;
	}
	if (privileges_begin() < 0) {
		close(signal_fd);
		return 1;
	}
	if (pipeline_open(&p, opt, ops) == 0 && privileges_after_start_up(&p.backend) == 0 &&
	    (!opt->log_path || (log = log_file_open(opt->log_path, opt->format,
						    output_log_kind(&opt->output_columns)))) &&
	    open_closed_log(&p, opt) == 0 && open_recording(&p, opt) == 0) {
		report_verbose("%s", p.backend.ops->describe(&p.backend));
		if (start(&p, opt, log) == 0)
			end = pipeline_wait(&p, signal_fd);
		pipeline_stop(&p);
		make_stop_signals_fatal();
		pipeline_report_owners(&p);
	}
	pipeline_close(&p);
	closed_log_free(p.closed);
	log_file_close(p.closed_file);
	log_file_close(p.record_file);
	log_file_close(log);
	close(signal_fd);
	return exit_status(end);
}

/* -V: the version, then the hook set this kernel takes (the eBPF backend is loaded,
 * attached for a moment and closed: nothing less shows that it works here). */
static int print_version(const struct options *opt)
{
	struct backend probe = { .ops = &backend_ebpf_ops };
	char message[512];
	int status = 0;

	printf("tcptop %s\n", PACKAGE_VERSION);
	fflush(stdout);
	if (privilege_check(message, sizeof(message)) < 0) {
		printf("hook set: not probed (%s)\n", message);
		return 0;
	}
	report_set_verbose(opt->verbose);
	if (probe.ops->open(&probe, opt) == 0) {
		printf("%s\n", probe.ops->describe(&probe));
		probe.ops->close(&probe);
	} else {
		status = 1;
	}
	return status;
}

int main(int argc, char **argv)
{
	struct options opt;
	char message[512];
	int status;

	switch (cli_parse(argc, argv, &opt, message, sizeof(message))) {
	case CLI_EXIT_OK:
		cli_free(&opt);
		return 0;
	case CLI_USAGE_ERROR:
		report_error("%s", message);
		cli_free(&opt);
		return EXIT_USAGE;
	case CLI_VERSION:
		status = print_version(&opt);
		cli_free(&opt);
		return status;
	case CLI_RUN:
		break;
	}
	report_set_verbose(opt.verbose);
	if (opt.alert)
		alert_set_threshold(opt.alert_bytes_per_s);
	/* A fixed threshold: glibc raises it to the largest block freed, after which a
	 * burst's big snapshot arrays stay in the heap for good and RSS keeps its peak. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	if (!opt.replay_spec && !opt.read_path && privilege_check(message, sizeof(message)) < 0) {
		report_error("%s", message);
		cli_free(&opt);
		return 1;
	}
	opt.wants = wanted_data(&opt, want_live_view(&opt));
	urcu_memb_register_thread();
	status = run(&opt);
	urcu_memb_unregister_thread();
	cli_free(&opt);
	return status;
}
