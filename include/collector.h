/* The collector thread: drains the backend into the flow table at every interval. */
#ifndef TCPTOP_COLLECTOR_H
#define TCPTOP_COLLECTOR_H

#include <stdint.h>
#include "backend.h"
#include "flow_table.h"

struct collector_args {
	struct backend *backend;
	struct flow_table *table;
	uint64_t interval_ns;
	uint64_t udp_timeout_ns;
	int drained_fd; /* eventfd: written after each drain, read by the compute thread */
	int built_fd;   /* eventfd: written by the compute thread when it has used a drain */
	int stop_fd;    /* eventfd: readable when the program stops (never read) */
	int failed_fd;  /* eventfd: written if draining fails for good */
};

void *collector_thread(void *args);

#endif
