/* How every program reads a flow's identity from the kernel: addresses, ports, family,
 * device, network namespace. One reader per fact and per way of reaching kernel memory,
 * named by that way:
 * - _btf: plain loads through a BTF pointer (tp_btf arguments, iterators' sockets; also
 *   an untrusted one, whose loads the verifier turns into probe reads). Each field must
 *   exist on every kernel the caller loads on.
 * - _core: CO-RE reads that check first whether a field exists on the running kernel, for
 *   the programs that also load on older kernels (compat, the start-up walk).
 * - _ctx: the fields a cgroup hook's context exposes (struct bpf_sock, bpf_sock_addr,
 *   __sk_buff), which need no BTF. Each context field is loaded once, up front: the
 *   verifier refuses a context pointer that the compiler moved to pick between fields.
 * Addresses are normalised the same way everywhere: IPv4-mapped IPv6 addresses, and "::"
 * beside one, make an IPv4 flow. Include after bpf_flow.h. */
#ifndef TCPTOP_BPF_FLOW_IDENTITY_H
#define TCPTOP_BPF_FLOW_IDENTITY_H

static __always_inline bool flow_addr_is_v4mapped(const __u32 *a)
{
	return a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0xffff);
}

static __always_inline bool flow_addr_is_zero(const __u32 *a)
{
	return (a[0] | a[1] | a[2] | a[3]) == 0;
}

/* Moves the IPv4 address of a v4-mapped (or all-zero) address to the first 4 bytes. */
static __always_inline void flow_addr_to_v4(__u32 *a)
{
	a[0] = a[3];
	a[1] = 0;
	a[2] = 0;
	a[3] = 0;
}

/* A dual-stack socket talking IPv4 shows v4-mapped addresses; "::" on either side (an
 * unbound or unconnected socket) is as good as 0.0.0.0 then. Report such flows as IPv4. */
static __always_inline __u8 flow_normalise_pair(__u32 *laddr, __u32 *raddr)
{
	bool lm = flow_addr_is_v4mapped(laddr), rm = flow_addr_is_v4mapped(raddr);

	if (!(lm || rm) || !(lm || flow_addr_is_zero(laddr)) ||
	    !(rm || flow_addr_is_zero(raddr)))
		return TCPTOP_AF_INET6;
	flow_addr_to_v4(laddr);
	flow_addr_to_v4(raddr);
	return TCPTOP_AF_INET;
}

static __always_inline void flow_copy_in6(__u32 *dst, const struct in6_addr *src)
{
	dst[0] = src->in6_u.u6_addr32[0];
	dst[1] = src->in6_u.u6_addr32[1];
	dst[2] = src->in6_u.u6_addr32[2];
	dst[3] = src->in6_u.u6_addr32[3];
}

/* ------------------------------------------------------------- _btf: plain loads */

/* Addresses, ports and family from the socket itself (the connected peer, if any). */
static __always_inline void flow_tuple_btf(struct flow_identity *id,
					   const struct sock_common *skc)
{
	__u32 *laddr = (__u32 *)id->laddr, *raddr = (__u32 *)id->raddr;

	id->lport = skc->skc_num;
	id->rport = bpf_ntohs(skc->skc_dport);
	if (skc->skc_family == TCPTOP_AF_INET) {
		laddr[0] = skc->skc_rcv_saddr;
		raddr[0] = skc->skc_daddr;
		id->family = TCPTOP_AF_INET;
		return;
	}
	flow_copy_in6(laddr, &skc->skc_v6_rcv_saddr);
	flow_copy_in6(raddr, &skc->skc_v6_daddr);
	id->family = flow_normalise_pair(laddr, raddr);
}

/* The connected peer as a flow key's (a connected UDP socket's flows are keyed by it). */
static __always_inline void flow_peer_btf(struct flow_key *key, const struct sock_common *skc)
{
	__u32 *peer = (__u32 *)key->peer_addr;

	key->peer_port = bpf_ntohs(skc->skc_dport);
	if (skc->skc_family == TCPTOP_AF_INET) {
		peer[0] = skc->skc_daddr;
		key->peer_family = TCPTOP_AF_INET;
		return;
	}
	flow_copy_in6(peer, &skc->skc_v6_daddr);
	if (flow_addr_is_v4mapped(peer)) {
		flow_addr_to_v4(peer);
		key->peer_family = TCPTOP_AF_INET;
	} else {
		key->peer_family = TCPTOP_AF_INET6;
	}
}

/* The local side of a UDP socket; true when it is an IPv6 socket (four words of laddr). */
static __always_inline bool flow_udp_local_btf(struct flow_identity *id,
					       const struct sock_common *skc)
{
	__u32 *laddr = (__u32 *)id->laddr;

	id->lport = skc->skc_num;
	if (skc->skc_family == TCPTOP_AF_INET) {
		laddr[0] = skc->skc_rcv_saddr;
		return false;
	}
	flow_copy_in6(laddr, &skc->skc_v6_rcv_saddr);
	return true;
}

static __always_inline __u32 flow_netns_btf(const struct sock_common *skc)
{
	return skc->skc_net.net->ns.inum;
}

/* The socket's cgroup (v2) id, taken once, at first sight: a socket never changes cgroup. */
static __always_inline __u64 flow_cgroup_btf(const struct sock *sk)
{
	const struct cgroup *cg = sk->sk_cgrp_data.cgroup;

	return cg ? cg->kn->id : 0;
}

/* Kernels before 5.15 kept the cgroup pointer in a u64 whose low bit set means "no
 * pointer here" (sock_cgroup_data's is_data). */
struct sock_cgroup_data___old {
	__u64 val;
};

/* As flow_cgroup_btf, through probe reads, for the hooks that also load on 5.8-5.14. */
static __always_inline __u64 flow_cgroup_core(const struct sock *sk)
{
	const struct sock_cgroup_data___old *old;
	const struct cgroup *cg;
	__u64 val;

	if (bpf_core_field_exists(sk->sk_cgrp_data.cgroup)) {
		cg = BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
	} else {
		old = (const void *)&sk->sk_cgrp_data;
		val = BPF_CORE_READ(old, val);
		cg = val & 1 ? NULL : (const struct cgroup *)val;
	}
	return cg ? BPF_CORE_READ(cg, kn, id) : 0;
}

/* Best effort: the bound device, else the cached route's, else the one packets last came
 * in on; 0 when none is known yet (an unconnected UDP socket, a fresh passive open). */
static __always_inline __u32 flow_ifindex_btf(const struct sock *sk)
{
	struct dst_entry *dst;
	int ifindex = sk->__sk_common.skc_bound_dev_if;

	if (ifindex)
		return ifindex;
	dst = sk->sk_dst_cache;
	if (dst && dst->dev) {
		ifindex = dst->dev->ifindex;
		if (ifindex)
			return ifindex;
	}
	return sk->sk_rx_dst_ifindex;
}

/* ------------------------------------------------------------- _core: CO-RE reads */

/* As flow_ifindex_btf; the last packets' device only where struct sock has it (5.18 on). */
static __always_inline __u32 flow_ifindex_core(const struct sock *sk)
{
	struct dst_entry *dst;
	__u32 ifindex = BPF_CORE_READ(sk, __sk_common.skc_bound_dev_if);

	if (ifindex)
		return ifindex;
	dst = BPF_CORE_READ(sk, sk_dst_cache);
	if (dst)
		ifindex = BPF_CORE_READ(dst, dev, ifindex);
	if (!ifindex && bpf_core_field_exists(sk->sk_rx_dst_ifindex))
		ifindex = BPF_CORE_READ(sk, sk_rx_dst_ifindex);
	return ifindex;
}

/* ------------------------------------------------------------- _ctx: hook contexts */

/* Addresses, ports and family of a socket as cgroup_skb sees it. */
static __always_inline void flow_tuple_ctx(struct flow_identity *id, const struct bpf_sock *sk)
{
	__u32 *laddr = (__u32 *)id->laddr, *raddr = (__u32 *)id->raddr;

	id->lport = sk->src_port;
	id->rport = bpf_ntohs(sk->dst_port);
	if (sk->family == TCPTOP_AF_INET) {
		laddr[0] = sk->src_ip4;
		raddr[0] = sk->dst_ip4;
		id->family = TCPTOP_AF_INET;
		return;
	}
	laddr[0] = sk->src_ip6[0];
	laddr[1] = sk->src_ip6[1];
	laddr[2] = sk->src_ip6[2];
	laddr[3] = sk->src_ip6[3];
	raddr[0] = sk->dst_ip6[0];
	raddr[1] = sk->dst_ip6[1];
	raddr[2] = sk->dst_ip6[2];
	raddr[3] = sk->dst_ip6[3];
	id->family = flow_normalise_pair(laddr, raddr);
}

/* The local side of a UDP socket as cgroup_skb sees it; true for an IPv6 socket. */
static __always_inline bool flow_udp_local_ctx(struct flow_identity *id,
					       const struct bpf_sock *sk)
{
	__u32 *laddr = (__u32 *)id->laddr;

	id->lport = sk->src_port;
	if (sk->family == TCPTOP_AF_INET) {
		laddr[0] = sk->src_ip4;
		return false;
	}
	laddr[0] = sk->src_ip6[0];
	laddr[1] = sk->src_ip6[1];
	laddr[2] = sk->src_ip6[2];
	laddr[3] = sk->src_ip6[3];
	return true;
}

/* The bound device, else the one this packet uses. */
static __always_inline __u32 flow_ifindex_ctx(struct __sk_buff *skb, const struct bpf_sock *sk)
{
	__u32 bound = sk->bound_dev_if;

	barrier_var(bound);
	return bound ? bound : skb->ifindex;
}

/* The address a cgroup connect/sendmsg/recvmsg hook sees, as a flow key's peer: the port
 * in host order, a v4-mapped IPv6 address as IPv4 (all four words of addr written).
 * Returns its family. v6 must be a constant: a *4 hook may not read user_ip6. */
static __always_inline __u8 flow_peer_ctx(const struct bpf_sock_addr *ctx, bool v6, __u32 *addr,
					  __u16 *port)
{
	*port = bpf_ntohs((__u16)ctx->user_port);
	if (!v6) {
		addr[0] = ctx->user_ip4;
		addr[1] = 0;
		addr[2] = 0;
		addr[3] = 0;
		return TCPTOP_AF_INET;
	}
	addr[0] = ctx->user_ip6[0];
	addr[1] = ctx->user_ip6[1];
	addr[2] = ctx->user_ip6[2];
	addr[3] = ctx->user_ip6[3];
	if (!flow_addr_is_v4mapped(addr))
		return TCPTOP_AF_INET6;
	flow_addr_to_v4(addr);
	return TCPTOP_AF_INET;
}

/* ------------------------------------------------------------- UDP flows */

/* A UDP flow's remote side and family, its local side already read (local_v6 from
 * flow_udp_local_*): the peer the flow is keyed by (peer_family 0: the unknown peer). A
 * dual-stack socket talking IPv4 has a v4-mapped or "::" local address: such a flow is
 * IPv4, with the local address moved to IPv4 too. */
static __always_inline void flow_udp_peer_side(struct flow_identity *id, bool local_v6,
					       const __u8 *peer_addr, __u16 peer_port,
					       __u8 peer_family)
{
	__u32 *laddr = (__u32 *)id->laddr;

	id->rport = peer_port;
	__builtin_memcpy(id->raddr, peer_addr, sizeof(id->raddr));
	if (!local_v6) {
		id->family = TCPTOP_AF_INET;
		return;
	}
	if (peer_family == TCPTOP_AF_INET6 || (!peer_family && !flow_addr_is_v4mapped(laddr))) {
		id->family = TCPTOP_AF_INET6;
		return;
	}
	flow_addr_to_v4(laddr);
	id->family = TCPTOP_AF_INET;
}

#endif
