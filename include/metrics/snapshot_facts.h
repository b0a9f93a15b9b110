/* What a scrape shows of the last snapshot besides the ledger: tcptop's own counters and
 * the top flows by rate (--metrics-top), copied when the snapshot is folded so that the
 * metrics thread holds no snapshot between scrapes. */
#ifndef TCPTOP_METRICS_SNAPSHOT_FACTS_H
#define TCPTOP_METRICS_SNAPSHOT_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "output/losses.h"
#include "snapshot.h"
#include "util/addr.h"

struct top_flow {
	char comm[TCPTOP_COMM_LEN];
	uint8_t proto;
	char local[ADDR_TEXT_LEN + 9], remote[ADDR_TEXT_LEN + 9]; /* "[::1]:22" */
	double tx_rate, rx_rate;
};

struct snapshot_facts {
	bool seen; /* false until the first snapshot */
	uint64_t generation;
	struct timespec time;
	uint64_t build_ns;
	size_t tcp_flows, udp_flows;
	struct losses losses;
	uint32_t nprogs; /* the BPF programs' counters */
	struct prog_stat progs[PROG_STATS_MAX];
	struct top_flow *top; /* room for top_room, the first ntop used, highest rate first */
	size_t ntop, top_room;
};

/* Room for the top n flows; -1 when out of memory. */
int snapshot_facts_init(struct snapshot_facts *f, size_t top_n);
void snapshot_facts_free(struct snapshot_facts *f);
void snapshot_facts_take(struct snapshot_facts *f, const struct snapshot *s,
			 const struct loss_sources *sources);

#endif
