/* An open-addressing index over the places of an array, with linear probing: each slot
 * holds 1 + an entry's place, 0 when empty; its size a power of two at least twice the
 * entries plus two, so that probes stay short. The owner hashes its keys (hash_words) and
 * compares them; this only finds the slots. */
#ifndef TCPTOP_OPEN_INDEX_H
#define TCPTOP_OPEN_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct open_index {
	uint32_t *slot;
	size_t n; /* 0 until the first reset */
};

/* Whole 64-bit words mixed: a byte-wise hash cost a third of a grouping's time at 100k. */
static inline uint64_t hash_words(const void *key, size_t words)
{
	uint64_t w, h = 0x9e3779b97f4a7c15ULL;

	for (size_t i = 0; i < words; i++) {
		memcpy(&w, (const char *)key + 8 * i, sizeof(w));
		h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
	}
	return h;
}

/* Whether count entries fit without a reset. */
static inline bool open_index_fits(const struct open_index *x, size_t count)
{
	return 2 * count + 2 <= x->n;
}

/* Empty, and sized for count entries; -1 when out of memory (the index is then as it was). */
int open_index_reset(struct open_index *x, size_t count);
/* Entry place, hashed to h, into the first empty slot from h's. */
void open_index_put(struct open_index *x, uint64_t h, uint32_t place);
void open_index_free(struct open_index *x);

#endif
