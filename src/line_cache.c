/* The batch writer's row texts and order (line_cache.h). The snapshot builder leaves an
 * unchanged flow's row where it was and lists the rows it wrote anew over the snapshot
 * before (snapshot.h): when that is the snapshot learnt last, the rows not listed are
 * the rows learnt, and their texts and places in the order hold. Otherwise (the first
 * snapshot, rows laid out anew, a snapshot the writer did not see) every row counts as
 * changed. Texts live in one arena; a replaced text is garbage until the arena is
 * compacted. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "array_grow.h"
#include "columns.h"
#include "line_cache.h"
#include "row_sort.h"

struct line_cache {
	enum output_format format;
	const struct filter *filter;
	int sort_id;
	bool *shown;   /* per row: it matches the filter */
	bool *changed; /* per row: it is not the one learnt before */
	uint32_t *changed_list; /* the places of those rows, nchanged of them */
	size_t nchanged;
	uint64_t learnt; /* the generation of the snapshot learnt last, 0 for none */
	struct kept_text *carried; /* per row, while the order is made anew (age sort) */
	size_t room;
	/* The rows shown in order, with their kept texts (the only record of them). */
	struct sort_item *order, *fresh; /* each with room for room items */
	size_t norder;
	bool ordered; /* order holds the rows shown of the snapshot learnt last */
	char *text;
	size_t text_used, text_room, text_garbage;
};

/* Rows follow in sort order, scattered over the arena and the snapshot: the memory of a
 * line this far ahead is asked for early, so that the misses overlap. */
#define PREFETCH_AHEAD 8

struct line_cache *line_cache_new(enum output_format format, const struct filter *f,
				  int sort_id)
{
	struct line_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->format = format;
	c->filter = f;
	c->sort_id = sort_id;
	return c;
}

void line_cache_free(struct line_cache *c)
{
	if (!c)
		return;
	free(c->shown);
	free(c->changed);
	free(c->changed_list);
	free(c->carried);
	free(c->order);
	free(c->fresh);
	free(c->text);
	free(c);
}

static size_t text_len(const struct kept_text *t)
{
	return (size_t)t->prefix_len + t->suffix_len;
}

/* Everything forgotten: the next update learns every row anew. */
static void start_afresh(struct line_cache *c)
{
	c->norder = 0;
	c->nchanged = 0;
	c->learnt = 0;
	c->ordered = false;
	c->text_used = 0;
	c->text_garbage = 0;
}

/* Room for n rows; the new rows' changed flags clear, as learn_rows() leaves them. */
static bool reserve(struct line_cache *c, size_t n)
{
	size_t room = c->room;

	if (n <= room)
		return true;
	room = n + n / 4 + 64;
	if (!array_grow((void **)&c->shown, room, sizeof(*c->shown)) ||
	    !array_grow((void **)&c->changed, room, sizeof(*c->changed)) ||
	    !array_grow((void **)&c->changed_list, room, sizeof(*c->changed_list)) ||
	    (c->sort_id == COL_AGE_S &&
	     !array_grow((void **)&c->carried, room, sizeof(*c->carried))) ||
	    !array_grow((void **)&c->order, room, sizeof(*c->order)) ||
	    !array_grow((void **)&c->fresh, room, sizeof(*c->fresh)))
		return false;
	memset(c->changed + c->room, 0, (room - c->room) * sizeof(*c->changed));
	c->room = room;
	return true;
}

static void learn_row(struct line_cache *c, const struct snapshot *s, size_t i)
{
	c->changed[i] = true;
	c->changed_list[c->nchanged++] = (uint32_t)i;
	c->shown[i] = filter_match(c->filter, &s->rows[i]);
}

/* Which rows changed: those s lists when it lists them against the snapshot learnt last
 * (its other rows are as they were there), else all of them. */
static void learn_rows(struct line_cache *c, const struct snapshot *s)
{
	size_t i;

	for (i = 0; i < c->nchanged; i++)
		c->changed[c->changed_list[i]] = false;
	c->nchanged = 0;
	if (c->learnt && s->changed_since == c->learnt) {
		for (i = 0; i < s->nchanged; i++)
			learn_row(c, s, s->changed[i]);
	} else {
		for (i = 0; i < s->nrows; i++)
			learn_row(c, s, i);
	}
	c->learnt = s->generation;
}

/* A row's sort key moves with its age only when the sort is by age. */
static bool keys_hold(const struct line_cache *c)
{
	return c->ordered && c->sort_id != COL_AGE_S;
}

/* Of the last order, the unchanged rows: kept in their order when their keys hold, else
 * only their texts, carried to their places. The texts of the rest become garbage. */
static size_t keep_unchanged(struct line_cache *c, size_t nrows, bool keys_held)
{
	size_t nkept = 0;

	for (size_t i = 0; i < c->norder; i++) {
		const struct sort_item *item = &c->order[i];

		if (item->pos >= nrows || c->changed[item->pos])
			c->text_garbage += text_len(&item->text);
		else if (keys_held)
			c->order[nkept++] = *item;
		else
			c->carried[item->pos] = item->text;
	}
	return nkept;
}

/* Items for the rows to sort: the changed ones shown when the last order's keys hold,
 * else every row shown, with the texts carried for the unchanged ones. */
static size_t gather_fresh(struct line_cache *c, const struct row_sort *rs, size_t nrows,
			   bool keys_held)
{
	bool carry = c->ordered && !keys_held;
	size_t nfresh = 0, i;

	if (keys_held) {
		for (i = 0; i < c->nchanged; i++)
			if (c->shown[c->changed_list[i]])
				row_sort_item(rs, c->changed_list[i], &c->fresh[nfresh++]);
		return nfresh;
	}
	for (i = 0; i < nrows; i++) {
		if (!c->shown[i])
			continue;
		row_sort_item(rs, i, &c->fresh[nfresh]);
		if (carry && !c->changed[i])
			c->fresh[nfresh].text = c->carried[i];
		nfresh++;
	}
	return nfresh;
}

/* The rows shown in sort order: the kept ones in the order they had, merged with the
 * changed ones, sorted; or, when the last order's keys do not hold, all of them sorted. */
static void order_rows(struct line_cache *c, const struct snapshot *s)
{
	struct row_sort rs = { s->rows, c->sort_id };
	bool keys_held = keys_hold(c);
	size_t nkept = 0, nfresh;

	if (c->ordered)
		nkept = keep_unchanged(c, s->nrows, keys_held);
	nfresh = gather_fresh(c, &rs, s->nrows, keys_held);
	/* The order's room past the kept items is the sort's scratch, then the merge's. */
	row_sort(&rs, c->fresh, c->order + nkept, nfresh);
	row_sort_merge_into(&rs, c->order, nkept, c->fresh, nfresh);
	c->norder = nkept + nfresh;
	c->ordered = true;
}

/* The arena without its garbage, once garbage is most of it. */
static void compact_text(struct line_cache *c)
{
	size_t live = c->text_used - c->text_garbage, used = 0, room = live + live / 2 + 4096;
	char *text;

	if (c->text_garbage < 65536 || c->text_garbage < live)
		return;
	text = malloc(room);
	if (!text)
		return; /* the old arena still works */
	for (size_t i = 0; i < c->norder; i++) {
		struct kept_text *t = &c->order[i].text;

		if (!t->suffix_len)
			continue;
		memcpy(text + used, c->text + t->off, text_len(t));
		t->off = (uint32_t)used;
		used += text_len(t);
	}
	free(c->text);
	c->text = text;
	c->text_used = used;
	c->text_room = room;
	c->text_garbage = 0;
}

int line_cache_update(struct line_cache *c, const struct snapshot *s)
{
	if (!reserve(c, s->nrows)) {
		start_afresh(c);
		return -1;
	}
	learn_rows(c, s);
	order_rows(c, s);
	compact_text(c);
	return 0;
}

size_t line_cache_count(const struct line_cache *c)
{
	return c->norder;
}

/* Keep the line's text around the time cell and age, when the row is idle: a row that
 * changed in this snapshot is likely to change in the next. */
static void keep_text(struct line_cache *c, struct kept_text *t, const char *line, size_t len,
		      const struct format_split *split)
{
	size_t prefix = split->age_start - split->time_end, suffix = len - split->age_end;
	size_t need = c->text_used + prefix + suffix;

	if (prefix > UINT16_MAX || suffix > UINT16_MAX || need > UINT32_MAX)
		return;
	if (need > c->text_room) {
		size_t room = need + need / 2 + 4096;

		if (!array_grow((void **)&c->text, room, 1))
			return;
		c->text_room = room;
	}
	t->off = (uint32_t)c->text_used;
	memcpy(c->text + c->text_used, line + split->time_end, prefix);
	memcpy(c->text + c->text_used + prefix, line + split->age_end, suffix);
	t->prefix_len = (uint16_t)prefix;
	t->suffix_len = (uint16_t)suffix;
	c->text_used = need;
}

static void prefetch_line(const struct line_cache *c, const struct snapshot *s, size_t i)
{
	const struct sort_item *item = &c->order[i];
	const char *p;

	if (item->text.suffix_len) {
		p = c->text + item->text.off;
		__builtin_prefetch(p);
		__builtin_prefetch(p + text_len(&item->text) - 1);
		return;
	}
	p = (const char *)&s->rows[item->pos];
	for (size_t off = 0; off < sizeof(s->rows[0]); off += 64)
		__builtin_prefetch(p + off);
	__builtin_prefetch(p + sizeof(s->rows[0]) - 1);
}

size_t line_cache_line(struct line_cache *c, const struct format_snapshot *fs,
		       const struct snapshot *s, size_t i, char *out)
{
	struct sort_item *item = &c->order[i];
	const struct kept_text *t = &item->text;
	const struct flow_row *row;
	struct format_split split;
	size_t len;
	char *p;

	if (i + PREFETCH_AHEAD < c->norder)
		prefetch_line(c, s, i + PREFETCH_AHEAD);
	if (t->suffix_len) {
		p = format_time_cell(fs, out);
		memcpy(p, c->text + t->off, t->prefix_len);
		p = format_age_between(fs, s->mono_ns, t->first_seen_ns, p + t->prefix_len);
		memcpy(p, c->text + t->off + t->prefix_len, t->suffix_len);
		return (size_t)(p + t->suffix_len - out);
	}
	row = &s->rows[item->pos];
	len = format_line_split(fs, row, out, &split);
	if (row->version < s->generation)
		keep_text(c, &item->text, out, len, &split);
	return len;
}
