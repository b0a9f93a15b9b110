/* The collector thread: drains the backend into the flow table at every interval. */
#ifndef TCPTOP_COLLECTOR_H
#define TCPTOP_COLLECTOR_H

#include <stdint.h>
#include "backend.h"
#include "flow_table.h"
#include "output/closed_log.h"

struct collector_args {
	struct backend *backend;
	struct flow_table *table;
	uint64_t interval_ns;
	uint64_t udp_timeout_ns;
	int drained_fd; /* eventfd: written after each drain, read by the compute thread */
	int built_fd;   /* eventfd: written by the compute thread when it has used a drain */
	int stop_fd;    /* eventfd: readable when the program stops (never read) */
	int failed_fd;  /* eventfd: written if draining fails for good */
	struct closed_log *closed; /* --closed: where ended flows go, or NULL */
	uint64_t dropped_seen;     /* the backend's flows_dropped at the last eviction */
	size_t closed_bound;       /* closed flows waiting to be shown, at most (--max-flows) */
};

/* Hands every closed flow the table still holds to the closed log (all: even one whose
 * final row no snapshot carried yet, at the end); the collector's sweep, also run by main
 * once the collector has ended. */
void collector_sweep(struct collector_args *args, bool all);

void *collector_thread(void *args);

#endif
