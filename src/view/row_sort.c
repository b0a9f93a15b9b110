/* Merge sort on integer row keys (row_sort.h). */
#include <string.h>
#include "view/columns.h"
#include "view/row_sort.h"

static int compare_items(const struct row_sort *rs, const struct sort_item *a,
			 const struct sort_item *b)
{
	for (int i = 0; i < 3; i++)
		if (a->key[i] != b->key[i])
			return a->key[i] < b->key[i] ? -1 : 1;
	return column_compare(&rs->rows[a->pos], &rs->rows[b->pos], rs->sort_id);
}

static void insertion_sort(const struct row_sort *rs, struct sort_item *items, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct sort_item item = items[i];
		size_t j = i;

		for (; j > 0 && compare_items(rs, &items[j - 1], &item) > 0; j--)
			items[j] = items[j - 1];
		items[j] = item;
	}
}

void row_sort_merge_into(const struct row_sort *rs, struct sort_item *a, size_t na,
			 const struct sort_item *b, size_t nb)
{
	struct sort_item *out = a + na + nb;

	/* From the back, the greater tail first; on a tie a's item stays first. */
	while (nb > 0) {
		if (na > 0 && compare_items(rs, &a[na - 1], &b[nb - 1]) > 0)
			*--out = a[--na];
		else
			*--out = b[--nb];
	}
}

/* The sorted runs items[0..na) and items[na..na+nb) merged in place, through a copy of the
 * first in scratch: the merge's front never overtakes the second run's unread items. */
static void merge_runs(const struct row_sort *rs, struct sort_item *items, size_t na, size_t nb,
		       struct sort_item *scratch)
{
	const struct sort_item *a = scratch, *a_end = scratch + na;
	struct sort_item *b = items + na, *b_end = b + nb, *out = items;

	if (compare_items(rs, b, b - 1) >= 0)
		return; /* in order already */
	memcpy(scratch, items, na * sizeof(*items));
	/* The lesser head until one runs out; on a tie the first run's item goes first. */
	while (a < a_end && b < b_end)
		*out++ = compare_items(rs, b, a) < 0 ? *b++ : *a++;
	memcpy(out, a, (size_t)(a_end - a) * sizeof(*a)); /* what is left of b is in place */
}

void row_sort(const struct row_sort *rs, struct sort_item *items, struct sort_item *scratch,
	      size_t n)
{
	size_t half = n / 2;

	if (n <= 16) {
		insertion_sort(rs, items, n);
		return;
	}
	row_sort(rs, items, scratch, half);
	row_sort(rs, items + half, scratch, n - half);
	merge_runs(rs, items, half, n - half, scratch);
}

void row_sort_item(const struct row_sort *rs, size_t pos, struct sort_item *item)
{
	const struct flow_row *row = &rs->rows[pos];
	struct column_sort_key key;

	column_sort_key(row, rs->sort_id, &key);
	item->key[0] = key.hi;
	item->key[1] = key.lo;
	item->key[2] = key.exact ? row->key.cookie : 0;
	item->pos = (uint32_t)pos;
	item->text = (struct kept_text){ .first_seen_ns = row->first_seen_ns };
}
