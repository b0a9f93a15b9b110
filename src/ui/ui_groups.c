/* The live view's grouped rows (ui_groups.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ui/ui_groups.h"
#include "util/array_grow.h"
#include "view/columns.h"

static bool same_choice(const struct ui_groups *g, const struct ui_view_options *o)
{
	const struct ui_view_options *a = &g->applied;

	return g->set && a->filter == o->filter && a->hide_idle == o->hide_idle &&
	       a->hide_listen == o->hide_listen && a->hide_time_wait == o->hide_time_wait &&
	       strcmp(g->applied_text, o->text) == 0;
}

static bool row_shown_by(const struct flow_row *row, const void *arg)
{
	return ui_row_shown(arg, row);
}

/* Another grouping or choice of rows: a new set, whose groups start from what the
 * snapshot has (a group's kept totals are for the rows it was made for). */
static int choose(struct ui_groups *g, const struct ui_view_options *o)
{
	group_set_free(g->set);
	g->set = group_set_new(g->grouping, o->filter, o->sort_id);
	if (!g->set)
		return -1;
	g->applied = *o;
	snprintf(g->applied_text, sizeof(g->applied_text), "%s", o->text);
	g->applied.text = g->applied_text;
	g->applied.group_set = NULL; /* the set groups every row; opening one is the caller's */
	g->applied.group = NULL;
	group_set_also(g->set, row_shown_by, &g->applied);
	return 0;
}

int ui_groups_update(struct ui_groups *g, const struct snapshot *s, const struct ui_view_options *o)
{
	size_t n;

	g->nrows = 0;
	if (g->set && group_set_grouping(g->set) != g->grouping) {
		group_set_free(g->set);
		g->set = NULL;
	}
	if (!same_choice(g, o) && choose(g, o) < 0)
		return -1;
	group_set_sort_by(g->set, o->sort_id);
	if (group_set_update(g->set, s) < 0)
		return -1;
	n = group_set_count(g->set);
	if (n > g->room) {
		if (!array_grow((void **)&g->rows, n, sizeof(*g->rows)))
			return -1;
		g->room = n;
	}
	for (size_t i = 0; i < n; i++)
		g->rows[i] = &group_set_row(g->set, i)->row;
	g->nrows = n;
	if (o->reverse)
		ui_rows_reverse(g->rows, n);
	return 0;
}

void ui_groups_free(struct ui_groups *g)
{
	group_set_free(g->set);
	free(g->rows);
	g->set = NULL;
	g->rows = NULL;
	g->nrows = g->room = 0;
}

void ui_group_label(enum grouping g, const struct group_row *row, char *out, size_t len)
{
	struct column_value v;

	switch (g) {
	case GROUP_PROCESS:
		if (row->row.id->tgid)
			snprintf(out, len, "pid %u (%s)", row->row.id->tgid, row->row.id->comm);
		else
			snprintf(out, len, "no process");
		return;
	case GROUP_REMOTE:
		column_value(&row->row, COL_RADDR, &v);
		snprintf(out, len, "%s", v.is_null ? "no remote address" : v.text);
		return;
	case GROUP_PORT:
		snprintf(out, len, "%s port %u",
			 row->row.id->proto == TCPTOP_PROTO_UDP ? "udp" : "tcp", row->port);
		return;
	case GROUP_CGROUP:
		column_value(&row->row, COL_CGROUP, &v);
		snprintf(out, len, "%s", v.is_null || !v.text[0] ? "cgroup not known" : v.text);
		return;
	default:
		snprintf(out, len, "%s", "");
	}
}
