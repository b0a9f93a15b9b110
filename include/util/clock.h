/* The one clock reader: a clock's time in nanoseconds. CLOCK_MONOTONIC is the clock of
 * drains, ages and stage timings (and of bpf_ktime_get_ns() in the BPF programs). */
#ifndef TCPTOP_CLOCK_H
#define TCPTOP_CLOCK_H

#include <stdint.h>
#include <time.h>

uint64_t clock_now_ns(clockid_t clock);

#endif
