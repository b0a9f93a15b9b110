/* -vv: what a pipeline stage costs per interval, summarised on stderr at exit. make bench
 * reads these lines for its user-space scaling table. */
#ifndef TCPTOP_STAGE_TIME_H
#define TCPTOP_STAGE_TIME_H

#include <stdint.h>

struct stage_time {
	uint64_t count, total_ns, max_ns, first_ns;
};

/* CLOCK_MONOTONIC, in ns: the start of a timed stage. */
uint64_t stage_time_start(void);
/* Account one run of the stage that began at start_ns. */
void stage_time_add(struct stage_time *t, uint64_t start_ns);
/* "stage NAME: N intervals, mean X ms, max Y ms, mean after the first Z ms" when -vv
 * was given. */
void stage_time_report(const struct stage_time *t, const char *stage);

/* The process's CPU time (user + system, all threads) from the second snapshot written
 * to the last: what an interval costs once started, without the start-up and the exit. */
struct steady_cpu {
	uint64_t first_cpu_ns, first_ns, last_cpu_ns, last_ns;
	uint64_t marks;
};

/* Call after each snapshot is written. */
void steady_cpu_mark(struct steady_cpu *c);
/* "cpu after the first two snapshots: X% of a core over Y s" when -vv was given and
 * more than two were written. */
void steady_cpu_report(const struct steady_cpu *c);

#endif
