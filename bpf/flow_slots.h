/* The modern set's store for flows: a slot array user space maps into memory.
 *
 * Why not the flows hash: its lookup, keyed by the 32-byte flow_key, was ~70-90 ns of the
 * ~165-190 ns each send/recv event cost (bench/README), and user space had to read the
 * whole map every interval (~45 ms per 100k entries). Here each socket's own storage holds
 * the index of its slot: one helper call that hits the socket's storage cache, then an
 * array index the verifier inlines. User space reads the slots where they lie, and only
 * those whose dirty word is set: a drain costs what changed, not the number of flows.
 *
 * A UDP flow is a socket and a peer, so it has no storage of its own to hold the index:
 * udp_slot_of, a hash keyed by flow_key, does. Its lookup costs what the flows map's did,
 * but the counters still sit in a slot, so that the drain stays O(changed).
 *
 * A slot's life: taken from the free queue (or, while it is empty, from the never-used
 * tail) at a flow's first event; filled; made the flow's (the socket storage or
 * udp_slot_of points at it); only then its key written, cookie last, so that user space,
 * which skips a slot whose cookie is 0, never reads one half filled or given back after
 * another CPU won the flow. A TCP slot returns to the free queue once its close
 * record is in the ring (key.cookie 0 again). When the ring is full the record stays,
 * state CLOSE and dirty, and user space closes the flow and frees the slot. A socket keeps
 * TCP_SLOT_CLOSED in its storage after its close, so a late read on it cannot take a slot
 * no close would free. (A send on another CPU that found the slot just before the close
 * can still add to it after it went back: a window of a few instructions, which at worst
 * adds one event to the flow that takes the slot next.) A UDP slot is freed by user space
 * when the flow expires: it deletes the udp_slot_of entry and returns the slot one
 * interval later, when no program can still be writing to it.
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
