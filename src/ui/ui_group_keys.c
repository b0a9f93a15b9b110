/* Grouped views in the live view: g steps through the groupings, Enter opens a group's
 * flows and Esc or Backspace goes back to the groups; each grouping keeps its own columns
 * (its defaults, -o with --group, then the c chooser). */
#include <string.h>
#include <ncurses.h>
#include "ui/ui_state.h"
#include "view/columns.h"

bool ui_rows_are_groups(const struct ui *ui)
{
	return ui->groups.grouping != GROUP_FLOW && !ui->group_open;
}

/* What kind of row the table shows: a grouping's, or GROUP_FLOW's. */
static enum grouping rows_kind(const struct ui *ui)
{
	return ui_rows_are_groups(ui) ? ui->groups.grouping : GROUP_FLOW;
}

const struct column_list *ui_columns_now(const struct ui *ui)
{
	return ui_rows_are_groups(ui) ? &ui->group_columns[ui->groups.grouping]
				      : &ui->shown_columns;
}

int ui_column_choices(const struct ui *ui, int ids[COLUMN_VIEW_COUNT])
{
	int n = 0;

	for (int i = 0; i < COLUMN_VIEW_COUNT; i++)
		if (grouping_has_column(rows_kind(ui), column_view_order[i]))
			ids[n++] = column_view_order[i];
	return n;
}

/* Each grouping's columns at start: its batch defaults the screen can show, or what -o
 * chose for the --group given. */
void ui_group_columns_init(struct ui *ui)
{
	const struct options *opt = ui->opt;

	for (int g = GROUP_PROCESS; g < GROUP_COUNT; g++) {
		struct column_list *list = &ui->group_columns[g];

		if (g == (int)opt->grouping && opt->columns_text && !opt->columns_from_config)
			*list = opt->output_columns;
		else
			grouping_default_columns((enum grouping)g, list);
		for (int id = 0; id < COL_COUNT; id++)
			if (!column_table[id].view.title)
				column_list_remove(list, id);
	}
}

/* A sort key the new rows have no value for gives way to the default. */
static void keep_sort_meaningful(struct ui *ui)
{
	if (!grouping_has_column(rows_kind(ui), ui->view.sort_id)) {
		ui->view.sort_id = COL_RATE;
		ui->view.reverse = false;
	}
}

static void rows_from_top(struct ui *ui)
{
	ui->scroll = ui->selected = 0;
	ui->following = false;
}

int ui_group_cycle(struct ui *ui)
{
	ui->groups.grouping = (enum grouping)((ui->groups.grouping + 1) % GROUP_COUNT);
	ui->group_open = false;
	keep_sort_meaningful(ui);
	rows_from_top(ui);
	return UI_REBUILD;
}

int ui_keys_enter(struct ui *ui)
{
	if (!ui_rows_are_groups(ui))
		return ui_detail_open(ui);
	if (!ui->nrows)
		return 0;
	group_row_copy(&ui->open_group, group_row_of(ui->rows[ui->selected]));
	ui->group_open = true;
	keep_sort_meaningful(ui);
	rows_from_top(ui);
	return UI_REBUILD;
}

/* Back to the groups, the highlight on the one that was open. */
int ui_group_close(struct ui *ui)
{
	if (!ui->group_open)
		return 0;
	ui->group_open = false;
	keep_sort_meaningful(ui);
	ui->selected_key = ui->open_group.row.key;
	ui->following = true;
	return UI_REBUILD;
}

size_t ui_row_history(const struct ui *ui, const struct flow_row *row, double out[RATE_HISTORY_LEN])
{
	const struct rate_history *h = ui_rows_are_groups(ui) ? ui->group_history
							      : ui->flow_history;

	return h ? rate_history_get(h, &row->key, out) : 0;
}
