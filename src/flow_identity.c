/* Identities shared by flow nodes and snapshot rows (flow_identity.h): a count each. The
 * count uses C11 atomics, like the snapshots' (snapshot.c): the last put must visibly
 * follow every read, for ThreadSanitizer too. */
#include <stdlib.h>
#include "flow_identity.h"

/* In refs beside the count: made from spares, so it goes back at its last put. */
#define IDENTITY_RECYCLED (1u << 31)

/* Identities made from spares whose last reference went (util/spares.h). */
static void *returned_identities;

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

struct spares flow_identity_spares(void)
{
	return SPARES_INIT(&returned_identities, struct flow_identity_rcu, next_retired);
}

struct flow_identity_rcu *flow_identity_new_from(struct spares *spares,
						 const struct flow_identity *value)
{
	struct flow_identity_rcu *ident = spares_take(spares);

	if (!ident)
		ident = malloc(sizeof(*ident));
	if (ident) {
		ident->id = *value;
		ident->refs = 1 | IDENTITY_RECYCLED;
		ident->next_retired = NULL;
	}
	return ident;
}

const struct flow_identity *flow_identity_hold(const struct flow_identity *id)
{
	if (id)
		__atomic_add_fetch(&((struct flow_identity_rcu *)id)->refs, 1, __ATOMIC_RELAXED);
	return id;
}

void flow_identity_put(const struct flow_identity *id)
{
	struct flow_identity_rcu *ident = (struct flow_identity_rcu *)id;
	const size_t link = offsetof(struct flow_identity_rcu, next_retired);
	uint32_t left;

	if (!ident)
		return;
	left = __atomic_sub_fetch(&ident->refs, 1, __ATOMIC_ACQ_REL);
	if (left == IDENTITY_RECYCLED)
		spares_give(&returned_identities, spares_link(ident, NULL, sizeof(*ident), link),
			    ident, link);
	else if (left == 0)
		free(ident);
}
