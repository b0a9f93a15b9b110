/* Rate histories (view/rate_history.h): entries in one array, found through an
 * open-addressing index rebuilt when entries are forgotten. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "util/array_grow.h"
#include "util/open_index.h"
#include "view/rate_history.h"

/* log2(1 + rate) in 1/1024ths: within 2^(1/2048) - 1 = 0.034% of the rate, up to 2^64. */
#define CODE_SCALE 1024.0

/* 104 bytes: at 100k flows the history is 10 MB. A flow is known by a 64-bit hash of its
 * key rather than the 32-byte key: two of 100k flows share one with odds of 3 in 10^10. */
struct history_entry {
	uint64_t id;    /* hash_key() of the flow's key */
	uint64_t total; /* bytes moved, at the last snapshot learnt */
	uint32_t seen;  /* the (low bits of the) generation that last added it */
	float newest;   /* the last rate, exact */
	uint16_t code[RATE_HISTORY_LEN - 1]; /* those before it: a ring, code[head] the oldest */
	uint8_t head, len;                   /* len counts newest too */
};

_Static_assert(sizeof(struct history_entry) == 104, "a history entry is 104 bytes");

struct rate_history {
	struct history_entry *entries;
	size_t count, room;
	struct open_index index;
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
	open_index_free(&h->index);
	free(h);
}

static uint16_t encode(double rate)
{
	double code = rate > 0 ? log2(1.0 + rate) * CODE_SCALE : 0;

	return code >= 65535.0 ? 65535 : (uint16_t)lround(code);
}

static double decode(uint16_t code)
{
	return code ? exp2(code / CODE_SCALE) - 1.0 : 0.0;
}

static uint64_t hash_key(const struct flow_key *key)
{
	_Static_assert(sizeof(*key) % 8 == 0, "the key is whole words");
	return hash_words(key, sizeof(*key) / 8);
}

static int rebuild_index(struct rate_history *h, size_t want)
{
	if (open_index_reset(&h->index, want) < 0)
		return -1;
	for (size_t e = 0; e < h->count; e++)
		open_index_put(&h->index, h->entries[e].id, (uint32_t)e);
	return 0;
}

/* The slot of id in the index: its entry's, or the empty one where it would go. */
static size_t slot_of(const struct rate_history *h, uint64_t id)
{
	const struct open_index *x = &h->index;
	size_t i = id & (x->n - 1);

	while (x->slot[i] && h->entries[x->slot[i] - 1].id != id)
		i = (i + 1) & (x->n - 1);
	return i;
}

bool rate_history_begin(struct rate_history *h, uint64_t generation, double interval_s)
{
	h->learning = generation != h->generation || !generation;
	if (!h->learning)
		return false;
	h->last_generation = h->generation;
	h->generation = generation;
	h->interval_s = interval_s;
	return true;
}

static void push(struct history_entry *e, double rate)
{
	enum {
		RING = RATE_HISTORY_LEN - 1
	};

	if (e->len == RATE_HISTORY_LEN) {
		e->code[e->head] = encode(e->newest);
		e->head = (uint8_t)((e->head + 1) % RING);
	} else if (e->len > 0) {
		e->code[(e->head + e->len - 1) % RING] = encode(e->newest);
	}
	if (e->len < RATE_HISTORY_LEN)
		e->len++;
	e->newest = (float)rate;
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

	if (!missed || e->seen != (uint32_t)h->last_generation)
		return;
	rest = total > e->total ? (double)(total - e->total) - rate * h->interval_s : 0;
	spread = rest > 0 && h->interval_s > 0 ? rest / (h->interval_s * (double)missed) : 0;
	for (uint64_t i = 0; i < missed && i < RATE_HISTORY_LEN; i++)
		push(e, spread);
}

void rate_history_add(struct rate_history *h, const struct flow_key *key, double rate,
		      uint64_t total_bytes)
{
	uint64_t id = hash_key(key);
	struct history_entry *e;
	size_t i;

	if (!h->learning || h->failed)
		return;
	if (!open_index_fits(&h->index, h->count + 1) && rebuild_index(h, h->count + 1) < 0)
		goto fail;
	i = slot_of(h, id);
	if (h->index.slot[i]) {
		e = &h->entries[h->index.slot[i] - 1];
		if (e->seen == (uint32_t)h->generation)
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
		e->id = id;
		h->index.slot[i] = (uint32_t)++h->count;
	}
	push(e, rate);
	e->total = total_bytes;
	e->seen = (uint32_t)h->generation;
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
		if (h->index.n)
			memset(h->index.slot, 0, h->index.n * sizeof(*h->index.slot));
		return -1;
	}
	for (size_t e = 0; e < h->count; e++)
		if (h->entries[e].seen == (uint32_t)h->generation && kept++ != e)
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

	if (!h->index.n)
		return 0;
	i = slot_of(h, hash_key(key));
	if (!h->index.slot[i])
		return 0;
	e = &h->entries[h->index.slot[i] - 1];
	for (size_t k = 0; k + 1 < e->len; k++)
		out[k] = decode(e->code[(e->head + k) % (RATE_HISTORY_LEN - 1)]);
	if (e->len)
		out[e->len - 1] = e->newest;
	return e->len;
}
