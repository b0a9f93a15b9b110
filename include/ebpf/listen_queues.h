/* How TCP listeners are doing: each one's accept queue and the connections it dropped, from
 * a sock_diag dump of listeners only at each drain (never a walk of every socket); and the
 * host's ListenDrops. Like ss(8), it sees the caller's network namespace only. */
#ifndef TCPTOP_LISTEN_QUEUES_H
#define TCPTOP_LISTEN_QUEUES_H

#include <stdbool.h>
#include <stdint.h>
#include "flow_table.h"

/* Each listener's queue into its flow. 0, or -errno. */
int listen_queues_read(struct flow_table *table);
/* TcpExt ListenDrops of /proc/net/netstat into *drops; false when it cannot be read. */
bool listen_drops_read(uint64_t *drops);

#endif
