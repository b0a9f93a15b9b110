/* A TCP connection's health from its samples (tcp_health.h). */
#include "tcp_health.h"

const char *const tcp_limit_names[TCP_LIMIT_COUNT] = { "app", "cwnd", "rwnd", "sndbuf" };

double tcp_health_delivery_rate(const struct flow_tcp_health *h)
{
	if (!h->rate_delivered || !h->rate_interval_us)
		return 0.0;
	return (double)h->rate_delivered * h->mss_cache * 1e6 / h->rate_interval_us;
}

void tcp_health_settle(struct flow_tcp_health *h, uint32_t jiffies_now)
{
	uint8_t type = h->chrono_type;

	if (type >= TCPTOP_CHRONO_BUSY && type <= TCPTOP_CHRONO_SNDBUF &&
	    (int32_t)(jiffies_now - h->chrono_start) > 0)
		h->chrono_stat[type - 1] += jiffies_now - h->chrono_start;
	h->chrono_start = jiffies_now;
}

bool tcp_health_shares(const uint32_t prev_stat[3], uint32_t prev_at, const uint32_t stat[3],
		       uint32_t at, uint8_t percent[TCP_LIMIT_COUNT])
{
	uint32_t elapsed = at - prev_at, spent[3], limited = 0;
	int given = 0;

	if ((int32_t)elapsed <= 0)
		return false;
	for (int i = 0; i < 3; i++) {
		spent[i] = stat[i] - prev_stat[i];
		if ((int32_t)spent[i] < 0)
			return false;
		/* A running kind settled at 'at' and a stop a moment before it in BPF may
		 * overlap by a jiffy: never more than the whole. */
		if (spent[i] > elapsed - limited)
			spent[i] = elapsed - limited;
		limited += spent[i];
	}
	for (int i = 0; i < 3; i++) {
		percent[TCP_LIMIT_CWND + i] = (uint8_t)((uint64_t)spent[i] * 100 / elapsed);
		given += percent[TCP_LIMIT_CWND + i];
	}
	percent[TCP_LIMIT_APP] = (uint8_t)(100 - given);
	return true;
}

enum tcp_limit tcp_health_main_limit(const uint8_t percent[TCP_LIMIT_COUNT])
{
	enum tcp_limit best = TCP_LIMIT_APP;

	for (int i = TCP_LIMIT_CWND; i < TCP_LIMIT_COUNT; i++)
		if (percent[i] > percent[best])
			best = (enum tcp_limit)i;
	return best;
}
