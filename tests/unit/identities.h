/* Identities for tests' rows, which write their fields: each one new, writable, never
 * freed (its count starts where no put brings it to 0, so a snapshot's rows may hold
 * them), and reachable to the end (no leak to report). */
#ifndef TCPTOP_TEST_IDENTITIES_H
#define TCPTOP_TEST_IDENTITIES_H

#include <stdint.h>
#include <stdlib.h>
#include "flow_identity.h"
#include "flow_row.h"

#define TEST_IDENTITY_CHUNK 4096

/* A zeroed identity of its own. */
static inline struct flow_identity *test_identity(void)
{
	static struct flow_identity_rcu **chunks;
	static size_t nchunks, used = TEST_IDENTITY_CHUNK;
	struct flow_identity_rcu *ident;

	if (used == TEST_IDENTITY_CHUNK) {
		chunks = realloc(chunks, (nchunks + 1) * sizeof(*chunks));
		if (!chunks || !(chunks[nchunks] = calloc(TEST_IDENTITY_CHUNK, sizeof(**chunks))))
			abort();
		nchunks++;
		used = 0;
	}
	ident = &chunks[nchunks - 1][used++];
	ident->refs = UINT32_MAX / 2;
	return &ident->id;
}

/* row's identity, for the test to write; a new one if it has none yet. */
static inline struct flow_identity *test_id(struct flow_row *row)
{
	if (!row->id)
		row->id = test_identity();
	return (struct flow_identity *)row->id;
}

/* row with an identity of its own, a copy of the one it shares (a copied row's). */
static inline struct flow_identity *test_own_id(struct flow_row *row)
{
	struct flow_identity *id = test_identity();

	if (row->id)
		*id = *row->id;
	row->id = id;
	return id;
}

#endif
