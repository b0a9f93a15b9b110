/* Row filters from the command line (and later the TUI). All set criteria must hold. */
#ifndef TCPTOP_FILTER_H
#define TCPTOP_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "flow_row.h"

struct filter {
	pid_t *pids; /* -p; any of them */
	size_t npids;
	char *comm_substring; /* -c */
	char *cgroup_substring; /* --cgroup: in the shown name or the path */
	int port;             /* --port, either side; -1 = any */
	int sport;            /* --sport, local; -1 = any */
	int dport;            /* --dport, remote; -1 = any */
	bool tcp, udp;        /* -t / -u: when neither is set, both */
	bool ipv4, ipv6;      /* -4 / -6: when neither is set, both */
	uint32_t ifindex;     /* -i; 0 = any */
};

void filter_init(struct filter *f);
void filter_free(struct filter *f);
bool filter_match(const struct filter *f, const struct flow_row *row);
/* Human-readable summary for -v and the TUI header ("pid=12 proto=tcp"); "" when empty. */
void filter_describe(const struct filter *f, char *out, size_t len);

#endif
