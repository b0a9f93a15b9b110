/* A socket a start-up walk found, into the flow table: the one merge both walks share (the
 * BPF iterators', ebpf/walk.c, and sock_diag's, ebpf/walk_procfs.c). */
#ifndef TCPTOP_WALK_RECORD_H
#define TCPTOP_WALK_RECORD_H

#include <stdint.h>
#include "flow_table.h"
#include "tcptop_shared.h"

void walk_record_merge(struct flow_table *table, const struct walk_socket_record *r,
		       uint64_t now_ns);

#endif
