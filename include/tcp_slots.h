/* User space's side of the modern set's TCP slot array (bpf/tcp_slots.h): the slots and
 * their dirty words, mapped into memory, read without a system call; only the slots that
 * changed since the last drain are copied. */
#ifndef TCPTOP_TCP_SLOTS_H
#define TCPTOP_TCP_SLOTS_H

#include <stdint.h>
#include "flow_table.h"
#include "tcptop_shared.h"

struct tcp_slots {
	struct flow_record *records;
	uint64_t *dirty;
	size_t records_bytes, dirty_bytes;
	uint32_t capacity;
	const __u64 *used; /* the BPF side's tail counter (its bss) */
	int free_fd;          /* the free-slot queue */
};

/* Maps the two arrays (fds of tcp_slots and tcp_slot_dirty, capacity entries each);
 * 0 or -errno. */
int tcp_slots_map(struct tcp_slots *s, int records_fd, int dirty_fd, int free_fd,
		  uint32_t capacity, const __u64 *used);
void tcp_slots_unmap(struct tcp_slots *s);

/* Merges every slot changed since the last drain into table. A record in state CLOSE is a
 * close whose ring record did not fit: the flow is closed and its slot freed here. */
void tcp_slots_drain(struct tcp_slots *s, struct flow_table *table, uint64_t now_ns);

#endif
