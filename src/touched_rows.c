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

static int ascending(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Ascending and each once through a bitmap of the places: O(places + highest / 64),
 * where a comparison sort of a build's tens of thousands of places took milliseconds. */
static bool settle_by_bitmap(struct touched_rows *t, struct touched_build *b)
{
	size_t highest = 0, words, n = 0, k;
	uint64_t *grown, word;

	for (k = 0; k < b->n; k++)
		highest = b->places[k] > highest ? b->places[k] : highest;
	words = highest / 64 + 1;
	if (words > t->nbits) {
		grown = realloc(t->bits, words * sizeof(*grown));
		if (!grown)
			return false;
		memset(grown + t->nbits, 0, (words - t->nbits) * sizeof(*grown));
		t->bits = grown;
		t->nbits = words;
	}
	for (k = 0; k < b->n; k++)
		t->bits[b->places[k] / 64] |= UINT64_C(1) << (b->places[k] % 64);
	for (size_t w = 0; w < words; w++) {
		for (word = t->bits[w]; word; word &= word - 1)
			b->places[n++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(word));
		t->bits[w] = 0;
	}
	b->n = n;
	return true;
}

const struct touched_build *touched_rows_settle(struct touched_rows *t)
{
	struct touched_build *b = t->current;
	size_t kept = 0;

	if (!b || b->all)
		return NULL;
	if (settle_by_bitmap(t, b))
		return b;
	if (b->n > 1)
		qsort(b->places, b->n, sizeof(*b->places), ascending);
	for (size_t k = 0; k < b->n; k++)
		if (k == 0 || b->places[k] != b->places[kept - 1])
			b->places[kept++] = b->places[k];
	b->n = kept;
	return b;
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
	free(t->bits);
	memset(t, 0, sizeof(*t));
}
