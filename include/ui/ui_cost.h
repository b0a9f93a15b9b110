/* tcptop's own cost, for the live view's cost line (key o): its CPU share over the last
 * interval and, while BPF stats are on, its programs' ns per event and events/s, from
 * the run counters the collector publishes in each snapshot (as bpftop computes them). */
#ifndef TCPTOP_UI_COST_H
#define TCPTOP_UI_COST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "snapshot.h"

struct ui_cost {
	bool valid;                      /* a first sample was taken */
	uint64_t mono_ns, cpu_ns;        /* this process's CPU time, and when it was read */
	uint64_t stats_ns, runs, run_ns; /* the programs' counters, as of the snapshot's drain */
	uint32_t nprogs;
	/* Over the last interval (between the two samples); known once two were taken. */
	bool measured;
	double cpu_share, events_per_s, ns_per_event;
	bool stats_seen; /* the counters have ever grown: BPF stats are, or were, on */
};

/* A new snapshot: the cost since the one before. */
void ui_cost_sample(struct ui_cost *c, const struct snapshot *s);
/* The line the live view shows. */
void ui_cost_text(const struct ui_cost *c, char *out, size_t len);

#endif
