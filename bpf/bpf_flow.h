/* BPF-side helpers shared by tcptop.bpf.c (the hooks) and walk.bpf.c (the start-up walk):
 * the flows map they both write, and how a socket's identity is read. Include after
 * vmlinux.h, the libbpf BPF headers and tcptop_shared.h. */
#ifndef TCPTOP_BPF_FLOW_H
#define TCPTOP_BPF_FLOW_H

/* vmlinux.h has no macros. */
#define FLOW_SOCK_STREAM 1
#define FLOW_SOCK_DGRAM 2
#define FLOW_IPPROTO_UDPLITE 136
#define FLOW_MSG_PEEK 2
#define FLOW_PF_KTHREAD 0x00200000

/* One entry per TCP socket or per (UDP socket, peer). max_entries is set from --max-flows
 * before load; the walk object reuses the hooks object's map through its fd. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
} flows SEC(".maps");

/* A cast the verifier turns into a plain move: tcp_sock fields can then be read directly
 * (no helper call per field) through the struct sock that hooks and iterators give. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

static __always_inline const struct tcp_sock *flow_tcp_sk(const void *sk)
{
	return bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));
}

/* Whether a TCP state change is made by the socket's user itself, in a system call:
 * listen() and connect() leave CLOSE; close() and shutdown() of a connection enter
 * FIN_WAIT1 or LAST_ACK (tcp_close_state, and nothing else, makes those two). Every
 * other change may run in softirq, where the current task is unrelated. */
static __always_inline bool flow_state_change_by_user(int oldstate, int newstate)
{
	if (oldstate == TCPTOP_TCP_CLOSE)
		return newstate == TCPTOP_TCP_LISTEN || newstate == TCPTOP_TCP_SYN_SENT;
	return newstate == TCPTOP_TCP_FIN_WAIT1 || newstate == TCPTOP_TCP_LAST_ACK;
}

/* TCPTOP_PROTO_* for the sockets tcptop follows, 0 for the rest. The type check matters:
 * a raw socket carries the protocol number it was opened with. */
static __always_inline __u8 flow_proto(const struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;
	__u16 protocol = sk->sk_protocol;
	__u16 type = sk->sk_type;

	if (family != TCPTOP_AF_INET && family != TCPTOP_AF_INET6)
		return 0;
	if (protocol == TCPTOP_PROTO_TCP && type == FLOW_SOCK_STREAM)
		return TCPTOP_PROTO_TCP;
	if ((protocol == TCPTOP_PROTO_UDP || protocol == FLOW_IPPROTO_UDPLITE) &&
	    type == FLOW_SOCK_DGRAM)
		return TCPTOP_PROTO_UDP;
	return 0;
}

/* The cookie is generated lazily; reading it saves a helper call once it exists. Request
 * and timewait sockets share sock_common, so this works for them too. */
static __always_inline __u64 flow_cookie(const struct sock_common *skc)
{
	__u64 cookie = skc->skc_cookie.counter;

	return cookie ? cookie : bpf_get_socket_cookie((void *)skc);
}

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

/* Addresses, ports and family from the socket itself (the connected peer, if any). */
static __always_inline void flow_read_tuple(struct flow_identity *id,
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

static __always_inline __u32 flow_netns(const struct sock_common *skc)
{
	return BPF_CORE_READ(skc, skc_net.net, ns.inum);
}

/* Best effort: the bound device, else the cached route's, else the one packets last came
 * in on; 0 when none is known yet (an unconnected UDP socket, a fresh passive open). */
static __always_inline __u32 flow_ifindex(const struct sock *sk)
{
	struct dst_entry *dst;
	int ifindex = sk->__sk_common.skc_bound_dev_if;

	if (ifindex)
		return ifindex;
	dst = sk->sk_dst_cache;
	if (dst) {
		ifindex = BPF_CORE_READ(dst, dev, ifindex);
		if (ifindex)
			return ifindex;
	}
	return sk->sk_rx_dst_ifindex;
}

/* The address a cgroup connect/sendmsg/recvmsg hook sees, as a flow key's peer: the port
 * in host order, a v4-mapped IPv6 address as IPv4 (all four words of addr written).
 * Returns its family. v6 must be a constant: a *4 hook may not read user_ip6. */
static __always_inline __u8 flow_sock_addr_peer(const struct bpf_sock_addr *ctx, bool v6,
						__u32 *addr, __u16 *port)
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

/* iter/task_file: the TCP or UDP socket behind this file, with r telling who holds it
 * (cookie left 0); NULL for other files. Threads share their leader's files, so only
 * the leader's are looked at: each file once. */
static __always_inline struct sock *flow_file_socket(struct bpf_iter__task_file *ctx,
						     struct walk_owner_record *r)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct socket *sock;
	struct sock *sk;

	if (!task || !file || task->pid != task->tgid)
		return NULL;
	sock = bpf_sock_from_file(file);
	if (!sock)
		return NULL;
	sk = sock->sk;
	if (!sk || !flow_proto(sk))
		return NULL;
	__builtin_memset(r, 0, sizeof(*r));
	r->tgid = task->tgid;
	bpf_probe_read_kernel(r->comm, sizeof(r->comm), task->group_leader->comm);
	return sk;
}

#endif
