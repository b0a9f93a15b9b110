/* Identities shared by flow nodes and snapshot rows (flow_identity.h): a count each. The
 * count uses C11 atomics, like the snapshots' (snapshot.c): the last put must visibly
 * follow every read, for ThreadSanitizer too. */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <sanitizer/asan_interface.h>
#include "flow_identity.h"

/* In refs beside the count: made from spares, so it goes back at its last put. */
#define IDENTITY_RECYCLED (1u << 31)
#define SPARES_MIN 64

/* Recyclable identities whose last reference went, linked by next_retired (__atomic).
 * Givers push one at a time; a taker takes them all at once (an exchange, so no ABA),
 * so any number of takers may share it. Process-wide: an identity does not know whose
 * spares made it, and a pointer back would cost 16 bytes of each. */
static struct flow_identity_rcu *returned_identities;

struct flow_identity_rcu *flow_identity_new(const struct flow_identity *value)
{
	struct flow_identity_rcu *ident = malloc(sizeof(*ident));

	if (ident) {
		ident->id = *value;
		ident->refs = 1;
		ident->next_retired = NULL;
	}
	return ident;
}

static void spare_poison(struct flow_identity_rcu *ident)
{
	ASAN_POISON_MEMORY_REGION(ident, offsetof(struct flow_identity_rcu, next_retired));
}

static struct flow_identity_rcu *spare_unpoison(struct flow_identity_rcu *ident)
{
	ASAN_UNPOISON_MEMORY_REGION(ident, sizeof(*ident));
	return ident;
}

static void spares_take_returned(struct flow_identity_spares *spares)
{
	struct flow_identity_rcu *ident, *next;

	ident = __atomic_exchange_n(&returned_identities, NULL, __ATOMIC_ACQUIRE);
	for (; ident; ident = next) {
		next = ident->next_retired;
		ident->next_retired = spares->head;
		spares->head = ident;
		spares->count++;
	}
}

struct flow_identity_rcu *flow_identity_new_from(struct flow_identity_spares *spares,
						 const struct flow_identity *value)
{
	struct flow_identity_rcu *ident;

	spares->taken++;
	if (!spares->head)
		spares_take_returned(spares);
	ident = spares->head;
	if (!ident)
		ident = malloc(sizeof(*ident));
	else {
		spares->head = ident->next_retired;
		spares->count--;
		spare_unpoison(ident);
	}
	if (ident) {
		ident->id = *value;
		ident->refs = 1 | IDENTITY_RECYCLED;
		ident->next_retired = NULL;
	}
	return ident;
}

void flow_identity_spares_trim(struct flow_identity_spares *spares)
{
	size_t keep = spares->taken > SPARES_MIN ? spares->taken : SPARES_MIN;
	struct flow_identity_rcu *ident;

	spares->taken = 0;
	while (spares->count > keep) {
		ident = spares->head;
		spares->head = ident->next_retired;
		spares->count--;
		free(spare_unpoison(ident));
	}
}

void flow_identity_spares_free(struct flow_identity_spares *spares)
{
	struct flow_identity_rcu *ident;

	spares_take_returned(spares);
	while ((ident = spares->head)) {
		spares->head = ident->next_retired;
		free(spare_unpoison(ident));
	}
	spares->count = spares->taken = 0;
}

const struct flow_identity *flow_identity_hold(const struct flow_identity *id)
{
	if (id)
		__atomic_add_fetch(&((struct flow_identity_rcu *)id)->refs, 1, __ATOMIC_RELAXED);
	return id;
}

static void identity_return(struct flow_identity_rcu *ident)
{
	ident->next_retired = __atomic_load_n(&returned_identities, __ATOMIC_RELAXED);
	spare_poison(ident);
	while (!__atomic_compare_exchange_n(&returned_identities, &ident->next_retired, ident, true,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

void flow_identity_put(const struct flow_identity *id)
{
	struct flow_identity_rcu *ident = (struct flow_identity_rcu *)id;
	uint32_t left;

	if (!ident)
		return;
	left = __atomic_sub_fetch(&ident->refs, 1, __ATOMIC_ACQ_REL);
	if (left == IDENTITY_RECYCLED)
		identity_return(ident);
	else if (left == 0)
		free(ident);
}
