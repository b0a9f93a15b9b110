/* How a TCP connection is doing, from its socket's sample (struct flow_tcp_health): the
 * delivery rate as tcp_info computes it, and what held the connection back between two
 * samples, from the kernel's chrono accounting (tcp_get_info_chrono_stats). */
#ifndef TCPTOP_TCP_HEALTH_H
#define TCPTOP_TCP_HEALTH_H

#include <stdbool.h>
#include <stdint.h>
#include "tcptop_shared.h"

/* What limited a connection: the order of flow_health_row.limited and of the JSONL
 * object; app is what the others leave. */
enum tcp_limit {
	TCP_LIMIT_APP,    /* idle: the application had nothing to send */
	TCP_LIMIT_CWND,   /* busy: the network (congestion window) */
	TCP_LIMIT_RWND,   /* the peer's receive window */
	TCP_LIMIT_SNDBUF, /* its own send buffer */
	TCP_LIMIT_COUNT,
};

extern const char *const tcp_limit_names[TCP_LIMIT_COUNT];

/* Bytes per second: rate_delivered segments of mss_cache bytes in rate_interval_us, as
 * tcp_compute_delivery_rate(); 0 before the first measurement. */
double tcp_health_delivery_rate(const struct flow_tcp_health *h);

/* Brings a sample's running chrono up to the kernel's jiffies now: the time since
 * chrono_start goes to its kind, and chrono_start becomes now. Afterwards chrono_stat
 * holds each kind's total at chrono_start, and two settled samples compare. */
void tcp_health_settle(struct flow_tcp_health *h, uint32_t jiffies_now);

/* The share of the time between two settled samples spent in each limit, in percent
 * (summing to 100); false when no time passed between them or their counts went back (a
 * sample of another connection). */
bool tcp_health_shares(const uint32_t prev_stat[3], uint32_t prev_at, const uint32_t stat[3],
		       uint32_t at, uint8_t percent[TCP_LIMIT_COUNT]);

/* The limit that took the largest share (the CSV and live view's limited). */
enum tcp_limit tcp_health_main_limit(const uint8_t percent[TCP_LIMIT_COUNT]);

#endif
