/* The batch writer's memory of the rows it wrote: each row's line without its time cell
 * and age (kept while the row stays idle) and the --sort order, carried from one
 * snapshot to the next. With many flows of which few change per interval, formatting
 * and sorting every row every interval was most of tcptop's CPU; an unchanged row now
 * costs a look at its key and version, a copy of its kept text, and its age. */
#ifndef TCPTOP_LINE_CACHE_H
#define TCPTOP_LINE_CACHE_H

#include <stddef.h>
#include "view/filter.h"
#include "output/format.h"
#include "snapshot.h"

struct line_cache;

/* A cache for lines of one format, rows filtered by f (which must outlive it) and sorted
 * by sort_id; NULL when out of memory. */
struct line_cache *line_cache_new(enum output_format format, const struct filter *f,
				  int sort_id);
/* Whether idle rows' texts are kept (by default): not when a column changes without its row
 * changing (the history; bench/README says why not even while it stays). */
void line_cache_keep_texts(struct line_cache *c, bool keep);
void line_cache_free(struct line_cache *c);
/* Learn s: which rows changed since the snapshot learnt before, which are shown, in what
 * order. -1 when out of memory (the cache then starts afresh at the next call). */
int line_cache_update(struct line_cache *c, const struct snapshot *s);
/* The number of rows shown, after line_cache_update(). */
size_t line_cache_count(const struct line_cache *c);
/* The line of the i-th row shown, in order, written to out (FORMAT_LINE_MAX of room);
 * its length. s is the snapshot last learnt, fs made for it. */
size_t line_cache_line(struct line_cache *c, const struct format_snapshot *fs,
		       const struct snapshot *s, size_t i, char *out);

#endif
