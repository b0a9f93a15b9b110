/* What the live view's screen shows: three header lines, the column titles, the rows and
 * a key bar, or the help or the sort list in place of the rows. Every frame is drawn into
 * stdscr after erase() and sent with one doupdate(), so only changed cells reach the tty. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <ncurses.h>
#include "view/alert.h"
#include "view/columns.h"
#include "ui/ui_help.h"
#include "output/format.h"
#include "output/losses.h"
#include "ui/ui_put.h"
#include "ui/ui_state.h"
#include "util/utf8.h"

/* Three header lines, four with the cost line; then the column titles. */
#define TITLE_LINE (3 + (ui->show_cost ? 1 : 0))
#define FIRST_ROW_LINE (TITLE_LINE + 1)
#define LINE_MAX_BYTES 512

/* Fixed thresholds (options' heat: 1 KiB/s, 100 KiB/s, 10 MiB/s unless tcptoprc says)
 * rather than a share of the busiest flow: on an idle host the busiest flow at 2 KiB/s
 * would glow red, and colours would change meaning from frame to frame. */
#define HEAT_COOL (ui->opt->heat[0])
#define HEAT_WARM (ui->opt->heat[1])
#define HEAT_HOT (ui->opt->heat[2])

int ui_draw_body_lines(const struct ui *ui)
{
	int n = LINES - FIRST_ROW_LINE - 1;

	return n > 0 ? n : 0;
}

static attr_t look(const struct ui *ui, enum ui_pair pair, attr_t mono)
{
	return ui->colour ? COLOR_PAIR(pair) : mono;
}

/* Text at (y, x) cut to the screen's width: nothing wraps, and nothing the terminal would
 * act on reaches it (process names, DNS answers and typed filters come from outside). */
int ui_put(const struct ui *ui, int y, int x, attr_t attr, bool keep_tail, const char *fmt, ...)
{
	char text[LINE_MAX_BYTES];
	va_list ap;

	if (y < 0 || y >= LINES || x >= COLS)
		return x;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	utf8_make_printable(text, ui->utf8);
	ui_text_fit(text, COLS - x, keep_tail);
	attrset(attr);
	mvaddstr(y, x, text);
	attrset(A_NORMAL);
	return x + ui_text_cells(text);
}

/* ---------------------------------------------------------------- header */

static void format_interval(uint64_t ns, char *out, size_t len)
{
	if (ns % 1000000000ULL == 0)
		snprintf(out, len, "%llus", (unsigned long long)(ns / 1000000000ULL));
	else
		snprintf(out, len, "%llums", (unsigned long long)(ns / 1000000ULL));
}

/* While the --log file fails to take snapshots (the log's writer says so). */
static void draw_log_health(const struct ui *ui, int x)
{
	const char *failing;
	uint64_t lost;

	if (!ui->log_health)
		return;
	failing = atomic_load_explicit(&ui->log_health->failing, memory_order_acquire);
	lost = atomic_load_explicit(&ui->log_health->lost, memory_order_relaxed);
	if (failing)
		ui_put(ui, 0, x, look(ui, UI_PAIR_ALERT, A_BOLD), false,
		       "log failing: %s (%llu snapshot%s lost)", failing, (unsigned long long)lost,
		       lost == 1 ? "" : "s");
}

/* While the --closed file fails to take ended flows. */
static int draw_closed_health(const struct ui *ui, int x)
{
	const char *failing;

	if (!ui->closed_health)
		return x;
	failing = atomic_load_explicit(&ui->closed_health->file->failing, memory_order_acquire);
	if (!failing)
		return x;
	return ui_put(ui, 2, x, look(ui, UI_PAIR_ALERT, A_BOLD), false, "closed log failing: %s",
		      failing) +
	       2;
}

/* Every loss counter that is not zero (output/losses.h), highlighted. */
static void draw_losses(const struct ui *ui, int x)
{
	struct loss_sources src = { ui->log_health, ui->closed_health, ui->output_skipped,
				    ui->record_health };
	struct losses l;
	char text[512];

	losses_read(&l, ui->shown, &src);
	losses_text(&l, text, sizeof(text));
	if (text[0])
		ui_put(ui, 2, x, look(ui, UI_PAIR_ALERT, A_BOLD), false, "lost: %s", text);
}

/* A recording's snapshot: its recorded time as the CSV prints it (what J and --begin
 * take), where it is in the recording, and whether it plays. */
static int draw_recorded_time(const struct ui *ui, const struct snapshot *s)
{
	struct replay_position pos = { 0 };
	char when[40] = "--";
	int x;

	if (s) {
		format_time_iso8601(&s->time, when, sizeof(when));
		replay_control_position(ui->replay, s->generation, &pos);
	} else {
		replay_control_position(ui->replay, 0, &pos);
	}
	x = ui_put(ui, 0, 0, A_BOLD, false, "tcptop %s", when);
	if (pos.known)
		x = ui_put(ui, 0, x, A_NORMAL, false, "  snapshot %zu of %zu", pos.entry + 1,
			   pos.count);
	if (pos.paused)
		return ui_put(ui, 0, x + 1, look(ui, UI_PAIR_ALERT, A_REVERSE) | A_BOLD, false,
			      "[paused]");
	return ui_put(ui, 0, x + 1, A_BOLD, false, "[playing %ux]", pos.speed);
}

static void draw_counts(const struct ui *ui)
{
	const struct snapshot *s = ui->shown;
	char every[32], clock[16] = "--:--:--";
	struct tm tm;
	int x;

	format_interval(ui->opt->interval_ns, every, sizeof(every));
	if (s && localtime_r(&s->time.tv_sec, &tm))
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	if (ui->replay)
		x = draw_recorded_time(ui, s);
	else
		x = ui_put(ui, 0, 0, A_BOLD, false, "tcptop %s every %s", clock, every);
	if (!s) {
		ui_put(ui, 0, x, A_NORMAL, false, "  waiting for the first snapshot...");
		return;
	}
	x = ui_put(ui, 0, x, A_NORMAL, false, "  Flows: %zu (TCP %zu, UDP %zu), %zu shown",
		   s->totals.tcp_flows + s->totals.udp_flows, s->totals.tcp_flows,
		   s->totals.udp_flows, ui->nrows);
	if (s->totals.unowned_flows)
		x = ui_put(ui, 0, x, A_NORMAL, false, ", %zu with no process",
			   s->totals.unowned_flows);
	if (ui->paused)
		x = ui_put(ui, 0, x + 2, look(ui, UI_PAIR_ALERT, A_REVERSE) | A_BOLD, false,
			   "PAUSED");
	draw_log_health(ui, x + 2);
}

/* The host's TCP listeners' drops in the last interval: a full accept queue loses
 * connections silently; highlighted while it does. */
static void draw_listen_drops(const struct ui *ui, int x)
{
	const struct snapshot *s = ui->shown;

	if (!s || !s->listen_drops_known)
		return;
	ui_put(ui, 1, x, s->listen_drops ? look(ui, UI_PAIR_ALERT, A_BOLD) | A_BOLD : A_NORMAL,
	       false, "Listen drops: %llu", (unsigned long long)s->listen_drops);
}

static void draw_rates(const struct ui *ui)
{
	char rx[24], tx[24], total_rx[24], total_tx[24];
	int x;

	ui_format_rate(ui->shown_rx_rate, ui->bits, rx, sizeof(rx));
	ui_format_rate(ui->shown_tx_rate, ui->bits, tx, sizeof(tx));
	ui_format_size((uint64_t)ui->total_rx, total_rx, sizeof(total_rx));
	ui_format_size((uint64_t)ui->total_tx, total_tx, sizeof(total_tx));
	x = ui_put(ui, 1, 0, A_NORMAL, false,
		   "Shown: RX %s  TX %s    Since start (all flows): %sRX %s  TX %s", rx, tx,
		   ui->totals_estimated ? "about " : "", total_rx, total_tx);
	draw_listen_drops(ui, x + 4);
}

static const char *sort_marker(const struct ui *ui)
{
	bool down = ui_sort_descending(ui->view.sort_id, ui->view.reverse);

	if (ui->utf8)
		return down ? "\u25bc" : "\u25b2";
	return down ? "v" : "^";
}

/* How many shown rows are above --alert, and the threshold, in the view's units. */
static int draw_alert_count(const struct ui *ui, int x)
{
	char rate[24];

	ui_format_rate(alert_threshold(), ui->bits, rate, sizeof(rate));
	return ui_put(ui, 2, x,
		      ui->alert.shown_above ? look(ui, UI_PAIR_ALERT, A_BOLD) | A_BOLD : 0, false,
		      "Alert: %zu above %s", ui->alert.shown_above, rate);
}

/* "Group: process", or the group opened: "Group: process pid 812 (nginx), Esc back". */
static int draw_grouping(const struct ui *ui, int x)
{
	char label[160];

	if (!ui->group_open)
		return ui_put(ui, 2, x, A_BOLD, false, "Group: %s",
			      grouping_name(ui->groups.grouping));
	ui_group_label(ui->groups.grouping, &ui->open_group, label, sizeof(label));
	return ui_put(ui, 2, x, A_BOLD, false, "Group: %s %s, Esc back",
		      grouping_name(ui->groups.grouping), label);
}

static void draw_choices(const struct ui *ui)
{
	const struct ui_view_options *v = &ui->view;
	int x;

	x = ui_put(ui, 2, 0, A_NORMAL, false, "Sort: %s %s  Rates: %s  Filter: %s  Names: %s%s%s%s",
		   column_name(v->sort_id), sort_marker(ui), ui_rate_window_names[ui->rate_window],
		   ui->filter_text[0] ? ui->filter_text : "none", ui->resolve ? "DNS" : "off",
		   v->hide_idle ? "  -idle" : "", v->hide_listen ? "  -LISTEN" : "",
		   v->hide_time_wait ? "  -TIME_WAIT" : "");
	if (ui->groups.grouping != GROUP_FLOW)
		x = draw_grouping(ui, x + 2);
	if (alert_enabled())
		x = draw_alert_count(ui, x + 2);
	draw_losses(ui, draw_closed_health(ui, x + 2));
}

static void draw_cost(const struct ui *ui)
{
	char text[256];

	if (!ui->show_cost)
		return;
	ui_cost_text(&ui->cost, text, sizeof(text));
	ui_put(ui, 3, 0, A_NORMAL, false, "%s", text);
}

/* ---------------------------------------------------------------- table */

static bool is_sort_column(const struct ui *ui, int id)
{
	if (ui->view.sort_id == COL_RATE)
		return id == COL_RX_RATE || id == COL_TX_RATE;
	return id == ui->view.sort_id;
}

static void draw_cell(const struct ui *ui, int y, int x, int width, bool right, attr_t attr,
		      char *text)
{
	ui_text_fit(text, width, false);
	ui_put(ui, y, right ? x + width - ui_text_cells(text) : x, attr, false, "%s", text);
}

static void draw_titles(const struct ui *ui, const struct ui_layout *lay)
{
	attr_t attr = look(ui, UI_PAIR_TITLE, A_REVERSE);
	char title[32];

	attrset(attr);
	mvhline(TITLE_LINE, 0, ' ', COLS);
	for (int i = 0; i < lay->ncolumns; i++) {
		int id = lay->column[i];

		snprintf(title, sizeof(title), "%s%s", column_table[id].view.title,
			 is_sort_column(ui, id) ? sort_marker(ui) : "");
		draw_cell(ui, TITLE_LINE, lay->x[i], lay->width[i], column_table[id].view.right,
			  attr | (is_sort_column(ui, id) ? A_BOLD : 0), title);
	}
	attrset(A_NORMAL);
}

static attr_t heat(const struct ui *ui, double rate)
{
	if (rate >= HEAT_HOT)
		return look(ui, UI_PAIR_HOT, A_BOLD) | A_BOLD;
	if (rate >= HEAT_WARM)
		return look(ui, UI_PAIR_WARM, A_NORMAL);
	if (rate >= HEAT_COOL)
		return look(ui, UI_PAIR_COOL, A_NORMAL);
	return A_NORMAL;
}

static attr_t cell_look(const struct ui *ui, const struct flow_row *row, int id)
{
	struct column_value v;

	if (id != COL_RX_RATE && id != COL_TX_RATE)
		return A_NORMAL;
	column_value(row, ui_rate_column(id, ui->rate_window), &v);
	return heat(ui, v.real);
}

/* Only rows on screen ask for names: the resolver never sees the rest. A flow without a
 * peer has none; a remote address's group always has one. */
static const char *peer_name(const struct ui *ui, const struct flow_row *row, char *name,
			     size_t len)
{
	bool remote_group = ui_rows_are_groups(ui) && ui->groups.grouping == GROUP_REMOTE &&
			    row->id->family;

	if (!ui->resolve || !ui->resolver || (row->id->rport == 0 && !remote_group))
		return NULL;
	return resolver_lookup(ui->resolver, row->id->family, row->id->raddr, name, len) ? name
											 : NULL;
}

/* A row above --alert: "!" in the gutter (readable without colour) and alert-coloured. */
static attr_t alert_mark(const struct ui *ui, int y, const struct flow_row *row, attr_t bar,
			 bool selected)
{
	attr_t attr = look(ui, UI_PAIR_ALERT, A_BOLD) | A_BOLD;

	if (!alert_row_above(row))
		return 0;
	ui_put(ui, y, 0, selected ? bar | A_BOLD : attr, false, "!");
	return attr;
}

static void draw_row(const struct ui *ui, int y, const struct flow_row *row,
		     const struct ui_layout *lay, bool selected)
{
	attr_t bar = look(ui, UI_PAIR_SELECT, A_REVERSE), above;
	char text[160], name[64];
	double history[RATE_HISTORY_LEN];
	struct ui_cell_style style = {
		.bits = ui->bits,
		.utf8 = ui->utf8,
		.window = ui->rate_window,
		.remote_name = peer_name(ui, row, name, sizeof(name)),
		.group = ui_rows_are_groups(ui),
		.history = history,
	};

	if (selected) {
		attrset(bar);
		mvhline(y, 0, ' ', COLS);
		attrset(A_NORMAL);
	}
	above = alert_mark(ui, y, row, bar, selected);
	for (int i = 0; i < lay->ncolumns; i++) {
		int id = lay->column[i];
		const struct column_view *v = &column_table[id].view;

		if (id == COL_HISTORY) {
			style.history_len = ui_row_history(ui, row, history);
			style.history_cells = lay->width[i];
		}
		ui_format_cell(row, id, &style, text, sizeof(text));
		utf8_make_printable(text, ui->utf8); /* before it is cut to the column's width */
		/* Addresses keep their end: the port tells more than the first octets. */
		ui_text_fit(text, lay->width[i], v->unit == UNIT_ENDPOINT);
		draw_cell(ui, y, lay->x[i], lay->width[i], v->right,
			  selected ? bar
			  : above  ? above
				   : cell_look(ui, row, id),
			  text);
	}
}

int ui_title_line(const struct ui *ui)
{
	return TITLE_LINE;
}

void ui_table_layout(const struct ui *ui, struct ui_layout *lay)
{
	/* With --alert, a one-cell gutter on the left for the rows' marks. */
	int gutter = alert_enabled() ? 1 : 0;

	ui_layout_compute(COLS - gutter, ui_columns_now(ui), lay);
	if (ui_rows_are_groups(ui) && ui->groups.grouping == GROUP_CGROUP)
		ui_layout_lead(lay, COL_CGROUP);
	for (int i = 0; i < lay->ncolumns; i++)
		lay->x[i] += gutter;
}

static void draw_table(const struct ui *ui)
{
	struct ui_layout lay;
	int lines = ui_draw_body_lines(ui);

	ui_table_layout(ui, &lay);
	draw_titles(ui, &lay);
	for (size_t i = 0; i < (size_t)lines && ui->scroll + i < ui->nrows; i++)
		draw_row(ui, FIRST_ROW_LINE + (int)i, ui->rows[ui->scroll + i], &lay,
			 ui->scroll + i == ui->selected);
}

/* ---------------------------------------------------------------- help, sort list, bar */

static void draw_help(const struct ui *ui)
{
	int y = TITLE_LINE;

	ui_put(ui, y++, 0, look(ui, UI_PAIR_TITLE, A_REVERSE), false, "%-*s", COLS,
	       "tcptop keys (any key returns)");
	for (int i = 0; ui_help_keys[i] && y < LINES - 1; i++)
		ui_put(ui, y++, 0, A_NORMAL, false, "%s", ui_help_keys[i]);
}

static void sort_key_label(int sort_id, char *out, size_t len)
{
	if (sort_id >= 0 && sort_id < COL_COUNT && column_table[sort_id].view.title)
		snprintf(out, len, "%-10s %s", column_name(sort_id), column_table[sort_id].view.title);
	else
		snprintf(out, len, "%-10s RX/s + TX/s", column_name(sort_id));
}

static void draw_sort_list(const struct ui *ui)
{
	char label[64];
	int y = TITLE_LINE;

	ui_put(ui, y++, 0, look(ui, UI_PAIR_TITLE, A_REVERSE), false, "%-*s", COLS,
	       "Sort by (Up/Down, Enter picks, Esc cancels)");
	for (int i = 0; i < ui_sort_key_count(ui) && y < LINES - 1; i++) {
		sort_key_label(ui_sort_key(ui, i), label, sizeof(label));
		ui_put(ui, y++, 0, i == ui->sort_pick ? A_REVERSE : A_NORMAL, false, "  %-30s",
		       label);
	}
}

static void draw_column_list(const struct ui *ui)
{
	int ids[COLUMN_VIEW_COUNT], n = ui_column_choices(ui, ids), y = TITLE_LINE;

	ui_put(ui, y++, 0, look(ui, UI_PAIR_TITLE, A_REVERSE), false, "%-*s", COLS,
	       "Columns (Up/Down, Space shows or hides, Enter closes)");
	for (int i = 0; i < n && y < LINES - 1; i++) {
		int id = ids[i];

		ui_put(ui, y++, 0, i == ui->column_pick ? A_REVERSE : A_NORMAL, false,
		       "  [%c] %-10s %-20s", column_list_has(ui_columns_now(ui), id) ? 'x' : ' ',
		       column_name(id), column_table[id].view.title);
	}
}

static void draw_bar(const struct ui *ui)
{
	int y = LINES - 1;

	if (ui->mode == UI_MODE_FILTER) {
		int x = ui_put(ui, y, 0, A_BOLD, false, "Filter: ");

		x = ui_put(ui, y, x, A_NORMAL, true, "%s_", ui->edit_text);
		ui_put(ui, y, x + 2, ui->edit_invalid ? look(ui, UI_PAIR_ALERT, A_BOLD) : A_NORMAL,
		       false,
		       ui->edit_invalid ? "port: and pid: need a number"
					: "Enter apply  Esc cancel");
		return;
	}
	if (ui->mode == UI_MODE_JUMP) {
		int x = ui_put(ui, y, 0, A_BOLD, false, "Jump to: ");

		x = ui_put(ui, y, x, A_NORMAL, true, "%s_", ui->jump_text);
		ui_put(ui, y, x + 2, A_NORMAL, false,
		       "ISO-8601 as the CSV prints it, or HH:MM[:SS]  Enter jump  Esc cancel");
		return;
	}
	if (ui->message[0]) {
		ui_put(ui, y, 0, look(ui, UI_PAIR_ALERT, A_BOLD), true, "%s", ui->message);
		return;
	}
	ui_put(ui, y, 0, A_NORMAL, false, "%s",
	       ui->replay ? "?:Help  P:Play/Pause  [ ]:Step  J:Jump  +/-:Speed  /:Filter  <>:Sort  "
			    "q:Quit"
			  : "?:Help  /:Filter  <>:Sort  s:SortBy  r:Reverse  p:Pause  g:Group  "
			    "n:Names  "
			    "b:Bits  q:Quit");
}

void ui_draw(const struct ui *ui)
{
	erase();
	draw_counts(ui);
	draw_rates(ui);
	draw_choices(ui);
	draw_cost(ui);
	if (ui->mode == UI_MODE_HELP)
		draw_help(ui);
	else if (ui->mode == UI_MODE_SORT)
		draw_sort_list(ui);
	else if (ui->mode == UI_MODE_COLUMNS)
		draw_column_list(ui);
	else if (ui->mode == UI_MODE_DETAIL)
		ui_detail_draw(ui, FIRST_ROW_LINE - 1);
	else
		draw_table(ui);
	draw_bar(ui);
	wnoutrefresh(stdscr);
	doupdate();
}
