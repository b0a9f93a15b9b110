/* User space's side of the modern set's slot array (bpf/flow_slots.h): the slots and their
 * dirty words, mapped into memory, read without a system call; only the slots that
 * changed since the last drain are copied. */
#ifndef TCPTOP_FLOW_SLOTS_H
#define TCPTOP_FLOW_SLOTS_H

#include <stdint.h>
#include "flow_table.h"
#include "tcptop_shared.h"

/* The BPF maps behind the slots, by fd. */
struct flow_slot_maps {
	int records_fd;   /* flow_slots */
	int dirty_fd;     /* flow_slot_dirty */
	int free_fd;      /* flow_slots_free, the free-slot queue */
	int udp_index_fd; /* udp_slot_of: a UDP flow's key to its slot */
};

struct flow_slots {
	struct flow_record *records;
	uint64_t *dirty;
	size_t records_bytes, dirty_bytes;
	uint32_t capacity;
	const __u64 *used; /* the BPF side's tail counter (its bss) */
	struct flow_slot_maps maps;
	/* Slots user space let go of, returned to the free queue at the next drain: by then
	 * no program that found the slot before it was let go can still be writing to it. */
	uint32_t *quarantine;
	uint32_t quarantined;
};

/* Maps the two arrays (capacity entries each); 0 or -errno. */
int flow_slots_map(struct flow_slots *s, const struct flow_slot_maps *maps,
		   uint32_t capacity, const __u64 *used);
void flow_slots_unmap(struct flow_slots *s);

/* Merges every slot changed since the last drain into table. A record in state CLOSE is a
 * close whose ring record did not fit: the flow is closed and its slot freed here. */
void flow_slots_drain(struct flow_slots *s, struct flow_table *table, uint64_t now_ns);

/* An idle UDP flow goes: its final counts into *final, its slot freed; 0 or -errno
 * (-ENOENT for a flow that never had a slot, e.g. one only the start-up walk saw). */
int flow_slots_expire_udp(struct flow_slots *s, const struct flow_key *key,
			  struct flow_value *final);

#endif
