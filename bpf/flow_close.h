/* What both hook sets (tcptop.bpf.c, compat.bpf.c) share beyond the flows map: the ring
 * of close records, the counters user space reads from the skeleton's bss, and how a
 * closing flow's final record is sent. Include after bpf_flow.h. */
#ifndef TCPTOP_FLOW_CLOSE_H
#define TCPTOP_FLOW_CLOSE_H

#define FLOW_EEXIST 17
/* Close records: the ring's size is set before load from --max-flows
 * (ebpf_close_ring_bytes); this is the smallest. */
#define CLOSE_RING_MIN_BYTES (256 * 1024)

/* Only ever incremented atomically. */
__u64 flows_dropped;      /* inserts refused because the flows map was full */
__u64 close_events_lost;  /* close records that found the ring full (entry kept instead) */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CLOSE_RING_MIN_BYTES);
} close_events SEC(".maps");
/* close_events' size, set with it. */
const volatile __u32 close_ring_bytes = CLOSE_RING_MIN_BYTES;

/* The final record goes through the ring; false when the ring is full (counted). No
 * wake-up per record (~10 us each): user space drains on its interval, and is woken early
 * only when the ring is half full. */
static __always_inline bool flow_emit_record(const struct flow_key *key, const struct flow_value *v,
					     __u32 slot_plus_one)
{
	struct flow_close_record *e;
	__u64 flags = BPF_RB_NO_WAKEUP;

	e = bpf_ringbuf_reserve(&close_events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&close_events_lost, 1);
		return false;
	}
	e->rec.key = *key;
	e->rec.value = *v;
	e->slot_plus_one = slot_plus_one;
	e->pad = 0;
	if (bpf_ringbuf_query(&close_events, BPF_RB_AVAIL_DATA) > close_ring_bytes / 2)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(e, flags);
	return true;
}

/* A flows map entry's close: the entry goes only once its record is safely in the ring;
 * user space removes CLOSE entries it finds, so the counts still arrive when it is full. */
static __always_inline void flow_emit_close(const struct flow_key *key, struct flow_value *v)
{
	if (flow_emit_record(key, v, 0))
		bpf_map_delete_elem(&flows, key);
}

#endif
