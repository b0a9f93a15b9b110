/* The UI thread: owns the terminal while the live view runs. It waits in poll() for a key,
 * a new snapshot, a resize or the stop signal; keeps a reference on the snapshot it shows
 * (never an RCU read-side section while it draws); and restores the terminal on every way
 * out, then prints what the other threads reported meanwhile. */
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <ncurses.h>
#include <term.h>
#include "config/tcptoprc.h"
#include "util/report.h"
#include "ui/ui.h"
#include "ui/ui_state.h"
#include "view/alert.h"
#include "util/wakeup.h"

enum ui_ready {
	READY_STOP = 1,
	READY_KEYS = 2,
	READY_SNAPSHOT = 4,
	READY_SIGNAL = 8, /* a resize, Ctrl-Z or fg */
	READY_NAMES = 16,
	READY_GONE = 32, /* the terminal hung up, or poll failed: nothing left to show on */
};

/* The terminal and what was moved aside while curses owns it. */
struct ui_term {
	SCREEN *screen;
	int saved_stderr; /* the real stderr; fd 2 is a memfd meanwhile */
	int captured;     /* the memfd */
	int signal_fd;    /* SIGWINCH, SIGTSTP, SIGCONT: main blocks them in every thread */
};

/* ---------------------------------------------------------------- stderr while curses is up */

/* report_error() from any thread would write over the screen: fd 2 goes to a memfd until
 * the terminal is restored, and what it got is printed then, as htop does. */
static void stderr_capture(struct ui_term *t)
{
	fflush(stderr);
	t->captured = memfd_create("tcptop-stderr", MFD_CLOEXEC);
	t->saved_stderr = t->captured >= 0 ? fcntl(2, F_DUPFD_CLOEXEC, 3) : -1;
	if (t->saved_stderr < 0 || dup2(t->captured, 2) < 0) {
		if (t->captured >= 0)
			close(t->captured);
		if (t->saved_stderr >= 0)
			close(t->saved_stderr);
		t->captured = t->saved_stderr = -1;
	}
}

static void stderr_release(struct ui_term *t)
{
	char buf[4096];
	ssize_t n;

	if (t->captured < 0)
		return;
	fflush(stderr);
	dup2(t->saved_stderr, 2);
	close(t->saved_stderr);
	lseek(t->captured, 0, SEEK_SET);
	while ((n = read(t->captured, buf, sizeof(buf))) > 0)
		if (write(2, buf, (size_t)n) != n)
			break;
	close(t->captured);
	t->captured = t->saved_stderr = -1;
}

/* ---------------------------------------------------------------- terminal */

static void colours_start(struct ui *ui)
{
	const char *no_color = getenv("NO_COLOR");

	ui->colour = has_colors() && !(no_color && no_color[0]);
	if (!ui->colour)
		return;
	start_color();
	use_default_colors();
	init_pair(UI_PAIR_TITLE, COLOR_BLACK, COLOR_GREEN);
	init_pair(UI_PAIR_COOL, COLOR_GREEN, -1);
	init_pair(UI_PAIR_WARM, COLOR_YELLOW, -1);
	init_pair(UI_PAIR_HOT, COLOR_RED, -1);
	init_pair(UI_PAIR_ALERT, COLOR_WHITE, COLOR_RED);
	init_pair(UI_PAIR_SELECT, COLOR_BLACK, COLOR_CYAN);
}

static int signal_fd_open(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGTSTP);
	sigaddset(&set, SIGCONT);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* newterm() leaks what it allocated when TERM names no known terminal; setupterm() fails
 * cleanly, so it is asked first. */
static bool term_known(void)
{
	int err;

	if (setupterm(NULL, STDOUT_FILENO, &err) != OK)
		return false;
	del_curterm(cur_term);
	return true;
}

static int term_start(struct ui_term *t, struct ui *ui)
{
	t->signal_fd = signal_fd_open();
	t->screen = term_known() ? newterm(NULL, stdout, stdin) : NULL;
	if (!t->screen) {
		report_error("cannot use the terminal (TERM=%s); try -b",
			     getenv("TERM") ? getenv("TERM") : "");
		return -1;
	}
	stderr_capture(t);
	ui->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	cbreak(); /* Ctrl-C stays a signal: main stops the pipeline, and we restore */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	/* Presses at once (no click timing); the wheel comes as buttons 4 and 5. A terminal
	 * without a mouse simply never sends any. */
	if (!ui->opt->no_mouse) {
		mouseinterval(0);
		mousemask(BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
	}
	colours_start(ui);
	return 0;
}

static void term_stop(struct ui_term *t)
{
	if (t->screen) {
		endwin();
		delscreen(t->screen);
		t->screen = NULL;
	}
	stderr_release(t);
	if (t->signal_fd >= 0)
		close(t->signal_fd);
	t->signal_fd = -1;
}

/* Ctrl-Z: the terminal as the shell left it, then the whole process stops (SIGSTOP:
 * SIGTSTP is blocked, and this thread is the one that knows the terminal is restored). */
static void term_suspend(void)
{
	endwin();
	kill(getpid(), SIGSTOP);
}

/* SIGWINCH, SIGTSTP and SIGCONT come through signal_fd: curses learns the new size from
 * us, and after fg (or any SIGCONT) the whole screen is drawn again at once, in case the
 * terminal was used meanwhile. */
static int term_signalled(struct ui_term *t)
{
	struct signalfd_siginfo info;
	struct winsize ws;

	while (read(t->signal_fd, &info, sizeof(info)) > 0) {
		if (info.ssi_signo == SIGTSTP)
			term_suspend();
		else if (info.ssi_signo == SIGCONT)
			clearok(curscr, TRUE);
	}
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
		resizeterm(ws.ws_row, ws.ws_col);
	return UI_REBUILD;
}

/* ---------------------------------------------------------------- snapshots */

/* The rows of the snapshot shown: its flows, its groups, or an opened group's flows. The
 * groups learn every snapshot shown while grouped, opened or not, so that their kept
 * totals and an opened group's service ports stay those of the snapshot. */
static void rebuild_rows(struct ui *ui)
{
	bool grouped = ui->groups.grouping != GROUP_FLOW;
	bool have_groups = grouped && ui_groups_update(&ui->groups, ui->shown, &ui->view) == 0;

	if (grouped && !ui->group_open) {
		ui->rows = ui->groups.rows;
		ui->nrows = have_groups ? ui->groups.nrows : 0;
		return;
	}
	ui->view.group_set = ui->group_open && have_groups ? ui->groups.set : NULL;
	ui->view.group = ui->view.group_set ? &ui->open_group.key : NULL;
	if (ui->group_open && !have_groups)
		return; /* no memory for the groups: no rows rather than every flow */
	if (ui_rows_update(&ui->kept, ui->shown, &ui->view) == 0) {
		ui->rows = ui->kept.rows;
		ui->nrows = ui->kept.nrows;
	}
}

static void learn_history(struct rate_history *h, const struct snapshot *s,
			  const struct flow_row *const *rows, size_t n)
{
	if (!h || !rate_history_begin(h, s->generation, s->interval_s))
		return; /* learnt already: a rebuild for a key, not a new snapshot */
	for (size_t i = 0; i < n; i++) {
		const struct flow_row *r = rows ? rows[i] : &s->rows[i];

		rate_history_add_row(h, r);
	}
	rate_history_end(h);
}

/* Every flow's history, and every group's while grouped (a new grouping's from now). */
static void learn_histories(struct ui *ui)
{
	learn_history(ui->flow_history, ui->shown, NULL, ui->shown->nrows);
	if (ui->groups.grouping == GROUP_FLOW || !ui->groups.set)
		return;
	if (ui->history_grouping != ui->groups.grouping) {
		rate_history_free(ui->group_history);
		ui->group_history = rate_history_new();
		ui->history_grouping = ui->groups.grouping;
	}
	learn_history(ui->group_history, ui->shown, ui->groups.rows, ui->groups.nrows);
}

static void ui_rebuild(struct ui *ui)
{
	ui->shown_rx_rate = ui->shown_tx_rate = 0;
	ui->nrows = 0;
	if (ui->shown) {
		rebuild_rows(ui);
		learn_histories(ui);
	}
	for (size_t i = 0; i < ui->nrows; i++) {
		ui->shown_rx_rate += ui->rows[i]->rx_rate;
		ui->shown_tx_rate += ui->rows[i]->tx_rate;
	}
	ui_keys_follow(ui);
	ui_detail_update(ui);
}

/* A snapshot the UI was too slow to see counts at the rates of the next one, and the
 * header says the totals are estimated from then on. */
static void add_to_totals(struct ui *ui, const struct snapshot *s)
{
	uint64_t intervals = ui->last_generation ? s->generation - ui->last_generation : 1;

	ui->totals_estimated |= intervals > 1;
	ui->total_rx += s->totals.rx_rate * s->interval_s * (double)intervals;
	ui->total_tx += s->totals.tx_rate * s->interval_s * (double)intervals;
	ui->last_generation = s->generation;
}

/* Totals since start add up each interval's bytes, so flows that closed still count.
 * Paused, the screen stays as it is; totals go on counting. The rows point into the
 * snapshot shown: they are rebuilt before the old one is released, never after. */
static int ui_take_snapshot(struct ui *ui, struct snapshot_feed *feed, bool force)
{
	struct snapshot *s = snapshot_acquire(feed), *old;

	if (!s || (s->generation == ui->last_generation && !force)) {
		snapshot_release(s);
		return 0;
	}
	if (s->generation != ui->last_generation) {
		add_to_totals(ui, s);
		ui_cost_sample(&ui->cost, s);
	}
	if (ui->paused) {
		snapshot_release(s);
		return 0;
	}
	old = ui->shown;
	ui->shown = s;
	ui_rebuild(ui);
	snapshot_release(old);
	if (alert_enabled() && ui_alert_crossed(&ui->alert, ui->rows, ui->nrows))
		beep();
	return UI_REDRAW;
}

/* ---------------------------------------------------------------- the loop */

static int read_keys(struct ui *ui)
{
	int key, flags = 0;

	while (!(flags & UI_QUIT) && (key = getch()) != ERR)
		flags |= ui_keys_handle(ui, key);
	return flags;
}

static int wait_ready(const struct ui_args *args, const struct ui_term *t, int names_fd)
{
	struct pollfd fds[5] = {
		{ .fd = args->stop_fd, .events = POLLIN },
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = args->notify_fd, .events = POLLIN },
		{ .fd = t->signal_fd, .events = POLLIN },
		{ .fd = names_fd, .events = POLLIN }, /* -1, and skipped, without names */
	};
	uint64_t count;

	while (poll(fds, 5, -1) < 0)
		if (errno != EINTR)
			return READY_GONE;
	if (fds[0].revents)
		return READY_STOP;
	/* Without SIGHUP reaching main, the pipeline would go on without a screen. */
	if (fds[1].revents & (POLLHUP | POLLERR | POLLNVAL))
		return READY_GONE;
	if (fds[2].revents && read(args->notify_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		return READY_GONE;
	return (fds[1].revents ? READY_KEYS : 0) | (fds[2].revents ? READY_SNAPSHOT : 0) |
	       (fds[3].revents ? READY_SIGNAL : 0) | (fds[4].revents ? READY_NAMES : 0);
}

static int handle_ready(struct ui *ui, const struct ui_args *args, struct ui_term *t, int ready)
{
	int flags = 0;

	if (ready & READY_SIGNAL)
		flags |= term_signalled(t);
	if (ready & READY_SNAPSHOT)
		flags |= ui_take_snapshot(ui, args->feed, false);
	if (ready & READY_KEYS)
		flags |= read_keys(ui);
	if (ready & READY_NAMES) {
		resolver_drain(ui->resolver);
		flags |= ui->resolve ? UI_REDRAW : 0;
	}
	if (flags & UI_REFRESH)
		flags |= ui_take_snapshot(ui, args->feed, true);
	return flags;
}

static void ui_init(struct ui *ui, const struct options *opt)
{
	memset(ui, 0, sizeof(*ui));
	ui->opt = opt;
	ui->view.filter = &opt->filter;
	ui->view.text = ui->filter_text;
	ui->view.sort_id = opt->sort_column;
	ui->shown_columns = opt->view_columns;
	ui->resolve = !opt->no_resolve;
	ui->click_row = -1;
	ui->view.reverse = opt->sort_reverse;
	ui->bits = opt->bits;
	ui->view.hide_idle = opt->hide_idle;
	ui->view.hide_listen = opt->hide_listen;
	ui->view.hide_time_wait = opt->hide_time_wait;
	ui->groups.grouping = opt->grouping;
	ui_group_columns_init(ui);
	ui->flow_history = rate_history_new();
}

/* The sort tcptoprc keeps: a flow column's (a group's own column would not sort flows). */
static int sort_to_save(const struct ui *ui)
{
	if (grouping_has_column(GROUP_FLOW, ui->view.sort_id))
		return ui->view.sort_id;
	return grouping_has_column(GROUP_FLOW, ui->opt->sort_column) ? ui->opt->sort_column
								     : COL_RATE;
}

/* Whether the user changed a setting tcptoprc keeps since the view started. */
static bool settings_changed(const struct ui *ui)
{
	const struct options *opt = ui->opt;
	const struct column_list *a = &ui->shown_columns, *b = &opt->view_columns;

	return ui->view.sort_id != opt->sort_column || ui->view.reverse != opt->sort_reverse ||
	       ui->bits != opt->bits || ui->view.hide_idle != opt->hide_idle ||
	       ui->view.hide_listen != opt->hide_listen ||
	       ui->view.hide_time_wait != opt->hide_time_wait || ui->resolve != !opt->no_resolve ||
	       a->count != b->count || memcmp(a->id, b->id, (size_t)a->count * sizeof(a->id[0]));
}

/* As htop does: what the user changed in the view is there the next time. */
static void save_settings(const struct ui *ui)
{
	struct tcptoprc_view v = {
		.sort = column_name(sort_to_save(ui)),
		.reverse = ui->view.reverse,
		.bits = ui->bits,
		.hide_idle = ui->view.hide_idle,
		.hide_listen = ui->view.hide_listen,
		.hide_time_wait = ui->view.hide_time_wait,
		.dns = ui->resolve,
		.shown = &ui->shown_columns,
	};
	char path[4096];

	if (ui->opt->no_config || !settings_changed(ui) || !tcptoprc_path(path, sizeof(path)))
		return;
	if (tcptoprc_save(path, &v) < 0)
		report_error("warning: cannot save the settings to %s: %s", path, strerror(errno));
}

/* The resolver's threads start the first time names are wanted (at once without -n). */
static int names_fd(struct ui *ui)
{
	if (ui->resolve && !ui->resolver)
		ui->resolver = resolver_new();
	if (!ui->resolver)
		ui->resolve = false;
	return ui->resolver ? resolver_fd(ui->resolver) : -1;
}

static void ui_free(struct ui *ui)
{
	ui_rows_free(&ui->kept);
	ui_groups_free(&ui->groups);
	rate_history_free(ui->flow_history);
	rate_history_free(ui->group_history);
	ui_alert_free(&ui->alert);
	snapshot_release(ui->shown);
	resolver_free(ui->resolver);
}

static void ui_run(struct ui *ui, const struct ui_args *args, struct ui_term *t)
{
	int ready, flags = UI_REBUILD;

	for (;;) {
		int fd = names_fd(ui);

		if (flags & UI_REBUILD)
			ui_rebuild(ui);
		if (flags & (UI_REBUILD | UI_REDRAW))
			ui_draw(ui);
		ready = wait_ready(args, t, fd);
		if (ready & READY_STOP)
			return;
		flags = ready & READY_GONE ? UI_QUIT : handle_ready(ui, args, t, ready);
		if (flags & UI_QUIT) {
			wakeup_signal(args->quit_fd);
			return;
		}
	}
}

void *ui_thread(void *arg)
{
	struct ui_args *args = arg;
	struct ui_term term = { .captured = -1, .saved_stderr = -1, .signal_fd = -1 };
	struct ui ui;

	urcu_memb_register_thread();
	ui_init(&ui, args->opt);
	ui.log_health = args->log_health;
	ui.closed_health = args->closed_health;
	ui.record_health = args->record_health;
	ui.output_skipped = args->output_skipped;
	ui.replay = args->replay;
	if (term_start(&term, &ui) == 0)
		ui_run(&ui, args, &term);
	else
		wakeup_signal(args->failed_fd);
	term_stop(&term);
	save_settings(&ui);
	ui_free(&ui);
	urcu_memb_unregister_thread();
	return NULL;
}
