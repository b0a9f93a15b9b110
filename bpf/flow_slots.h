/* The modern set's store for flows: a slot array user space maps into memory and reads
 * only where the dirty words say a slot changed. A TCP socket finds its slot through its
 * own storage, a UDP flow (a socket and a peer) through udp_slot_of. How a slot is taken,
 * published and given back, and why: doc/design.md, "The slot array".
 * Include after bpf_flow.h and flow_close.h. */
#ifndef TCPTOP_BPF_FLOW_SLOTS_H
#define TCPTOP_BPF_FLOW_SLOTS_H

#define TCP_SLOT_NONE 0
#define TCP_SLOT_CLOSED 0xffffffffffffffffull

/* slot + 1, TCP_SLOT_NONE or TCP_SLOT_CLOSED; 64 bits for clang 14's BPF compare-and-swap. */
struct tcp_slot_ref {
	__u64 slot_plus_one;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tcp_slot_ref);
} tcp_slot_of SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, __u32);
} udp_slot_of SEC(".maps");

/* max_entries of these three and udp_slot_of is set from --max-flows before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct flow_record);
} flow_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} flow_slot_dirty SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 65536);
	__type(value, __u32);
} flow_slots_free SEC(".maps");

/* Slots handed out from the tail so far; user space scans [0, min(this, max_entries)). */
__u64 flow_slots_used;
/* flow_slots' max_entries, set with it. */
const volatile __u32 flow_slot_count = 65536;

static __always_inline long flow_slot_alloc(void)
{
	__u32 slot;
	__u64 tail;

	if (bpf_map_pop_elem(&flow_slots_free, &slot) == 0)
		return slot;
	tail = __sync_fetch_and_add(&flow_slots_used, 1);
	return tail < flow_slot_count ? (long)tail : -1;
}

static __always_inline void flow_slot_free(__u32 slot)
{
	bpf_map_push_elem(&flow_slots_free, &slot, 0);
}

/* The socket's record and its slot, or NULL when it has none (yet, or any more: *ref
 * says which). */
static __always_inline struct flow_record *tcp_slot_find(struct sock *sk,
							 struct tcp_slot_ref **ref, __u32 *slot)
{
	*ref = bpf_sk_storage_get(&tcp_slot_of, sk, 0, 0);
	if (!*ref)
		return NULL;
	*slot = (*ref)->slot_plus_one - 1;
	return bpf_map_lookup_elem(&flow_slots, slot);
}

/* Raises the slot's dirty word (TCPTOP_SLOT_*) to at least mark. A plain load and store:
 * only this flow's events raise it, and user space swaps it back atomically. */
static __always_inline void flow_slot_mark(__u32 slot, __u64 mark)
{
	__u64 *dirty = bpf_map_lookup_elem(&flow_slot_dirty, &slot);

	if (dirty && *dirty < mark)
		*dirty = mark;
}

/* Sets the dirty word of a slot just taken, which may hold its previous flow's mark. */
static __always_inline void flow_slot_set_mark(__u32 slot, __u64 mark)
{
	__u64 *dirty = bpf_map_lookup_elem(&flow_slot_dirty, &slot);

	if (dirty)
		*dirty = mark;
}

#endif
