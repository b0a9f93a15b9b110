/* Each loaded program's counters from bpf_prog_info: run count and run time (kept by the
 * kernel while BPF stats are enabled) and recursion_misses, the runs it skipped: a tracing
 * program already running on the CPU is not entered again (its prog->active check). A
 * skipped run is an event the program never saw, e.g. a close that never reached the
 * flow store. */
#ifndef TCPTOP_EBPF_PROG_STATS_H
#define TCPTOP_EBPF_PROG_STATS_H

#include <stddef.h>
#include "prog_stat.h"

struct bpf_object;

/* Up to room of obj's loaded programs, read through the fds tcptop holds; programs whose
 * info cannot be read are left out. Returns how many were filled. */
size_t prog_stats_read(const struct bpf_object *obj, struct prog_stat *out, size_t room);

#endif
