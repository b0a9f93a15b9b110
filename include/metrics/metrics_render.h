/* One scrape's text: every metric the endpoint serves (man tcptop, METRICS), from the
 * ledger and the facts of the last snapshot folded. */
#ifndef TCPTOP_METRICS_RENDER_H
#define TCPTOP_METRICS_RENDER_H

#include <stddef.h>
#include "metrics/exposition.h"
#include "metrics/metrics_state.h"
#include "metrics/snapshot_facts.h"

/* The text (free()) and its length, or NULL when out of memory. */
char *metrics_render(const struct metrics_state *m, const struct snapshot_facts *f,
		     enum exposition_format format, size_t *len);

/* The parts, each a few families (metrics/render_*.c). */
void render_processes(struct exposition *e, const struct metrics_state *m);
void render_host(struct exposition *e, const struct metrics_state *m);
void render_top_flows(struct exposition *e, const struct snapshot_facts *f);
void render_self(struct exposition *e, const struct metrics_state *m,
		 const struct snapshot_facts *f);

#endif
