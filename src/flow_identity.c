/* Identities shared by flow nodes and snapshot rows (flow_identity.h): a count each. The
 * count uses C11 atomics, like the snapshots' (snapshot.c): the last put must visibly
 * follow every read, for ThreadSanitizer too. */
#include <stdlib.h>
#include "flow_identity.h"

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

const struct flow_identity *flow_identity_hold(const struct flow_identity *id)
{
	if (id)
		__atomic_add_fetch(&((struct flow_identity_rcu *)id)->refs, 1, __ATOMIC_RELAXED);
	return id;
}

void flow_identity_put(const struct flow_identity *id)
{
	struct flow_identity_rcu *ident = (struct flow_identity_rcu *)id;

	if (ident && __atomic_sub_fetch(&ident->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(ident);
}
