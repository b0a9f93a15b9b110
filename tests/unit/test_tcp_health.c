/* A TCP connection's health from its samples (tcp_health.h): the delivery rate as tcp_info
 * computes it, a running chrono settled at a drain, and the shares of each limit. */
#include <criterion/criterion.h>
#include "tcp_health.h"
#include "time_limit.h"

TestSuite(tcp_health, .timeout = UNIT_TIME_LIMIT_S);

Test(tcp_health, delivery_rate_is_segments_times_mss_per_interval)
{
	struct flow_tcp_health h = { .rate_delivered = 10,
				     .rate_interval_us = 1000,
				     .mss_cache = 1448 };

	cr_assert_float_eq(tcp_health_delivery_rate(&h), 14480000.0, 1e-6);
	h.rate_interval_us = 0;
	cr_assert_float_eq(tcp_health_delivery_rate(&h), 0.0, 1e-9);
}

Test(tcp_health, settle_gives_the_running_time_to_its_kind)
{
	struct flow_tcp_health h = { .chrono_stat = { 100, 20, 0 },
				     .chrono_start = 1000,
				     .chrono_type = TCPTOP_CHRONO_RWND };

	tcp_health_settle(&h, 1250);
	cr_assert_eq(h.chrono_stat[0], 100);
	cr_assert_eq(h.chrono_stat[1], 270);
	cr_assert_eq(h.chrono_stat[2], 0);
	cr_assert_eq(h.chrono_start, 1250);
	/* Idle: nothing runs, only the moment moves. */
	h.chrono_type = TCPTOP_CHRONO_NONE;
	tcp_health_settle(&h, 1500);
	cr_assert_eq(h.chrono_stat[1], 270);
	cr_assert_eq(h.chrono_start, 1500);
}

Test(tcp_health, settle_across_the_jiffies_wrap)
{
	struct flow_tcp_health h = { .chrono_start = 0xfffffff0u,
				     .chrono_type = TCPTOP_CHRONO_BUSY };

	tcp_health_settle(&h, 0x10);
	cr_assert_eq(h.chrono_stat[0], 0x20);
}

Test(tcp_health, shares_split_the_time_between_two_samples)
{
	const uint32_t prev[3] = { 1000, 50, 0 }, now[3] = { 1150, 100, 25 };
	uint8_t pct[TCP_LIMIT_COUNT];

	/* 250 jiffies: 150 busy, 50 rwnd, 25 sndbuf, the rest (25) idle. */
	cr_assert(tcp_health_shares(prev, 4000, now, 4250, pct));
	cr_assert_eq(pct[TCP_LIMIT_CWND], 60);
	cr_assert_eq(pct[TCP_LIMIT_RWND], 20);
	cr_assert_eq(pct[TCP_LIMIT_SNDBUF], 10);
	cr_assert_eq(pct[TCP_LIMIT_APP], 10);
	cr_assert_eq(tcp_health_main_limit(pct), TCP_LIMIT_CWND);
}

Test(tcp_health, no_time_or_counts_going_back_give_no_shares)
{
	const uint32_t prev[3] = { 1000, 50, 0 }, back[3] = { 900, 50, 0 };
	uint8_t pct[TCP_LIMIT_COUNT];

	cr_assert_not(tcp_health_shares(prev, 4000, prev, 4000, pct));
	cr_assert_not(tcp_health_shares(prev, 4000, back, 4100, pct));
}

Test(tcp_health, shares_never_exceed_the_whole)
{
	const uint32_t prev[3] = { 0, 0, 0 }, now[3] = { 90, 30, 0 };
	uint8_t pct[TCP_LIMIT_COUNT];

	cr_assert(tcp_health_shares(prev, 0, now, 100, pct));
	cr_assert_eq(pct[TCP_LIMIT_CWND], 90);
	cr_assert_eq(pct[TCP_LIMIT_RWND], 10);
	cr_assert_eq(pct[TCP_LIMIT_APP], 0);
}

Test(tcp_health, an_idle_connection_is_app_limited)
{
	const uint32_t same[3] = { 7, 8, 9 };
	uint8_t pct[TCP_LIMIT_COUNT];

	cr_assert(tcp_health_shares(same, 10, same, 260, pct));
	cr_assert_eq(pct[TCP_LIMIT_APP], 100);
	cr_assert_eq(tcp_health_main_limit(pct), TCP_LIMIT_APP);
}
