/* The rows a reader shows of each snapshot, in its order: filtered, then sorted, carried
 * from one snapshot to the next. The batch writer (line_cache.c) and the live view both
 * use it. With many flows of which few change per interval, filtering and sorting every
 * row every interval was most of a reader's work: an unchanged row keeps its place (its
 * sort key cannot have moved, but for a sort by age) and only changed rows are sorted and
 * merged in. Each row in the order carries a payload (struct kept_text) for its reader. */
#ifndef TCPTOP_ROW_VIEW_H
#define TCPTOP_ROW_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include "view/filter.h"
#include "view/row_sort.h"
#include "snapshot.h"

struct row_view;

/* What a reader adds to the command line's filter (the live view's "/" text, hidden
 * states); it may look at the row only, so that an unchanged row keeps its answer. */
typedef bool (*row_view_shows)(const struct flow_row *row, const void *arg);
/* Told of each payload that leaves the order (its row changed or went away). */
typedef void (*row_view_forget)(void *arg, const struct kept_text *payload);

/* A view of the rows that match f (which must outlive it), sorted by sort_id; NULL when
 * out of memory. */
struct row_view *row_view_new(const struct filter *f, int sort_id);
void row_view_free(struct row_view *v);
/* The reader's own test and order; the next update orders every row anew. */
void row_view_choose(struct row_view *v, int sort_id, row_view_shows shows, const void *arg);
void row_view_on_forget(struct row_view *v, row_view_forget forget, void *arg);
/* Learn s: which rows changed since the snapshot learnt before, which are shown, in what
 * order. -1 when out of memory: the view is then empty and starts afresh at the next call
 * (no payload is forgotten one by one). */
int row_view_update(struct row_view *v, const struct snapshot *s);
/* The rows shown, after row_view_update(): item i is the i-th in order (its pos is the
 * row's place in the snapshot learnt), its payload the reader's to change. */
size_t row_view_count(const struct row_view *v);
struct sort_item *row_view_item(const struct row_view *v, size_t i);

#endif
