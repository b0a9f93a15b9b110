/* One row of a snapshot: everything a reader shows about one flow at one instant. */
#ifndef TCPTOP_FLOW_ROW_H
#define TCPTOP_FLOW_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cgroup/cgroup_name.h"
#include "tcptop_shared.h"

/* A TCP connection's health as its last sample said (tcp_health.h): the send and receive
 * queues in bytes (a listener has none: its sendq and recvq columns show backlog_max and
 * backlog, so the two can share memory), cwnd in segments, the delivery rate in bytes/s, and the
 * percent of the last interval spent cwnd, rwnd and sndbuf limited (app: the rest). known:
 * TCPTOP_HEALTH_QUEUES and _CWND, FLOW_HEALTH_LIMITED once limited holds shares, the limit running
 * at the last sample (FLOW_HEALTH_RUNNING, a TCPTOP_CHRONO_*), and FLOW_HEALTH_MOVING while the
 * shares are not all that one's: an interval with no sample gives it all of it. */
struct flow_health_row {
	uint32_t sendq, recvq, cwnd;
	float delivery_rate;
	uint8_t limited[3];
	uint8_t known;
};

#define FLOW_HEALTH_RUNNING_SHIFT 4
#define FLOW_HEALTH_RUNNING (3 << FLOW_HEALTH_RUNNING_SHIFT)
#define FLOW_HEALTH_MOVING 0x40
#define FLOW_HEALTH_LIMITED 0x80

struct flow_row {
	struct flow_key key;
	/* The generation of the snapshot in which anything shown of this row but its age last
	 * changed: a writer that keeps a row's text may reuse it while this stays the same.
	 * Next to the key: a writer that looks for changed rows reads one cache line each. */
	uint64_t version;
	/* Tuple, pid, comm, netns, ifindex: shared, never changed (flow_identity.h). A
	 * snapshot's row holds a reference on it; a reader that keeps the row beyond its
	 * snapshot keeps a reference or a copy of its own. */
	const struct flow_identity *id;
	/* id->first_seen_ns, kept here too: every build ages every row, and a pointer chased
	 * per row cost the compute thread ~1% of a core at 100k rows. */
	uint64_t first_seen_ns;
	uint8_t state;           /* kernel TCP state; TCPTOP_STATE_NONE for UDP */
	bool closed;             /* final record: shown in one snapshot, then gone */
	bool listen_known;       /* a TCP listener the listeners' walk saw: backlog... hold */
	/* A listener's queues or a connection's health, never both: one memory. Beside the
	 * flags, so that the row has no hole (248 bytes). */
	union {
		/* listen_known: the accept queue, its limit, the connections it dropped since
		 * it was created (the kernel's count) and per second over the last interval. */
		struct {
			uint32_t backlog, backlog_max, drops;
			float drop_rate;
		};
		/* Not listen_known. Its limited and known bytes lie past the listener's. */
		struct flow_health_row health;
	};
	uint64_t tx_bytes;
	uint64_t rx_bytes;
	uint64_t tx_packets;
	uint64_t rx_packets;
	double tx_rate; /* bytes/s over the last measured interval */
	double rx_rate;
	/* bytes/s over the last 2 s, 10 s and 40 s (flow_windows.h): decaying while idle */
	float tx_rate_win[3];
	float rx_rate_win[3];
	uint32_t srtt_us;
	uint32_t retrans;
	double age_s; /* since tcptop first saw the flow: at first_seen_ns (CLOCK_MONOTONIC) */
	const struct cgroup_name *cgroup; /* id->cgroup_id's name; NULL when not known */
};

_Static_assert(offsetof(struct flow_row, health.limited) >=
		       offsetof(struct flow_row, drop_rate) + sizeof(float),
	       "a listener's fields leave the health's limited and known bytes alone");

/* A flow's age at now_ns, as rows show it (both CLOCK_MONOTONIC). */
static inline double flow_age_s(uint64_t now_ns, uint64_t first_seen_ns)
{
	return now_ns > first_seen_ns ? (double)(now_ns - first_seen_ns) / 1e9 : 0.0;
}

#endif
