/* Where the last few snapshot builds wrote rows (touched_rows.h). */
#include <stdlib.h>
#include <string.h>
#include "touched_rows.h"

void touched_rows_begin(struct touched_rows *t, uint64_t generation)
{
	t->current = &t->builds[generation % TOUCHED_HISTORY];
	t->current->generation = generation;
	t->current->all = false;
	t->current->n = 0;
}

void touched_rows_add(struct touched_rows *t, size_t place)
{
	struct touched_build *b = t->current;
	uint32_t *grown;
	size_t room;

	if (!b || b->all)
		return;
	if (b->n == b->room) {
		room = b->room ? b->room * 2 : 1024;
		grown = realloc(b->places, room * sizeof(*grown));
		if (!grown) {
			b->all = true; /* a place not on record: later builds copy every row */
			return;
		}
		b->places = grown;
		b->room = room;
	}
	if (place > UINT32_MAX)
		b->all = true;
	else
		b->places[b->n++] = (uint32_t)place;
}

void touched_rows_all(struct touched_rows *t)
{
	if (t->current)
		t->current->all = true;
}

const struct touched_build *touched_rows_of(const struct touched_rows *t, uint64_t generation)
{
	const struct touched_build *b = &t->builds[generation % TOUCHED_HISTORY];

	return generation && b->generation == generation && !b->all ? b : NULL;
}

bool touched_rows_since(const struct touched_rows *t, uint64_t generation, uint64_t last)
{
	if (!generation || generation >= last || last - generation > TOUCHED_HISTORY)
		return false;
	for (uint64_t g = generation + 1; g <= last; g++)
		if (!touched_rows_of(t, g))
			return false;
	return true;
}

void touched_rows_free(struct touched_rows *t)
{
	for (int i = 0; i < TOUCHED_HISTORY; i++)
		free(t->builds[i].places);
	memset(t, 0, sizeof(*t));
}
