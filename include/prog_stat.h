/* What the kernel counts for each of a backend's BPF programs: carried from the drain to
 * the snapshot, for the loss counters (misses) and the metrics (runs and run time). */
#ifndef TCPTOP_PROG_STAT_H
#define TCPTOP_PROG_STAT_H

#include <stdint.h>

/* More than either hook set loads (the modern one: 9 programs). */
#define PROG_STATS_MAX 16
#define PROG_NAME_LEN 40

struct prog_stat {
	char name[PROG_NAME_LEN]; /* its function's, as bpftool shows it; NUL-terminated */
	/* Cumulative since load. runs and run_ns grow only while BPF stats are enabled
	 * (sysctl kernel.bpf_stats_enabled, or a BPF_ENABLE_STATS fd held by anyone). */
	uint64_t runs;
	uint64_t run_ns;
	uint64_t misses; /* runs the kernel skipped: recursion_misses */
};

#endif
