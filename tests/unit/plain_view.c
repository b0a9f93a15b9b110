/* The plain way to a reader's rows (plain_view.h). */
#include <stdlib.h>
#include "plain_view.h"
#include "view/row_sort.h"

const struct flow_row **plain_view(const struct snapshot *s, const struct filter *f,
				    int sort_column, size_t *count)
{
	struct row_sort rs = { s->rows, sort_column };
	size_t i, n = 0, room = s->nrows ? s->nrows : 1;
	const struct flow_row **view = malloc(room * sizeof(*view));
	struct sort_item *items = malloc(2 * room * sizeof(*items));

	*count = 0;
	if (!view || !items) {
		free(view);
		free(items);
		return NULL;
	}
	for (i = 0; i < s->nrows; i++)
		if (filter_match(f, &s->rows[i]))
			row_sort_item(&rs, i, &items[n++]);
	row_sort(&rs, items, items + n, n);
	for (i = 0; i < n; i++)
		view[i] = &s->rows[items[i].pos];
	free(items);
	*count = n;
	return view;
}
