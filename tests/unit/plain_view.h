/* The plain way to the rows a reader shows, for tests to check the kept, incremental ways
 * (row_view.c, line_cache.c) against: a snapshot filtered, then sorted whole. */
#ifndef TCPTOP_TEST_PLAIN_VIEW_H
#define TCPTOP_TEST_PLAIN_VIEW_H

#include <stddef.h>
#include "view/filter.h"
#include "snapshot.h"

/* Rows of s that pass f, in sort_column order: pointers into s (free()). */
const struct flow_row **plain_view(const struct snapshot *s, const struct filter *f,
				   int sort_column, size_t *count);

#endif
