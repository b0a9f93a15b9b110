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

/* Merges the sorted runs a[0..na) and b[0..nb) into out. */
static void merge(const struct row_sort *rs, const struct sort_item *a, size_t na,
		  const struct sort_item *b, size_t nb, struct sort_item *out)
{
	const struct sort_item *a_end = a + na, *b_end = b + nb;

	/* Unless the runs are already in order, take the lesser head until one runs out. */
	if (na == 0 || nb == 0 || compare_items(rs, b, a_end - 1) < 0) {
		while (a < a_end && b < b_end)
			*out++ = compare_items(rs, b, a) < 0 ? *b++ : *a++;
	}
	memcpy(out, a, (size_t)(a_end - a) * sizeof(*a));
	out += a_end - a;
	memcpy(out, b, (size_t)(b_end - b) * sizeof(*b));
}

void row_sort_merge_into(const struct row_sort *rs, struct sort_item *a, size_t na,
			 const struct sort_item *b, size_t nb)
{
	struct sort_item *out = a + na + nb;

	/* From the back, the greater tail first; on a tie a's item stays first, as in
	 * merge(). */
	while (nb > 0) {
		if (na > 0 && compare_items(rs, &a[na - 1], &b[nb - 1]) > 0)
			*--out = a[--na];
		else
			*--out = b[--nb];
	}
}

static void sort_in_place(const struct row_sort *rs, struct sort_item *items,
			  struct sort_item *scratch, size_t n);

/* Sorts items[0..n) into out[0..n), using items as scratch: each level of the merge sort
 * moves every item once, from one buffer to the other. */
static void sort_into(const struct row_sort *rs, struct sort_item *items, struct sort_item *out,
		      size_t n)
{
	size_t half = n / 2;

	if (n <= 16) {
		memcpy(out, items, n * sizeof(*items));
		insertion_sort(rs, out, n);
		return;
	}
	sort_in_place(rs, items, out, half);
	sort_in_place(rs, items + half, out + half, n - half);
	merge(rs, items, half, items + half, n - half, out);
}

static void sort_in_place(const struct row_sort *rs, struct sort_item *items,
			  struct sort_item *scratch, size_t n)
{
	size_t half = n / 2;

	if (n <= 16) {
		insertion_sort(rs, items, n);
		return;
	}
	sort_into(rs, items, scratch, half);
	sort_into(rs, items + half, scratch + half, n - half);
	merge(rs, scratch, half, scratch + half, n - half, items);
}

void row_sort(const struct row_sort *rs, struct sort_item *items, struct sort_item *scratch,
	      size_t n)
{
	sort_in_place(rs, items, scratch, n);
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
	item->text = (struct kept_text){ .first_seen_ns = row->id.first_seen_ns };
}
