/* The live view's bell for --alert: it rings when a flow first goes above the threshold,
 * not at every refresh while it stays there, and again only after it fell below. */
#ifndef TCPTOP_UI_ALERT_H
#define TCPTOP_UI_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include "flow_row.h"

/* The flows above at the last look, sorted by key. */
struct ui_alert {
	struct flow_key *above;
	size_t n;
	size_t shown_above; /* how many of the rows looked at were above */
};

/* Looks at the rows of a new snapshot: true when one of them is above and was not at the
 * last look (the bell is due). Without memory for the keys it keeps the last look. */
bool ui_alert_crossed(struct ui_alert *a, const struct flow_row *const *rows, size_t nrows);
void ui_alert_free(struct ui_alert *a);

#endif
