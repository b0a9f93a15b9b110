/* Whether this kernel checks for CAP_BPF on every bpf() command, even on maps and links
 * the caller already holds. */
#ifndef TCPTOP_EBPF_BPF_GATE_H
#define TCPTOP_EBPF_BPF_GATE_H

#include <stdbool.h>

/* True when a thread without capabilities would be refused bpf() on the fds it holds, or
 * when that cannot be known. Lowers the calling thread's effective capabilities for a
 * moment, so call it before other threads depend on them. */
bool bpf_gate_closed_without_caps(void);

#endif
