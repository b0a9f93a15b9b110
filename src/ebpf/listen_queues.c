/* Listeners' accept queues and drops (ebpf/listen_queues.h). For a listener, sock_diag
 * gives the accept queue's length as idiag_rqueue and its limit (listen()'s backlog) as
 * idiag_wqueue; SK_MEMINFO_DROPS is sk_drops, which tcp_listendrop() counts. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <linux/sock_diag.h>
#include "ebpf/listen_queues.h"
#include "ebpf/sock_diag.h"

static void take_listener(const struct sock_diag_entry *e, void *table)
{
	uint32_t drops = e->meminfo && e->meminfo_len > SK_MEMINFO_DROPS
				 ? e->meminfo[SK_MEMINFO_DROPS]
				 : 0;

	flow_table_set_listen(table, e->cookie, e->msg->idiag_rqueue, e->msg->idiag_wqueue, drops);
}

int listen_queues_read(struct flow_table *table)
{
	return sock_diag_listeners(take_listener, table);
}

/* /proc/net/netstat: a line of TcpExt names, then one of their values. */
bool listen_drops_read(uint64_t *drops)
{
	char names[4096], values[4096], *n, *v, *ns = NULL, *vs = NULL;
	FILE *f = fopen("/proc/net/netstat", "re");
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f)) {
		if (strncmp(names, "TcpExt:", 7) != 0 || strncmp(values, "TcpExt:", 7) != 0)
			continue;
		n = strtok_r(names, " \n", &ns);
		v = strtok_r(values, " \n", &vs);
		while (n && v && !found) {
			if (strcmp(n, "ListenDrops") == 0)
				found = sscanf(v, "%" SCNu64, drops) == 1;
			n = strtok_r(NULL, " \n", &ns);
			v = strtok_r(NULL, " \n", &vs);
		}
	}
	fclose(f);
	return found;
}
