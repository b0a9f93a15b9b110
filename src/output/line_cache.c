/* The batch writer's row texts (line_cache.h), kept with the rows' places in the writer's
 * order (row_view.h) as their payloads. Texts live in one arena; a text whose row changed
 * or went away is garbage until the arena is compacted. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "util/array_grow.h"
#include "view/columns.h"
#include "output/line_cache.h"
#include "view/row_view.h"

struct line_cache {
	enum output_format format;
	struct row_view *view;
	char *text;
	size_t text_used, text_room, text_garbage;
	bool keep; /* idle rows' texts */
};

/* Rows follow in sort order, scattered over the arena and the snapshot: the memory of a
 * line this far ahead is asked for early, so that the misses overlap. */
#define PREFETCH_AHEAD 8

static size_t text_len(const struct kept_text *t)
{
	return (size_t)t->prefix_len + t->suffix_len;
}

static void forget_text(void *arg, const struct kept_text *t)
{
	struct line_cache *c = arg;

	c->text_garbage += text_len(t);
}

struct line_cache *line_cache_new(enum output_format format, const struct filter *f,
				  int sort_id)
{
	struct line_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->format = format;
	c->keep = true;
	c->view = row_view_new(f, sort_id);
	if (!c->view) {
		free(c);
		return NULL;
	}
	row_view_on_forget(c->view, forget_text, c);
	return c;
}

void line_cache_keep_texts(struct line_cache *c, bool keep)
{
	c->keep = keep;
}

void line_cache_free(struct line_cache *c)
{
	if (!c)
		return;
	row_view_free(c->view);
	free(c->text);
	free(c);
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
	for (size_t i = 0; i < row_view_count(c->view); i++) {
		struct kept_text *t = &row_view_item(c->view, i)->text;

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
	if (row_view_update(c->view, s) < 0) {
		/* Every payload is gone at once: so is every text. */
		c->text_used = 0;
		c->text_garbage = 0;
		return -1;
	}
	compact_text(c);
	return 0;
}

size_t line_cache_count(const struct line_cache *c)
{
	return row_view_count(c->view);
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
	const struct sort_item *item = row_view_item(c->view, i);
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

/* The identity of a row prefetched PREFETCH_AHEAD / 2 lines ago: it lies elsewhere. */
static void prefetch_identity(const struct line_cache *c, const struct snapshot *s, size_t i)
{
	const struct sort_item *item = row_view_item(c->view, i);
	const char *p;

	if (item->text.suffix_len)
		return;
	p = (const char *)s->rows[item->pos].id;
	__builtin_prefetch(p);
	__builtin_prefetch(p + sizeof(struct flow_identity) - 1);
}

size_t line_cache_line(struct line_cache *c, const struct format_snapshot *fs,
		       const struct snapshot *s, size_t i, char *out)
{
	struct sort_item *item = row_view_item(c->view, i);
	const struct kept_text *t = &item->text;
	const struct flow_row *row;
	struct format_split split;
	size_t len;
	char *p;

	if (i + PREFETCH_AHEAD < row_view_count(c->view))
		prefetch_line(c, s, i + PREFETCH_AHEAD);
	if (i + PREFETCH_AHEAD / 2 < row_view_count(c->view))
		prefetch_identity(c, s, i + PREFETCH_AHEAD / 2);
	if (t->suffix_len) {
		p = format_time_cell(fs, out);
		memcpy(p, c->text + t->off, t->prefix_len);
		p += t->prefix_len;
		if (fs->has_age)
			p = format_age_between(fs, s->mono_ns, t->first_seen_ns, p);
		memcpy(p, c->text + t->off + t->prefix_len, t->suffix_len);
		return (size_t)(p + t->suffix_len - out);
	}
	row = &s->rows[item->pos];
	len = format_line_split(fs, row, out, &split);
	if (row->version < s->generation && c->keep)
		keep_text(c, &item->text, out, len, &split);
	return len;
}
