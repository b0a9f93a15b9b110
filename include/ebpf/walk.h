/* The start-up walk: sockets that existed before tcptop attached its hooks, and their
 * owners, read through BPF iterators into the flow table. */
#ifndef TCPTOP_EBPF_WALK_H
#define TCPTOP_EBPF_WALK_H

#include <stdint.h>
#include "flow_table.h"

/* Walks the TCP and UDP sockets of the caller's network namespace into table, and seeds
 * flows_fd (the hooks' flows map) with the live TCP sockets so that their close is
 * reported. Then gives each socket the first process found holding it, and with
 * listeners_fd (else -1) each listener's owner to the connections it will accept. Call after the
 * hooks are attached, from a thread registered with RCU. 0, or -errno on failure. */
int ebpf_walk_run(struct flow_table *table, int flows_fd, int listeners_fd, uint64_t now_ns);

struct bpf_program;
/* Runs an iter/task_file program that writes struct walk_owner_record (a hook set's own
 * owner walk) and gives each flow of those sockets without an owner the holder found;
 * with table NULL, only for what the program itself does. */
int ebpf_walk_owners(struct flow_table *table, struct bpf_program *owners_prog);
/* Runs an iterator for what its program does to maps; it writes nothing to read. */
int ebpf_walk_silently(struct bpf_program *prog);

#endif
