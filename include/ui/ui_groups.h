/* The live view's grouped rows (the g key, --group): one row per process, remote address,
 * service port or cgroup, summed by view/group.c from each snapshot shown. The set lives as
 * long as the grouping and the choice of rows do, so that closed flows' bytes stay in their
 * group's totals; a new sort only orders it anew. */
#ifndef TCPTOP_UI_GROUPS_H
#define TCPTOP_UI_GROUPS_H

#include <stddef.h>
#include "snapshot.h"
#include "ui/ui_view.h"
#include "view/group.h"

struct ui_groups {
	enum grouping grouping;         /* GROUP_FLOW: the view is not grouped */
	struct group_set *set;          /* of grouping, for applied; NULL until the first update */
	struct ui_view_options applied; /* the rows set groups; text in applied_text */
	char applied_text[UI_FILTER_MAX];
	const struct flow_row **rows; /* each group row's flow_row, in order */
	size_t nrows, room;
};

/* The group rows of s (g->grouping, not GROUP_FLOW) that o lets through, in o's order,
 * into g->rows and g->nrows (a zeroed g to start with); -1 when out of memory (no rows). */
int ui_groups_update(struct ui_groups *g, const struct snapshot *s,
		     const struct ui_view_options *o);
void ui_groups_free(struct ui_groups *g);

/* A group's name, as the header and the detail pane say it: "pid 812 (nginx)",
 * "10.0.0.7", "tcp port 443", a cgroup's shortened name. */
void ui_group_label(enum grouping g, const struct group_row *row, char *out, size_t len);

#endif
