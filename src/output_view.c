/* The rows a reader shows: a snapshot filtered, then sorted by --sort. Each row's sort key
 * is computed once, as integers, and the rows are merge-sorted on the keys with the
 * comparison inlined; only ties the keys cannot settle go to column_compare(). */
#include <stdlib.h>
#include <string.h>
#include "columns.h"
#include "output.h"

struct sort_item {
	uint64_t key[3]; /* column_sort_key() hi, lo, then the cookie when the key is exact */
	const struct flow_row *row;
};

static int compare_items(const struct sort_item *a, const struct sort_item *b, int sort_id)
{
	for (int i = 0; i < 3; i++)
		if (a->key[i] != b->key[i])
			return a->key[i] < b->key[i] ? -1 : 1;
	return column_compare(a->row, b->row, sort_id);
}

static void insertion_sort(struct sort_item *items, size_t n, int sort_id)
{
	for (size_t i = 1; i < n; i++) {
		struct sort_item item = items[i];
		size_t j = i;

		for (; j > 0 && compare_items(&items[j - 1], &item, sort_id) > 0; j--)
			items[j] = items[j - 1];
		items[j] = item;
	}
}

/* Sorts items[0..n) with room for n / 2 items at spare. */
static void merge_sort(struct sort_item *items, size_t n, struct sort_item *spare, int sort_id)
{
	size_t half = n / 2, i = 0, j = half, k = 0;

	if (n <= 16) {
		insertion_sort(items, n, sort_id);
		return;
	}
	merge_sort(items, half, spare, sort_id);
	merge_sort(items + half, n - half, spare, sort_id);
	if (compare_items(&items[half - 1], &items[half], sort_id) <= 0)
		return; /* already in order */
	memcpy(spare, items, half * sizeof(*items));
	while (i < half && j < n) {
		if (compare_items(&items[j], &spare[i], sort_id) < 0)
			items[k++] = items[j++];
		else
			items[k++] = spare[i++];
	}
	memcpy(items + k, spare + i, (half - i) * sizeof(*items));
}

static void set_item(struct sort_item *item, const struct flow_row *row, int sort_id)
{
	struct column_sort_key key;

	column_sort_key(row, sort_id, &key);
	item->key[0] = key.hi;
	item->key[1] = key.lo;
	item->key[2] = key.exact ? row->key.cookie : 0;
	item->row = row;
}

const struct flow_row **output_view(const struct snapshot *s, const struct filter *f,
				    int sort_column, size_t *count)
{
	size_t i, n = 0, room = s->nrows ? s->nrows : 1;
	const struct flow_row **view = malloc(room * sizeof(*view));
	struct sort_item *items = malloc((room + room / 2 + 1) * sizeof(*items));

	*count = 0;
	if (!view || !items) {
		free(view);
		free(items);
		return NULL;
	}
	for (i = 0; i < s->nrows; i++)
		if (filter_match(f, &s->rows[i]))
			set_item(&items[n++], &s->rows[i], sort_column);
	merge_sort(items, n, items + n, sort_column);
	for (i = 0; i < n; i++)
		view[i] = items[i].row;
	free(items);
	*count = n;
	return view;
}
