/* What keys do in the live view (htop's habits): the rows mode through one table of
 * actions, the filter line and the sort list through a function each. Actions change the
 * UI state and return flags; the loop rebuilds and draws. */
#include <string.h>
#include <ncurses.h>
#include "view/columns.h"
#include "ui/ui_state.h"

#define KEY_CTRL(c) ((c) & 0x1f)
#define KEY_ESC 27

typedef int (*ui_action)(struct ui *ui);

/* ---------------------------------------------------------------- sort keys */

/* The columns shown now that rows can be sorted by, into ids; how many. */
static int sort_columns(const struct ui *ui, int ids[COLUMN_VIEW_COUNT])
{
	int n = ui_column_choices(ui, ids), kept = 0;

	for (int i = 0; i < n; i++)
		if (column_sorts(ids[i]))
			ids[kept++] = ids[i];
	return kept;
}

int ui_sort_key_count(const struct ui *ui)
{
	int ids[COLUMN_VIEW_COUNT];

	return 1 + sort_columns(ui, ids);
}

int ui_sort_key(const struct ui *ui, int index)
{
	int ids[COLUMN_VIEW_COUNT], n = sort_columns(ui, ids);

	if (index <= 0 || index > n)
		return COL_RATE;
	return ids[index - 1];
}

int ui_sort_key_index(const struct ui *ui, int sort_id)
{
	int ids[COLUMN_VIEW_COUNT], n = sort_columns(ui, ids);

	for (int i = 0; i < n; i++)
		if (ids[i] == sort_id)
			return 1 + i;
	return 0; /* rate, or a --sort column the screen does not show: "<" / ">" start over */
}

int ui_keys_set_sort(struct ui *ui, int sort_id)
{
	ui->view.sort_id = sort_id;
	ui->view.reverse = false;
	return UI_REBUILD;
}

static int sort_step(struct ui *ui, int step)
{
	int n = ui_sort_key_count(ui);

	return ui_keys_set_sort(
		ui, ui_sort_key(ui, (ui_sort_key_index(ui, ui->view.sort_id) + step + n) % n));
}

static int sort_previous(struct ui *ui)
{
	return sort_step(ui, -1);
}

static int sort_next(struct ui *ui)
{
	return sort_step(ui, 1);
}

int ui_keys_sort_reverse(struct ui *ui)
{
	ui->view.reverse = !ui->view.reverse;
	return UI_REBUILD;
}

static int sort_pick(struct ui *ui)
{
	ui->sort_pick = ui_sort_key_index(ui, ui->view.sort_id);
	ui->mode = UI_MODE_SORT;
	return UI_REDRAW;
}

/* ---------------------------------------------------------------- columns */

static int columns_pick(struct ui *ui)
{
	ui->column_pick = 0;
	ui->mode = UI_MODE_COLUMNS;
	return UI_REDRAW;
}

/* Space changes the highlighted column's mark; Enter or Esc goes back to the table. */
static int column_list_key(struct ui *ui, int key)
{
	int ids[COLUMN_VIEW_COUNT], n = ui_column_choices(ui, ids), id = ids[ui->column_pick % n];
	/* The list ui_columns_now() gives, which is the UI's own. */
	struct column_list *shown = (struct column_list *)ui_columns_now(ui);

	if (key == KEY_UP || key == 'k')
		ui->column_pick = (ui->column_pick + n - 1) % n;
	else if (key == KEY_DOWN || key == 'j')
		ui->column_pick = (ui->column_pick + 1) % n;
	else if (key == ' ' && column_list_has(shown, id))
		column_list_remove(shown, id);
	else if (key == ' ')
		column_list_add(shown, id);
	else if (key == '\n' || key == '\r' || key == KEY_ENTER || key == KEY_ESC || key == 'q' ||
		 key == 'c' || key == KEY_F(10))
		ui->mode = UI_MODE_ROWS;
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

static int window_next(struct ui *ui)
{
	ui->rate_window = (ui->rate_window + 1) % UI_RATE_WINDOWS;
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

/* The page moves only as far as it must to show the highlighted row, and never past the
 * last row. */
static void show_selected(struct ui *ui)
{
	size_t page = (size_t)ui_draw_body_lines(ui);

	if (ui->selected < ui->scroll)
		ui->scroll = ui->selected;
	else if (page && ui->selected >= ui->scroll + page)
		ui->scroll = ui->selected - page + 1;
	if (ui->scroll + page > ui->nrows)
		ui->scroll = ui->nrows > page ? ui->nrows - page : 0;
}

int ui_keys_select_row(struct ui *ui, long target, bool follow)
{
	long last = (long)ui->nrows - 1;

	ui->selected = target > last ? (size_t)(last > 0 ? last : 0) :
				       (size_t)(target > 0 ? target : 0);
	ui->following = follow && ui->nrows > 0;
	if (ui->nrows)
		ui->selected_key = ui->rows[ui->selected]->key;
	show_selected(ui);
	return UI_REDRAW;
}

void ui_keys_follow(struct ui *ui)
{
	size_t i = 0;

	while (ui->following && i < ui->nrows &&
	       memcmp(&ui->rows[i]->key, &ui->selected_key, sizeof(ui->selected_key)) != 0)
		i++;
	/* A flow that went away leaves the highlight where it was. */
	ui_keys_select_row(ui, ui->following && i < ui->nrows ? (long)i : (long)ui->selected,
			   ui->following);
}

static int select_up(struct ui *ui)
{
	return ui_keys_select_row(ui, (long)ui->selected - 1, true);
}

static int select_down(struct ui *ui)
{
	return ui_keys_select_row(ui, (long)ui->selected + 1, true);
}

/* Pages move the view and the highlight together. */
int ui_keys_page_move(struct ui *ui, long lines)
{
	long scroll = (long)ui->scroll + lines;

	ui->scroll = scroll > 0 ? (size_t)scroll : 0;
	return ui_keys_select_row(ui, (long)ui->selected + lines, true);
}

static int page_up(struct ui *ui)
{
	return ui_keys_page_move(ui, -ui_draw_body_lines(ui));
}

static int page_down(struct ui *ui)
{
	return ui_keys_page_move(ui, ui_draw_body_lines(ui));
}

static int select_first(struct ui *ui)
{
	return ui_keys_select_row(ui, 0, false);
}

static int select_last(struct ui *ui)
{
	return ui_keys_select_row(ui, (long)ui->nrows, true);
}

static int redraw_all(struct ui *ui)
{
	(void)ui;
	clearok(curscr, TRUE);
	return UI_REDRAW;
}

static int cost_toggle(struct ui *ui)
{
	ui->show_cost = !ui->show_cost;
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
	['c'] = columns_pick,
	[KEY_F(6)] = sort_pick,
	['r'] = ui_keys_sort_reverse,
	['I'] = ui_keys_sort_reverse,
	['p'] = pause_toggle,
	['Z'] = pause_toggle,
	['b'] = bits_toggle,
	['w'] = window_next,
	['n'] = names_toggle,
	['i'] = idle_toggle,
	['l'] = listen_toggle,
	['t'] = time_wait_toggle,
	['o'] = cost_toggle,
	['?'] = help_show,
	['h'] = help_show,
	[KEY_F(1)] = help_show,
	[KEY_UP] = select_up,
	['k'] = select_up,
	[KEY_DOWN] = select_down,
	['j'] = select_down,
	[KEY_PPAGE] = page_up,
	[KEY_NPAGE] = page_down,
	[' '] = page_down,
	[KEY_HOME] = select_first,
	[KEY_END] = select_last,
	['P'] = ui_timenav_pause,
	[']'] = ui_timenav_next,
	['['] = ui_timenav_previous,
	['+'] = ui_timenav_faster,
	['-'] = ui_timenav_slower,
	['J'] = ui_timenav_jump_start,
	[KEY_RESIZE] = redraw_all,
	[KEY_MOUSE] = ui_mouse_event,
	['d'] = ui_detail_open,
	['\n'] = ui_keys_enter,
	['\r'] = ui_keys_enter,
	[KEY_ENTER] = ui_keys_enter,
	['g'] = ui_group_cycle,
	[KEY_ESC] = ui_group_close,
	[KEY_BACKSPACE] = ui_group_close,
	[127] = ui_group_close,
	['\b'] = ui_group_close,
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
		ui->scroll = ui->selected = 0;
		ui->following = false;
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
	int n = ui_sort_key_count(ui);

	if (key == KEY_UP || key == 'k')
		ui->sort_pick = (ui->sort_pick + n - 1) % n;
	else if (key == KEY_DOWN || key == 'j')
		ui->sort_pick = (ui->sort_pick + 1) % n;
	else if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		ui->mode = UI_MODE_ROWS;
		return ui_keys_set_sort(ui, ui_sort_key(ui, ui->sort_pick));
	} else if (key == KEY_ESC || key == 'q' || key == KEY_F(10))
		ui->mode = UI_MODE_ROWS;
	return UI_REDRAW;
}

bool ui_keys_bound(int key)
{
	return key >= 0 && key <= KEY_MAX && row_keys[key];
}

int ui_keys_handle(struct ui *ui, int key)
{
	int flags = 0;

	switch (ui->mode) {
	case UI_MODE_FILTER:
		return filter_key(ui, key);
	case UI_MODE_SORT:
		return sort_list_key(ui, key);
	case UI_MODE_COLUMNS:
		return column_list_key(ui, key);
	case UI_MODE_JUMP:
		return ui_timenav_jump_key(ui, key);
	case UI_MODE_DETAIL:
		return key == KEY_MOUSE || key == KEY_RESIZE ? UI_REDRAW : ui_detail_key(ui, key);
	case UI_MODE_HELP:
		if (key != KEY_RESIZE)
			ui->mode = UI_MODE_ROWS;
		return UI_REDRAW;
	case UI_MODE_ROWS:
		break;
	}
	if (ui->message[0] && key != KEY_RESIZE) {
		ui->message[0] = '\0';
		flags = UI_REDRAW;
	}
	if (key < 0 || key > KEY_MAX || !row_keys[key])
		return flags;
	return flags | row_keys[key](ui);
}
