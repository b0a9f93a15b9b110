/* Sorting rows for --sort on integer keys: each row's key is computed once, and rows are
 * merge-sorted on the keys with the comparison inlined; only ties the keys cannot settle
 * go to column_compare(). Items name rows by their place in an array, so that an order
 * can outlive the snapshot it was made for. */
#ifndef TCPTOP_ROW_SORT_H
#define TCPTOP_ROW_SORT_H

#include <stddef.h>
#include <stdint.h>
#include "flow_row.h"

/* A row's kept line text (line_cache.c), carried with its place in an order so that
 * writing the order reads no more than the order and the text. */
struct kept_text {
	uint64_t first_seen_ns; /* the row's, for its age */
	uint32_t off;           /* in the text arena */
	uint16_t prefix_len;    /* from the time cell's end to the age value */
	uint16_t suffix_len;    /* after the age value, newline included; 0: no text kept */
};

struct sort_item {
	uint64_t key[3]; /* column_sort_key() hi, lo, then the cookie when the key is exact */
	uint32_t pos;    /* of the row in the rows sorted */
	struct kept_text text; /* none, as row_sort_item() makes an item */
};

struct row_sort {
	const struct flow_row *rows;
	int sort_id; /* a column or sort key id */
};

void row_sort_item(const struct row_sort *rs, size_t pos, struct sort_item *item);
/* Sorts items[0..n) in place, stably; scratch has room for n / 2 items. */
void row_sort(const struct row_sort *rs, struct sort_item *items, struct sort_item *scratch,
	      size_t n);
/* Merges the sorted runs a[0..na) and b[0..nb) into a, which has room for na + nb items. */
void row_sort_merge_into(const struct row_sort *rs, struct sort_item *a, size_t na,
			 const struct sort_item *b, size_t nb);

#endif
