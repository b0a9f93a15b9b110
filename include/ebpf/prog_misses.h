/* Runs of tcptop's BPF programs that the kernel skipped: a tracing program already running
 * on the CPU is not entered again (its prog->active check), and the kernel counts each
 * such skip in bpf_prog_info.recursion_misses. A skipped run is an event the program never
 * saw, e.g. a close that never reached the flow store. */
#ifndef TCPTOP_EBPF_PROG_MISSES_H
#define TCPTOP_EBPF_PROG_MISSES_H

#include <stdint.h>

struct bpf_object;

/* The sum of recursion_misses over obj's loaded programs, read through the fds tcptop
 * holds (no capability beyond having them); programs whose info cannot be read count 0. */
uint64_t prog_misses_read(const struct bpf_object *obj);

#endif
