/* Helpers of the compat hook set (bpf/compat.bpf.c): how TCP byte counts are derived from
 * the socket's own counters, and how a packet's headers are read. Include after
 * bpf_flow.h. Nothing here needs BTF-typed pointers: cgroup_skb programs see a struct
 * bpf_sock and a struct bpf_tcp_sock only. */
#ifndef TCPTOP_COMPAT_FLOW_H
#define TCPTOP_COMPAT_FLOW_H

#define COMPAT_ETH_P_IP 0x0800
#define COMPAT_ETH_P_IPV6 0x86DD
#define COMPAT_TCP_FLAG_FIN 0x01
#define COMPAT_TCP_FLAG_ACK 0x10
/* An ACK claiming more than this is not believed before TCP has checked it. */
#define COMPAT_MAX_ACK_ADVANCE (1U << 30)

/* Sequence-space comparisons (wrap-safe), as the kernel's before()/after(). */
static __always_inline bool compat_seq_after(__u32 a, __u32 b)
{
	return (__s32)(a - b) > 0;
}

/* The socket has sent its FIN (it is in one of the states only a local close leads to). */
static __always_inline bool compat_fin_sent(__u32 state)
{
	return state == TCPTOP_TCP_FIN_WAIT1 || state == TCPTOP_TCP_FIN_WAIT2 ||
	       state == TCPTOP_TCP_CLOSING || state == TCPTOP_TCP_LAST_ACK;
}

/* The socket has taken the peer's FIN in (states only a received FIN leads to). */
static __always_inline bool compat_fin_received(__u32 state)
{
	return state == TCPTOP_TCP_CLOSE_WAIT || state == TCPTOP_TCP_LAST_ACK ||
	       state == TCPTOP_TCP_CLOSING;
}

/* The socket's counters as they will be once the packet in hand is processed, in
 * application bytes. bytes_acked and bytes_received count sequence space: an active
 * open's SYN (taken into tx_bytes_base at first sight) and each FIN add one. */
struct compat_tcp_sample {
	__u64 acked;    /* bytes_acked */
	__u64 received; /* bytes_received */
	__u32 snd_una;
	__u32 snd_nxt;
	__u32 segs_in;
	__u32 segs_out;
	__u32 srtt_us;
	__u32 retrans;
	__u32 state;
	/* The health columns this set can fill exactly (bpf_tcp_sock has neither write_seq,
	 * copied_seq nor the chrono accounting). */
	__u32 cwnd;
	__u32 rate_delivered;
	__u32 rate_interval_us;
	__u32 mss_cache;
};

static __always_inline __u64 compat_sub_floor(__u64 a, __u64 b)
{
	return a > b ? a - b : 0;
}

/* Counts since first sight; the FIN corrections make a finished transfer's final counts
 * equal what the applications wrote and read. */
static __always_inline void compat_tcp_counts(const struct compat_tcp_sample *s,
					      const struct flow_counters *c, __u64 *tx, __u64 *rx)
{
	__u64 acked = s->acked, received = s->received;

	if (compat_fin_sent(s->state) && !compat_seq_after(s->snd_nxt, s->snd_una) && acked)
		acked--;
	if (compat_fin_received(s->state) && received)
		received--;
	*tx = compat_sub_floor(acked, c->tx_bytes_base);
	*rx = compat_sub_floor(received, c->rx_bytes_base);
}

/* Plain stores of values that only grow: a racing older sample must not move a counter
 * back (two CPUs can sample the same socket at once; the next packet corrects a lost
 * update, and the close record is exact). */
static __always_inline void compat_store_max(__u64 *p, __u64 v)
{
	if (v > *p)
		*p = v;
}

static __always_inline void compat_tcp_store(struct flow_counters *c,
					     const struct compat_tcp_sample *s)
{
	__u64 tx, rx;

	compat_tcp_counts(s, c, &tx, &rx);
	compat_store_max(&c->tx_bytes, tx);
	compat_store_max(&c->rx_bytes, rx);
	compat_store_max(&c->tx_packets, (__u32)(s->segs_out - c->segs_out_base));
	compat_store_max(&c->rx_packets, (__u32)(s->segs_in - c->segs_in_base));
	c->retrans = s->retrans - c->retrans_base;
	c->srtt_us = s->srtt_us;
	c->health.cwnd = s->cwnd;
	c->health.rate_delivered = s->rate_delivered;
	c->health.rate_interval_us = s->rate_interval_us;
	c->health.mss_cache = s->mss_cache;
	c->health.known = TCPTOP_HEALTH_CWND;
}

/* What the TCP header of the packet in hand says (ingress). */
struct compat_tcp_header {
	__u32 seq;
	__u32 ack_seq;
	__u32 payload;
	__u8 flags;
};

/* Offsets from the network header, where cgroup_skb programs start reading. */
static __always_inline int compat_ip_header_len(struct __sk_buff *skb, __u8 *l4proto)
{
	__u8 b;

	if (skb->protocol == bpf_htons(COMPAT_ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, 0, &b, 1) || bpf_skb_load_bytes(skb, 9, l4proto, 1))
			return -1;
		return (b & 0x0f) * 4;
	}
	if (skb->protocol == bpf_htons(COMPAT_ETH_P_IPV6)) {
		/* Extension headers are rare on TCP and UDP; such a packet is not parsed. */
		if (bpf_skb_load_bytes(skb, 6, l4proto, 1))
			return -1;
		return 40;
	}
	return -1;
}

static __always_inline bool compat_read_tcp_header(struct __sk_buff *skb,
						   struct compat_tcp_header *h)
{
	__u8 raw[14];
	__u32 doff;
	__u8 l4;
	int iphl = compat_ip_header_len(skb, &l4);

	if (iphl < 20 || l4 != TCPTOP_PROTO_TCP)
		return false;
	if (bpf_skb_load_bytes(skb, iphl, raw, sizeof(raw)))
		return false;
	h->seq = bpf_ntohl(*(__u32 *)&raw[4]);
	h->ack_seq = bpf_ntohl(*(__u32 *)&raw[8]);
	doff = (raw[12] >> 4) * 4;
	h->flags = raw[13];
	h->payload = skb->len > iphl + doff ? skb->len - iphl - doff : 0;
	return true;
}

/* The segment's FIN is next in sequence: TCP will take it in (and count it as a byte). */
static __always_inline bool compat_fin_in_order(const struct compat_tcp_header *h,
						__u32 rcv_nxt)
{
	return !compat_seq_after(h->seq, rcv_nxt) &&
	       !compat_seq_after(rcv_nxt, h->seq + h->payload);
}

/* Moves the sample forward by what this incoming segment will do once TCP processes it:
 * cgroup_skb ingress runs before, so without this the last segment of a burst (the data,
 * or the ACK that completes a send) would be missing from an idle connection's counts. */
static __always_inline void compat_tcp_predict(struct compat_tcp_sample *s,
					       const struct compat_tcp_header *h, __u32 rcv_nxt,
					       __u32 segs)
{
	__u32 end = h->seq + h->payload;

	if (h->payload && !compat_seq_after(h->seq, rcv_nxt) && compat_seq_after(end, rcv_nxt))
		s->received += end - rcv_nxt;
	/* Not bounded by snd_nxt: on loopback the peer's ACK can arrive (and wait in the
	 * backlog) before the sender has advanced snd_nxt past the data it acknowledges. */
	if ((h->flags & COMPAT_TCP_FLAG_ACK) && compat_seq_after(h->ack_seq, s->snd_una) &&
	    h->ack_seq - s->snd_una < COMPAT_MAX_ACK_ADVANCE) {
		s->acked += h->ack_seq - s->snd_una;
		s->snd_una = h->ack_seq;
	}
	s->segs_in += segs;
}

#endif
