/* User space's side of the modern set's slot array (bpf/flow_slots.h): the slots and their
 * dirty words, mapped into memory, read without a system call; only the slots that
 * changed since the last drain are copied. */
#ifndef TCPTOP_EBPF_SLOT_ARRAY_H
#define TCPTOP_EBPF_SLOT_ARRAY_H

#include <stdint.h>
#include "flow_table.h"
#include "tcptop_shared.h"

/* The BPF maps behind the slots, by fd. */
struct slot_array_maps {
	int records_fd;   /* flow_slots */
	int dirty_fd;     /* flow_slot_dirty */
	int free_fd;      /* flow_slots_free, the free-slot queue */
	int udp_index_fd; /* udp_slot_of: a UDP flow's key to its slot */
};

struct slot_array {
	struct flow_record *records;
	uint64_t *dirty;
	size_t records_bytes, dirty_bytes;
	uint32_t capacity;
	const __u64 *used; /* the BPF side's tail counter (its bss) */
	struct slot_array_maps maps;
	/* Slots user space let go of, returned to the free queue at the next drain: by then
	 * no program that found the slot before it was let go can still be writing to it. */
	uint32_t *quarantine;
	uint32_t quarantined;
};

/* Maps the two arrays (capacity entries each); 0 or -errno. */
int slot_array_map(struct slot_array *s, const struct slot_array_maps *maps,
		   uint32_t capacity, const __u64 *used);
void slot_array_unmap(struct slot_array *s);

/* Merges every slot changed since the last drain into table. A record in state CLOSE is a
 * close whose ring record did not fit: the flow is closed and its slot freed here. */
void slot_array_drain(struct slot_array *s, struct flow_table *table, uint64_t now_ns,
		      const uint32_t *jiffies_now);
/* A copied health sample's running chrono brought up to the kernel's jiffies now
 * (tcp_health_settle); without them (NULL) its chrono is dropped as unknown. */
void slot_array_settle_health(struct flow_counters *c, const uint32_t *jiffies_now);

/* An idle UDP flow goes: its final counts into *final, its slot freed; 0 or -errno
 * (-ENOENT for a flow that never had a slot, e.g. one only the start-up walk saw). */
int slot_array_expire_udp(struct slot_array *s, const struct flow_key *key,
			  struct flow_value *final);

#endif
