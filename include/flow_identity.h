/* A flow's identity as nodes and rows share it: made whole, never changed, counted. The
 * flow node that made it holds one reference while it is the node's (dropped a grace
 * period after it is replaced or the node removed, flow_table.c: readers of
 * node->identity inside a read-side section hold none); each snapshot row slot that
 * points to it holds one; so does any reader that keeps a row beyond the snapshot it came
 * from. The last put frees it, from whichever thread. */
#ifndef TCPTOP_FLOW_IDENTITY_H
#define TCPTOP_FLOW_IDENTITY_H

#include <stdint.h>
#include "tcptop_shared.h"
#include "util/spares.h"

/* 104 bytes, a malloc chunk of 112 (with an rcu_head of its own, 128). */
struct flow_identity_rcu {
	struct flow_identity id; /* first: a pointer to id is one to the whole */
	uint32_t refs;           /* __atomic */
	/* Replaced, its node's reference waiting for a grace period: the next one that
	 * waits with it (the flow table's, collector-private). */
	struct flow_identity_rcu *next_retired;
};

/* A copy of value with one reference, the caller's; NULL when out of memory. */
struct flow_identity_rcu *flow_identity_new(const struct flow_identity *value);

/* Identities a thread (the collector, for its flow table) makes to reuse: at its last put,
 * in whichever thread, an identity made from spares goes onto a process-wide stack that
 * any such spares take from (util/spares.h). A pointer back to the spares that made it
 * would cost 16 bytes of each identity. */
struct spares flow_identity_spares(void);
/* As flow_identity_new, from spares when there are any. */
struct flow_identity_rcu *flow_identity_new_from(struct spares *spares,
						 const struct flow_identity *value);
/* Another reference on id (which the caller knows alive), or nothing for NULL. */
const struct flow_identity *flow_identity_hold(const struct flow_identity *id);
/* Drops a reference on id (NULL: nothing); the last one frees it. */
void flow_identity_put(const struct flow_identity *id);

/* A slot that holds a reference on its identity (*slot, maybe NULL) made to hold one on
 * id instead: nothing to do when it is the same, the usual case. */
static inline void flow_identity_move(const struct flow_identity **slot,
				      const struct flow_identity *id)
{
	if (*slot == id)
		return;
	flow_identity_hold(id);
	flow_identity_put(*slot);
	*slot = id;
}

#endif
