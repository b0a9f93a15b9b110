/* What keys do in the live view, through one table per mode (htop's habits). Actions
 * change the UI state and return flags; the loop rebuilds and draws. */
#include <ctype.h>
#include <string.h>
#include <ncurses.h>
#include "columns.h"
#include "ui_state.h"

#define KEY_CTRL(c) ((c) & 0x1f)
#define KEY_ESC 27

typedef int (*ui_action)(struct ui *ui);

/* ---------------------------------------------------------------- sort keys */

int ui_sort_key_count(void)
{
	return 1 + UI_NCOLUMNS;
}

int ui_sort_key(int index)
{
	if (index <= 0 || index > UI_NCOLUMNS)
		return COL_RATE;
	return ui_columns[index - 1].sort_id;
}

int ui_sort_key_index(int sort_id)
{
	for (int i = 0; i < ui_sort_key_count(); i++)
		if (ui_sort_key(i) == sort_id)
			return i;
	return 0; /* a --sort column the screen does not show: "<" / ">" start over */
}

static int set_sort(struct ui *ui, int sort_id)
{
	ui->view.sort_id = sort_id;
	ui->view.reverse = false;
	return UI_REBUILD;
}

static int sort_step(struct ui *ui, int step)
{
	int n = ui_sort_key_count();

	return set_sort(ui, ui_sort_key((ui_sort_key_index(ui->view.sort_id) + step + n) % n));
}

static int sort_previous(struct ui *ui)
{
	return sort_step(ui, -1);
}

static int sort_next(struct ui *ui)
{
	return sort_step(ui, 1);
}

static int sort_reverse(struct ui *ui)
{
	ui->view.reverse = !ui->view.reverse;
	return UI_REBUILD;
}

static int sort_pick(struct ui *ui)
{
	ui->sort_pick = ui_sort_key_index(ui->view.sort_id);
	ui->mode = UI_MODE_SORT;
	return UI_REDRAW;
}

/* ---------------------------------------------------------------- rows mode */

static int quit(struct ui *ui)
{
	(void)ui;
	return UI_QUIT;
}

static int filter_start(struct ui *ui)
{
	snprintf(ui->edit_text, sizeof(ui->edit_text), "%s", ui->filter_text);
	ui->edit_invalid = false;
	ui->mode = UI_MODE_FILTER;
	return UI_REDRAW;
}

/* Resuming shows the newest snapshot at once: the loop fetches it. */
static int pause_toggle(struct ui *ui)
{
	ui->paused = !ui->paused;
	return ui->paused ? UI_REDRAW : UI_REFRESH;
}

static int bits_toggle(struct ui *ui)
{
	ui->bits = !ui->bits;
	return UI_REDRAW;
}

static int names_toggle(struct ui *ui)
{
	ui->resolve = !ui->resolve;
	return UI_REDRAW;
}

static int idle_toggle(struct ui *ui)
{
	ui->view.hide_idle = !ui->view.hide_idle;
	return UI_REBUILD;
}

static int listen_toggle(struct ui *ui)
{
	ui->view.hide_listen = !ui->view.hide_listen;
	return UI_REBUILD;
}

static int time_wait_toggle(struct ui *ui)
{
	ui->view.hide_time_wait = !ui->view.hide_time_wait;
	return UI_REBUILD;
}

static int help_show(struct ui *ui)
{
	ui->mode = UI_MODE_HELP;
	return UI_REDRAW;
}

static int scroll_to(struct ui *ui, long target)
{
	long page = ui_draw_body_lines();
	long last = (long)ui->nrows - page;

	if (target > last)
		target = last;
	ui->scroll = target > 0 ? (size_t)target : 0;
	return UI_REDRAW;
}

static int scroll_up(struct ui *ui)
{
	return scroll_to(ui, (long)ui->scroll - 1);
}

static int scroll_down(struct ui *ui)
{
	return scroll_to(ui, (long)ui->scroll + 1);
}

static int page_up(struct ui *ui)
{
	return scroll_to(ui, (long)ui->scroll - ui_draw_body_lines());
}

static int page_down(struct ui *ui)
{
	return scroll_to(ui, (long)ui->scroll + ui_draw_body_lines());
}

static int scroll_home(struct ui *ui)
{
	return scroll_to(ui, 0);
}

static int scroll_end(struct ui *ui)
{
	return scroll_to(ui, (long)ui->nrows);
}

static int redraw_all(struct ui *ui)
{
	(void)ui;
	clearok(curscr, TRUE);
	return UI_REDRAW;
}

static const ui_action row_keys[KEY_MAX + 1] = {
	['q'] = quit,
	[KEY_F(10)] = quit,
	[KEY_CTRL('c')] = quit,
	['/'] = filter_start,
	['\\'] = filter_start,
	[KEY_F(4)] = filter_start,
	['<'] = sort_previous,
	[','] = sort_previous,
	['>'] = sort_next,
	['.'] = sort_next,
	['s'] = sort_pick,
	[KEY_F(6)] = sort_pick,
	['r'] = sort_reverse,
	['I'] = sort_reverse,
	['p'] = pause_toggle,
	['Z'] = pause_toggle,
	['b'] = bits_toggle,
	['n'] = names_toggle,
	['i'] = idle_toggle,
	['l'] = listen_toggle,
	['t'] = time_wait_toggle,
	['?'] = help_show,
	['h'] = help_show,
	[KEY_F(1)] = help_show,
	[KEY_UP] = scroll_up,
	['k'] = scroll_up,
	[KEY_DOWN] = scroll_down,
	['j'] = scroll_down,
	[KEY_PPAGE] = page_up,
	[KEY_NPAGE] = page_down,
	[' '] = page_down,
	[KEY_HOME] = scroll_home,
	[KEY_END] = scroll_end,
	[KEY_RESIZE] = redraw_all,
	[KEY_CTRL('l')] = redraw_all,
};

/* ---------------------------------------------------------------- other modes */

static int filter_key(struct ui *ui, int key)
{
	size_t len = strlen(ui->edit_text);

	if (key == KEY_ESC) {
		ui->mode = UI_MODE_ROWS;
	} else if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		ui->edit_invalid = !ui_text_valid(ui->edit_text);
		if (ui->edit_invalid)
			return UI_REDRAW;
		snprintf(ui->filter_text, sizeof(ui->filter_text), "%s", ui->edit_text);
		ui->mode = UI_MODE_ROWS;
		ui->scroll = 0;
		return UI_REBUILD;
	} else if ((key == KEY_BACKSPACE || key == 127 || key == '\b') && len > 0) {
		ui->edit_text[len - 1] = '\0';
	} else if (key == KEY_CTRL('u')) {
		ui->edit_text[0] = '\0';
	} else if (key >= ' ' && key < 127 && len + 1 < sizeof(ui->edit_text)) {
		ui->edit_text[len] = (char)key;
		ui->edit_text[len + 1] = '\0';
	}
	ui->edit_invalid = false;
	return UI_REDRAW;
}

static int sort_list_key(struct ui *ui, int key)
{
	int n = ui_sort_key_count();

	if (key == KEY_UP || key == 'k')
		ui->sort_pick = (ui->sort_pick + n - 1) % n;
	else if (key == KEY_DOWN || key == 'j')
		ui->sort_pick = (ui->sort_pick + 1) % n;
	else if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		ui->mode = UI_MODE_ROWS;
		return set_sort(ui, ui_sort_key(ui->sort_pick));
	} else if (key == KEY_ESC || key == 'q' || key == KEY_F(10))
		ui->mode = UI_MODE_ROWS;
	return UI_REDRAW;
}

int ui_keys_handle(struct ui *ui, int key)
{
	switch (ui->mode) {
	case UI_MODE_FILTER:
		return filter_key(ui, key);
	case UI_MODE_SORT:
		return sort_list_key(ui, key);
	case UI_MODE_HELP:
		if (key != KEY_RESIZE)
			ui->mode = UI_MODE_ROWS;
		return UI_REDRAW;
	case UI_MODE_ROWS:
		break;
	}
	if (key < 0 || key > KEY_MAX || !row_keys[key])
		return 0;
	return row_keys[key](ui);
}
