/* What the endpoint keeps per process name (comm) and for the host: counters that only
 * grow, built from the deltas of each flow between the snapshots the metrics thread saw,
 * so that a flow that closes or expires leaves its counts where they were. */
#ifndef TCPTOP_METRICS_PROCESS_SERIES_H
#define TCPTOP_METRICS_PROCESS_SERIES_H

#include <stdint.h>
#include "tcptop_shared.h"

/* Smoothed RTT histogram bounds, seconds: loopback (tens of µs) to intercontinental. */
#define RTT_BUCKETS 15
extern const double rtt_bucket_bounds[RTT_BUCKETS];
extern const char *const rtt_bucket_labels[RTT_BUCKETS]; /* the same, as le= shows them */

enum {
	PROTO_TCP_INDEX,
	PROTO_UDP_INDEX,
	PROTO_COUNT
};
enum {
	DIR_TX,
	DIR_RX,
	DIR_COUNT
};

struct traffic_counters {
	uint64_t bytes[PROTO_COUNT][DIR_COUNT];
	uint64_t packets[PROTO_COUNT][DIR_COUNT];
	uint64_t retransmits;
};

struct process_series {
	char comm[TCPTOP_COMM_LEN];
	struct traffic_counters traffic;
	uint32_t connections[TCPTOP_TCP_MAX_STATES]; /* TCP, by state, in the last snapshot */
	uint32_t states_seen; /* bit per state once shown: its gauge stays, at 0 if need be */
	uint64_t rtt_buckets[RTT_BUCKETS + 1]; /* per bucket, the last one +Inf; not cumulative */
	uint64_t rtt_count;
	double rtt_sum_s;
	uint64_t last_seen_ns; /* CLOCK_MONOTONIC of the last snapshot with a row of it */
};

/* The RTT bucket an observation of srtt_us falls in (RTT_BUCKETS for +Inf). */
int rtt_bucket(uint32_t srtt_us);

#endif
