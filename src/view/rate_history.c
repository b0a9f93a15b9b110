/* Rate histories (view/rate_history.h): entries in one array, found through an
 * open-addressing index rebuilt when entries are forgotten. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "util/array_grow.h"
#include "view/rate_history.h"

struct history_entry {
	struct flow_key key;
	uint64_t total;               /* bytes moved, at the last snapshot learnt */
	uint64_t seen;                /* the generation that last added it */
	float rate[RATE_HISTORY_LEN]; /* a ring, rate[head] the oldest when full */
	uint8_t head, len;
};

struct rate_history {
	struct history_entry *entries;
	size_t count, room;
	uint32_t *index; /* 1 + an entry's place, 0 empty; nindex a power of two */
	size_t nindex;
	uint64_t generation, last_generation;
	double interval_s;
	bool learning; /* between begin and end of a snapshot not learnt before */
	bool failed;
};

struct rate_history *rate_history_new(void)
{
	return calloc(1, sizeof(struct rate_history));
}

void rate_history_free(struct rate_history *h)
{
	if (!h)
		return;
	free(h->entries);
	free(h->index);
	free(h);
}

static uint64_t hash_key(const struct flow_key *key)
{
	uint64_t w[sizeof(*key) / 8], h = 0x9e3779b97f4a7c15ULL;

	_Static_assert(sizeof(*key) % 8 == 0, "the key is whole words");
	memcpy(w, key, sizeof(w));
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		h = (h ^ w[i]) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
	}
	return h;
}

static int rebuild_index(struct rate_history *h, size_t want)
{
	size_t n = 64;

	while (n < 2 * want + 2)
		n *= 2;
	if (n != h->nindex) {
		uint32_t *index = malloc(n * sizeof(*index));

		if (!index)
			return -1;
		free(h->index);
		h->index = index;
		h->nindex = n;
	}
	memset(h->index, 0, n * sizeof(*h->index));
	for (size_t e = 0; e < h->count; e++) {
		size_t i = hash_key(&h->entries[e].key) & (n - 1);

		while (h->index[i])
			i = (i + 1) & (n - 1);
		h->index[i] = (uint32_t)e + 1;
	}
	return 0;
}

/* The slot of key in the index: its entry's, or the empty one where it would go. */
static size_t slot_of(const struct rate_history *h, const struct flow_key *key)
{
	size_t i = hash_key(key) & (h->nindex - 1);

	while (h->index[i] && memcmp(&h->entries[h->index[i] - 1].key, key, sizeof(*key)) != 0)
		i = (i + 1) & (h->nindex - 1);
	return i;
}

void rate_history_begin(struct rate_history *h, uint64_t generation, double interval_s)
{
	h->learning = generation != h->generation || !generation;
	if (!h->learning)
		return;
	h->last_generation = h->generation;
	h->generation = generation;
	h->interval_s = interval_s;
}

static void push(struct history_entry *e, double rate)
{
	if (e->len < RATE_HISTORY_LEN) {
		e->rate[(e->head + e->len++) % RATE_HISTORY_LEN] = (float)rate;
		return;
	}
	e->rate[e->head] = (float)rate;
	e->head = (uint8_t)((e->head + 1) % RATE_HISTORY_LEN);
}

/* Intervals of snapshots not learnt: the bytes they moved (what the row's rate does not
 * account for), spread over them. */
static void fill_gap(const struct rate_history *h, struct history_entry *e, double rate,
		     uint64_t total)
{
	uint64_t missed = h->last_generation && h->generation > h->last_generation + 1
				  ? h->generation - h->last_generation - 1
				  : 0;
	double rest, spread;

	if (!missed || e->seen != h->last_generation)
		return;
	rest = total > e->total ? (double)(total - e->total) - rate * h->interval_s : 0;
	spread = rest > 0 && h->interval_s > 0 ? rest / (h->interval_s * (double)missed) : 0;
	for (uint64_t i = 0; i < missed && i < RATE_HISTORY_LEN; i++)
		push(e, spread);
}

void rate_history_add(struct rate_history *h, const struct flow_key *key, double rate,
		      uint64_t total_bytes)
{
	struct history_entry *e;
	size_t i;

	if (!h->learning || h->failed)
		return;
	if (2 * (h->count + 1) + 2 > h->nindex && rebuild_index(h, h->count + 1) < 0)
		goto fail;
	i = slot_of(h, key);
	if (h->index[i]) {
		e = &h->entries[h->index[i] - 1];
		if (e->seen == h->generation)
			return; /* a key twice in one snapshot: once */
		fill_gap(h, e, rate, total_bytes);
	} else {
		if (h->count == h->room) {
			size_t room = h->room * 2 + 64;

			if (!array_grow((void **)&h->entries, room, sizeof(*h->entries)))
				goto fail;
			h->room = room;
		}
		e = &h->entries[h->count];
		memset(e, 0, sizeof(*e));
		e->key = *key;
		h->index[i] = (uint32_t)++h->count;
	}
	push(e, rate);
	e->total = total_bytes;
	e->seen = h->generation;
	return;
fail:
	h->failed = true;
}

int rate_history_end(struct rate_history *h)
{
	size_t kept = 0;

	if (!h->learning)
		return 0;
	h->learning = false;
	if (h->failed) {
		h->failed = false;
		h->count = 0;
		if (h->index)
			memset(h->index, 0, h->nindex * sizeof(*h->index));
		return -1;
	}
	for (size_t e = 0; e < h->count; e++)
		if (h->entries[e].seen == h->generation && kept++ != e)
			h->entries[kept - 1] = h->entries[e];
	if (kept == h->count)
		return 0;
	h->count = kept;
	return rebuild_index(h, kept);
}

size_t rate_history_get(const struct rate_history *h, const struct flow_key *key,
			double out[RATE_HISTORY_LEN])
{
	const struct history_entry *e;
	size_t i;

	if (!h->nindex)
		return 0;
	i = slot_of(h, key);
	if (!h->index[i])
		return 0;
	e = &h->entries[h->index[i] - 1];
	for (size_t k = 0; k < e->len; k++)
		out[k] = e->rate[(e->head + k) % RATE_HISTORY_LEN];
	return e->len;
}
