/* A flow's averages over the last 2 s, 10 s and 40 s: bytes in coarse time buckets (a
 * quarter of each window wide, aligned on the monotonic clock so all flows share them),
 * filled from each measured interval as if its bytes came evenly over it. The compute
 * thread owns them; only flows that moved a byte since the first drain have any. */
#ifndef TCPTOP_FLOW_WINDOWS_H
#define TCPTOP_FLOW_WINDOWS_H

#include <stdbool.h>
#include <stdint.h>

#define FLOW_WINDOWS 3
/* Whole buckets a window spans, and the ring: those plus the one filling now. */
#define FLOW_WINDOW_SPAN 4
#define FLOW_WINDOW_RING (FLOW_WINDOW_SPAN + 1)

/* 2 s, 10 s, 40 s. */
extern const uint64_t flow_window_ns[FLOW_WINDOWS];

struct flow_windows {
	uint64_t start_ns; /* where the first interval added began: a young flow's windows
			    * average over the time since */
	/* The newest bucket's number in each ring: buckets of CLOCK_MONOTONIC, 0.5 s and up,
	 * fit 32 bits for 68 years of uptime. */
	uint32_t head[FLOW_WINDOWS];
	float tx[FLOW_WINDOWS][FLOW_WINDOW_RING];
	float rx[FLOW_WINDOWS][FLOW_WINDOW_RING];
};

void flow_windows_init(struct flow_windows *w, uint64_t start_ns);
/* The bytes of the interval [t0_ns, t1_ns), spread evenly over it. */
void flow_windows_add(struct flow_windows *w, uint64_t t0_ns, uint64_t t1_ns, uint64_t tx,
		      uint64_t rx);
/* Bytes/s over each window ending at now_ns (>= the last interval's end): the buckets it
 * covers, the oldest in proportion to the part of it inside. A flow younger than a window
 * averages over its age instead. False when every average is zero. */
bool flow_windows_rates(const struct flow_windows *w, uint64_t now_ns, float tx[FLOW_WINDOWS],
			float rx[FLOW_WINDOWS]);

#endif
