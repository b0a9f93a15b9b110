/* An index of a recording's snapshots for the live view's time navigation: where each
 * one's key record is and how many records follow it, so that any snapshot is one seek
 * and at most RECORD_KEY_EVERY decodes away. */
#include <stdlib.h>
#include <string.h>
#include "record/record_index.h"

struct walk {
	struct record_index *x;
	const struct record_times *range;
	size_t key_pos;
	uint32_t from_key;
	int failed;
};

static struct timespec timespec_of(uint64_t ns)
{
	return (struct timespec){ (time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL) };
}

static void add_entry(void *ctx, size_t pos, const struct record_header *h)
{
	struct walk *w = ctx;
	struct record_index *x = w->x;
	struct timespec t = timespec_of(h->real_ns);

	if (!x->first_ns)
		x->first_ns = h->real_ns;
	if (h->type == RECORD_KEY) {
		w->key_pos = pos;
		w->from_key = 0;
	} else {
		w->from_key++;
	}
	if (w->failed || record_range_place(w->range, &t) != 0)
		return;
	if (x->n == x->room) {
		size_t room = x->room ? 2 * x->room : 1024;
		struct record_entry *e = realloc(x->entries, room * sizeof(*e));

		if (!e) {
			w->failed = -1;
			return;
		}
		x->entries = e;
		x->room = room;
	}
	x->entries[x->n++] = (struct record_entry){ h->real_ns, w->key_pos, w->from_key };
}

int record_index_build(struct record_index *x, struct record_reader *r,
		       const struct record_times *range)
{
	struct walk w = { .x = x, .range = range };

	memset(x, 0, sizeof(*x));
	record_reader_walk(r, add_entry, &w);
	x->next = x->n;
	return w.failed;
}

void record_index_free(struct record_index *x)
{
	free(x->entries);
	memset(x, 0, sizeof(*x));
}

/* Whether entry j is the record right after entry i in the same run of deltas. */
static bool follows(const struct record_index *x, size_t i, size_t j)
{
	return j < x->n && x->entries[j].key_pos == x->entries[i].key_pos &&
	       x->entries[j].from_key == x->entries[i].from_key + 1;
}

struct snapshot *record_index_fetch(struct record_index *x, struct record_reader *r, size_t i)
{
	const struct record_entry *e = &x->entries[i];
	struct snapshot *s = NULL;
	uint32_t skip = 0;

	if (x->next != i) {
		record_reader_goto(r, e->key_pos);
		skip = e->from_key;
	}
	for (uint32_t k = 0; k <= skip; k++) {
		snapshot_release(s);
		s = record_reader_next(r);
		if (!s)
			break;
	}
	x->next = s && follows(x, i, i + 1) ? i + 1 : x->n;
	return s;
}

size_t record_index_find(const struct record_index *x, const char *text)
{
	struct record_range given = { text, NULL };
	struct record_times when;
	size_t i;

	if (!x->n)
		return 0;
	record_range_resolve(&when, &given, x->first_ns);
	for (i = 0; i < x->n; i++) {
		struct timespec t = timespec_of(x->entries[i].real_ns);

		if (record_range_place(&when, &t) >= 0)
			break;
	}
	return i;
}
