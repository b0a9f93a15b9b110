/* The mouse in the live view, as htop has it: a click on a column title sorts by that
 * column (again: the other way), a click on a row highlights it, a double click opens its
 * detail pane, the wheel scrolls. */
#include <time.h>
#include <ncurses.h>
#include "ui/ui_state.h"
#include "ui/ui_view.h"
#include "util/clock.h"

/* Lines the wheel moves per notch, as most terminals scroll. */
#define WHEEL_LINES 3
/* Two presses this close are a double click (ncurses' own default is 166 ms; its click
 * timing is off here so that single presses act at once). */
#define DOUBLE_CLICK_NS 400000000ULL
/* ncurses queues 8 mouse events at most (EV_MAX). */
#define MOUSE_EVENTS_AT_ONCE 8

/* The column whose title spans screen column x, or -1. */
static int column_at(const struct ui *ui, int x)
{
	struct ui_layout lay;

	ui_table_layout(ui, &lay);
	for (int i = 0; i < lay.ncolumns; i++)
		if (x >= lay.x[i] && x < lay.x[i] + lay.width[i])
			return lay.column[i];
	return -1;
}

static int title_clicked(struct ui *ui, int x)
{
	int id = column_at(ui, x);

	if (id < 0 || !column_sorts(id))
		return 0;
	/* The rate columns sort by what they show: the last interval or a window. */
	id = ui_rate_column(id, ui->rate_window);
	if (id == ui->view.sort_id)
		return ui_keys_sort_reverse(ui);
	return ui_keys_set_sort(ui, id);
}

/* A second press on the same row soon after the first opens its detail pane. */
static int row_clicked(struct ui *ui, int y)
{
	size_t row = ui->scroll + (size_t)(y - ui_title_line(ui) - 1);
	uint64_t now = clock_now_ns(CLOCK_MONOTONIC);
	bool twice;

	if (y - ui_title_line(ui) - 1 >= ui_draw_body_lines(ui) || row >= ui->nrows)
		return 0;
	twice = ui->click_row == (long)row && now - ui->click_ns < DOUBLE_CLICK_NS;
	ui->click_row = twice ? -1 : (long)row;
	ui->click_ns = now;
	ui_keys_select_row(ui, (long)row, true);
	return twice ? ui_detail_open(ui) : UI_REDRAW;
}

static int one_event(struct ui *ui, const MEVENT *ev)
{
	if (ev->bstate & BUTTON4_PRESSED)
		return ui_keys_page_move(ui, -WHEEL_LINES);
	if (ev->bstate & BUTTON5_PRESSED)
		return ui_keys_page_move(ui, WHEEL_LINES);
	if (!(ev->bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)))
		return 0;
	if (ev->y == ui_title_line(ui))
		return title_clicked(ui, ev->x);
	if (ev->y > ui_title_line(ui))
		return row_clicked(ui, ev->y);
	return 0;
}

/* Presses that reach ncurses in one read (a busy host, a fast double click) come as one
 * KEY_MOUSE, and getmouse() hands them out newest first: take them all, then act on them
 * in the order they were made. */
int ui_mouse_event(struct ui *ui)
{
	MEVENT ev[MOUSE_EVENTS_AT_ONCE];
	int n = 0, flags = 0;

	while (n < MOUSE_EVENTS_AT_ONCE && getmouse(&ev[n]) == OK)
		n++;
	while (n-- > 0)
		flags |= one_event(ui, &ev[n]);
	return flags;
}
