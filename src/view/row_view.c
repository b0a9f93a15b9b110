/* A reader's order of a snapshot's rows (row_view.h). The snapshot builder leaves an
 * unchanged flow's row where it was and lists the rows it wrote anew over the snapshot
 * before (snapshot.h): when that is the snapshot learnt last, the rows not listed are the
 * rows learnt, and their places in the order hold. Otherwise (the first snapshot, rows
 * laid out anew, a snapshot the reader did not see, a new choice of order) every row
 * counts as changed. */
#include <stdlib.h>
#include <string.h>
#include "util/array_grow.h"
#include "view/columns.h"
#include "view/row_view.h"

struct row_view {
	const struct filter *filter;
	row_view_shows shows; /* NULL: the filter alone */
	const void *shows_arg;
	row_view_forget forget;
	void *forget_arg;
	int sort_id;
	bool *shown;            /* per row: it is in the view */
	bool *changed;          /* per row: it is not the one learnt before */
	uint32_t *changed_list; /* the places of those rows, nchanged of them */
	size_t nchanged;
	uint64_t learnt; /* the generation of the snapshot learnt last, 0 for none */
	struct kept_text *carried; /* per row, while the order is made anew (age sort) */
	size_t carried_room;
	size_t room;
	/* The rows shown in order, with their payloads (the only record of them). */
	struct sort_item *order, *fresh; /* each with room for room items */
	size_t norder;
	bool ordered; /* order holds the rows shown of the snapshot learnt last */
};

struct row_view *row_view_new(const struct filter *f, int sort_id)
{
	struct row_view *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->filter = f;
	v->sort_id = sort_id;
	return v;
}

void row_view_free(struct row_view *v)
{
	if (!v)
		return;
	free(v->shown);
	free(v->changed);
	free(v->changed_list);
	free(v->carried);
	free(v->order);
	free(v->fresh);
	free(v);
}

/* Everything forgotten: the next update learns every row anew. */
static void start_afresh(struct row_view *v)
{
	v->norder = 0;
	v->nchanged = 0;
	v->learnt = 0;
	v->ordered = false;
}

void row_view_choose(struct row_view *v, int sort_id, row_view_shows shows, const void *arg)
{
	v->sort_id = sort_id;
	v->shows = shows;
	v->shows_arg = arg;
	for (size_t i = 0; i < v->nchanged; i++)
		v->changed[v->changed_list[i]] = false;
	start_afresh(v);
}

void row_view_on_forget(struct row_view *v, row_view_forget forget, void *arg)
{
	v->forget = forget;
	v->forget_arg = arg;
}

/* Room for n rows; the new rows' changed flags clear, as learn_rows() leaves them. */
static bool reserve(struct row_view *v, size_t n)
{
	size_t room = v->room;

	if (n <= room)
		return true;
	room = n + n / 4 + 64;
	if (!array_grow((void **)&v->shown, room, sizeof(*v->shown)) ||
	    !array_grow((void **)&v->changed, room, sizeof(*v->changed)) ||
	    !array_grow((void **)&v->changed_list, room, sizeof(*v->changed_list)) ||
	    !array_grow((void **)&v->order, room, sizeof(*v->order)) ||
	    !array_grow((void **)&v->fresh, room, sizeof(*v->fresh)))
		return false;
	memset(v->changed + v->room, 0, (room - v->room) * sizeof(*v->changed));
	v->room = room;
	return true;
}

static void learn_row(struct row_view *v, const struct snapshot *s, size_t i)
{
	const struct flow_row *row = &s->rows[i];

	v->changed[i] = true;
	v->changed_list[v->nchanged++] = (uint32_t)i;
	v->shown[i] = filter_match(v->filter, row) && (!v->shows || v->shows(row, v->shows_arg));
}

/* Which rows changed: those s lists when it lists them against the snapshot learnt last
 * (its other rows are as they were there), else all of them. */
static void learn_rows(struct row_view *v, const struct snapshot *s)
{
	size_t i;

	for (i = 0; i < v->nchanged; i++)
		v->changed[v->changed_list[i]] = false;
	v->nchanged = 0;
	if (v->learnt && s->changed_since == v->learnt) {
		for (i = 0; i < s->nchanged; i++)
			learn_row(v, s, s->changed[i]);
	} else {
		for (i = 0; i < s->nrows; i++)
			learn_row(v, s, i);
	}
	v->learnt = s->generation;
}

/* A row's sort key moves with its age only when the sort is by age. */
static bool keys_hold(const struct row_view *v)
{
	return v->ordered && v->sort_id != COL_AGE_S;
}

static void forget(struct row_view *v, const struct kept_text *payload)
{
	if (v->forget)
		v->forget(v->forget_arg, payload);
}

/* Room to carry payloads for every row, asked for only by an order whose keys move (by
 * age): at 100k rows it is 1.6 MB. */
static bool reserve_carried(struct row_view *v)
{
	if (v->carried_room >= v->room)
		return true;
	if (!array_grow((void **)&v->carried, v->room, sizeof(*v->carried)))
		return false;
	v->carried_room = v->room;
	return true;
}

/* Of the last order, the unchanged rows: kept in their order when their keys hold, else
 * only their payloads, carried to their places. The payloads of the rest are forgotten. */
static size_t keep_unchanged(struct row_view *v, size_t nrows, bool keys_held)
{
	size_t nkept = 0;

	for (size_t i = 0; i < v->norder; i++) {
		const struct sort_item *item = &v->order[i];

		if (item->pos >= nrows || v->changed[item->pos])
			forget(v, &item->text);
		else if (keys_held)
			v->order[nkept++] = *item;
		else
			v->carried[item->pos] = item->text;
	}
	return nkept;
}

/* Items, into to, for the rows to sort: the changed ones shown when the last order's keys
 * hold, else every row shown, with the payloads carried for the unchanged ones. */
static size_t gather_fresh(struct row_view *v, const struct row_sort *rs, size_t nrows,
			   bool keys_held, struct sort_item *to)
{
	bool carry = v->ordered && !keys_held;
	size_t nfresh = 0, i;

	if (keys_held) {
		for (i = 0; i < v->nchanged; i++)
			if (v->shown[v->changed_list[i]])
				row_sort_item(rs, v->changed_list[i], &to[nfresh++]);
		return nfresh;
	}
	for (i = 0; i < nrows; i++) {
		if (!v->shown[i])
			continue;
		row_sort_item(rs, i, &to[nfresh]);
		if (carry && !v->changed[i])
			to[nfresh].text = v->carried[i];
		nfresh++;
	}
	return nfresh;
}

/* The rows shown in sort order: the kept ones in the order they had, merged with the
 * changed ones, sorted; or, when none is kept (every row changed, or the last order's keys
 * do not hold), all of them sorted where they go. Then the sort's scratch is half of fresh
 * and the rest of it is never touched: at 100k rows all changing, 2.4 MB less. */
static void order_rows(struct row_view *v, const struct snapshot *s)
{
	struct row_sort rs = { s->rows, v->sort_id };
	bool keys_held = keys_hold(v);
	size_t nkept = 0, nfresh;

	if (v->ordered)
		nkept = keep_unchanged(v, s->nrows, keys_held);
	if (nkept == 0) {
		v->norder = gather_fresh(v, &rs, s->nrows, keys_held, v->order);
		row_sort(&rs, v->order, v->fresh, v->norder);
		v->ordered = true;
		return;
	}
	nfresh = gather_fresh(v, &rs, s->nrows, keys_held, v->fresh);
	/* The order's room past the kept items is the sort's scratch, then the merge's. */
	row_sort(&rs, v->fresh, v->order + nkept, nfresh);
	row_sort_merge_into(&rs, v->order, nkept, v->fresh, nfresh);
	v->norder = nkept + nfresh;
	v->ordered = true;
}

int row_view_update(struct row_view *v, const struct snapshot *s)
{
	if (!reserve(v, s->nrows) || (v->ordered && !keys_hold(v) && !reserve_carried(v))) {
		start_afresh(v);
		return -1;
	}
	if (v->ordered && s->generation && v->learnt == s->generation)
		return 0; /* the same snapshot again (the live view, paused): nothing moved */
	learn_rows(v, s);
	order_rows(v, s);
	return 0;
}

size_t row_view_count(const struct row_view *v)
{
	return v->norder;
}

struct sort_item *row_view_item(const struct row_view *v, size_t i)
{
	return &v->order[i];
}
