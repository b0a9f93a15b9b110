/* Each flow's (or group's) rate over its last RATE_HISTORY_LEN intervals, tx + rx, kept by
 * a reader from the snapshots it learns: the history column and the detail pane show
 * whether a rate is a spike or a trend. Only readers that show it keep one, so it costs
 * nothing otherwise (128 bytes a flow when it does). The newest rate is kept exact, those
 * before it as 16-bit log codes (within 0.034%); the intervals of snapshots a reader did
 * not see get the bytes moved meanwhile, spread evenly. */
#ifndef TCPTOP_RATE_HISTORY_H
#define TCPTOP_RATE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "flow_row.h"
#include "tcptop_shared.h"

#define RATE_HISTORY_LEN 40

struct rate_history;

/* NULL when out of memory. */
struct rate_history *rate_history_new(void);
void rate_history_free(struct rate_history *h);
/* Learning the snapshot of generation (its intervals interval_s long) starts; the one
 * learnt last again is ignored, up to rate_history_end(): false then, so that the caller
 * need not go through its rows. */
bool rate_history_begin(struct rate_history *h, uint64_t generation, double interval_s);
/* A row of it: its rate over the interval (bytes/s) and all the bytes it moved. */
void rate_history_add(struct rate_history *h, const struct flow_key *key, double rate,
		      uint64_t total_bytes);
/* A flow's or a group's row: its rate is tx + rx, as the history column says. */
static inline void rate_history_add_row(struct rate_history *h, const struct flow_row *row)
{
	rate_history_add(h, &row->key, row->tx_rate + row->rx_rate, row->tx_bytes + row->rx_bytes);
}
/* Rows not added are forgotten. -1 when out of memory (the history is then empty). */
int rate_history_end(struct rate_history *h);
/* key's rates, oldest first, into out; how many (0 for a key not known). */
size_t rate_history_get(const struct rate_history *h, const struct flow_key *key,
			double out[RATE_HISTORY_LEN]);

#endif
