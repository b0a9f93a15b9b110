/* The walks on kernels without BPF iterators: sockets from sock_diag, their processes from
 * /proc/PID/fd. Slower than the iterators (a readlink per open file), so used only when
 * those cannot load. Like them, they see the caller's network namespace only. */
#ifndef TCPTOP_PROCFS_WALK_H
#define TCPTOP_PROCFS_WALK_H

#include <stdint.h>
#include "flow_table.h"

/* As ebpf_walk_run: the sockets into table (live TCP ones seeded into flows_fd, so their
 * close is reported), then each socket's first holder as its owner. 0 or -errno. */
int procfs_walk_run(struct flow_table *table, int flows_fd, uint64_t now_ns);
/* Owners only, for flows that have none yet (accepted sockets). 0 or -errno. */
int procfs_walk_owners(struct flow_table *table);

#endif
