/* A socket a start-up walk found (BPF iterator or sock_diag), into the flow table: keyed
 * as the hooks will key its traffic, and a finished connection shown once. */
#include <string.h>
#include "ebpf/walk_record.h"

void walk_record_merge(struct flow_table *table, const struct walk_socket_record *r,
		       uint64_t now_ns)
{
	struct flow_key key = { 0 };
	struct flow_value value = { 0 };

	key.cookie = r->cookie;
	value.id = r->id;
	value.counters.state = r->state;
	/* A connected UDP socket's traffic is keyed by its peer, as the hooks will key it. */
	if (r->id.proto == TCPTOP_PROTO_UDP && r->id.rport) {
		memcpy(key.peer_addr, r->id.raddr, sizeof(key.peer_addr));
		key.peer_port = r->id.rport;
		key.peer_family = r->id.family;
	}
	/* A TIME_WAIT socket is a finished connection that no hook reports on again: it is
	 * shown once, as closed, instead of staying in the table for good. */
	if (r->id.proto == TCPTOP_PROTO_TCP && r->state == TCPTOP_TCP_TIME_WAIT)
		flow_table_end(table, &key, &value, now_ns, FLOW_END_BEFORE_START);
	else
		flow_table_merge(table, &key, &value, now_ns);
}
