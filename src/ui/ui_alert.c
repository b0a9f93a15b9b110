/* Which flows were above --alert at the last snapshot looked at, so that a flow rings the
 * bell once when it crosses rather than at every refresh (ui_alert.h). */
#include <stdlib.h>
#include <string.h>
#include "ui/ui_alert.h"
#include "util/array_grow.h"
#include "view/alert.h"

static int key_order(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct flow_key));
}

bool ui_alert_crossed(struct ui_alert *a, const struct flow_row *const *rows, size_t nrows)
{
	struct flow_key *now = NULL;
	size_t n = 0, room = 0;
	bool crossed = false;

	for (size_t i = 0; i < nrows; i++) {
		if (!alert_row_above(rows[i]))
			continue;
		if (n == room) {
			room = room ? room * 2 : 16;
			if (!array_grow((void **)&now, room, sizeof(*now))) {
				free(now);
				return false;
			}
		}
		now[n++] = rows[i]->key;
	}
	if (n)
		qsort(now, n, sizeof(*now), key_order);
	for (size_t i = 0; i < n && !crossed; i++)
		crossed = !a->n || !bsearch(&now[i], a->above, a->n, sizeof(*now), key_order);
	free(a->above);
	a->above = now;
	a->n = n;
	a->shown_above = n;
	return crossed;
}

void ui_alert_free(struct ui_alert *a)
{
	free(a->above);
	memset(a, 0, sizeof(*a));
}
