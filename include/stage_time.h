/* -vv: what a pipeline stage costs per interval, summarised on stderr at exit. make bench
 * reads these lines for its user-space scaling table. */
#ifndef TCPTOP_STAGE_TIME_H
#define TCPTOP_STAGE_TIME_H

#include <stdint.h>

struct stage_time {
	uint64_t count, total_ns, max_ns;
};

/* CLOCK_MONOTONIC, in ns: the start of a timed stage. */
uint64_t stage_time_start(void);
/* Account one run of the stage that began at start_ns. */
void stage_time_add(struct stage_time *t, uint64_t start_ns);
/* "stage NAME: N intervals, mean X ms, max Y ms" when -vv was given. */
void stage_time_report(const struct stage_time *t, const char *stage);

#endif
