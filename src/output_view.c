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

/* Merges the sorted runs a[0..na) and b[0..nb) into out. */
static void merge(const struct sort_item *a, size_t na, const struct sort_item *b, size_t nb,
		  struct sort_item *out, int sort_id)
{
	const struct sort_item *a_end = a + na, *b_end = b + nb;

	/* Unless the runs are already in order, take the lesser head until one runs out. */
	if (na == 0 || nb == 0 || compare_items(b, a_end - 1, sort_id) < 0) {
		while (a < a_end && b < b_end)
			*out++ = compare_items(b, a, sort_id) < 0 ? *b++ : *a++;
	}
	memcpy(out, a, (size_t)(a_end - a) * sizeof(*a));
	out += a_end - a;
	memcpy(out, b, (size_t)(b_end - b) * sizeof(*b));
}

static void sort_in_place(struct sort_item *items, struct sort_item *scratch, size_t n,
			  int sort_id);

/* Sorts items[0..n) into out[0..n), using items as scratch: each level of the merge sort
 * moves every item once, from one buffer to the other. */
static void sort_into(struct sort_item *items, struct sort_item *out, size_t n, int sort_id)
{
	size_t half = n / 2;

	if (n <= 16) {
		memcpy(out, items, n * sizeof(*items));
		insertion_sort(out, n, sort_id);
		return;
	}
	sort_in_place(items, out, half, sort_id);
	sort_in_place(items + half, out + half, n - half, sort_id);
	merge(items, half, items + half, n - half, out, sort_id);
}

static void sort_in_place(struct sort_item *items, struct sort_item *scratch, size_t n,
			  int sort_id)
{
	size_t half = n / 2;

	if (n <= 16) {
		insertion_sort(items, n, sort_id);
		return;
	}
	sort_into(items, scratch, half, sort_id);
	sort_into(items + half, scratch + half, n - half, sort_id);
	merge(scratch, half, scratch + half, n - half, items, sort_id);
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
	struct sort_item *items = malloc(2 * room * sizeof(*items));

	*count = 0;
	if (!view || !items) {
		free(view);
		free(items);
		return NULL;
	}
	for (i = 0; i < s->nrows; i++)
		if (filter_match(f, &s->rows[i]))
			set_item(&items[n++], &s->rows[i], sort_column);
	sort_in_place(items, items + n, n, sort_column);
	for (i = 0; i < n; i++)
		view[i] = items[i].row;
	free(items);
	*count = n;
	return view;
}
