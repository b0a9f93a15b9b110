/* Floors for make bench: what the modern set's hooks cost before tcptop does anything of
 * its own, measured on the same workloads, so that its ns/event can be read against them.
 *   empty:   the three programs tcptop attaches for TCP (sock_send_length,
 *            sock_recv_length, inet_sock_set_state), returning at once;
 *   storage: the least any design pays that keeps per-connection state in the socket's
 *            own BPF storage (tcptop does, to find a connection's slot without a hash
 *            lookup): the storage created when a socket opens (connect, listen, a
 *            passive open's child), and found, with one counter added, on every send
 *            and receive. No slot, no owner, no close record.
 *   udp-hooks: the four cgroup sock_addr hooks tcptop's modern set attaches to learn the
 *            peer of each datagram on an unconnected UDP socket (sendmsg4/6, recvmsg4/6),
 *            empty. Their run time is tiny; what they cost is around the program: the
 *            kernel takes the socket lock for each such send and receive while they are
 *            attached (BPF_CGROUP_RUN_SA_PROG_LOCK). run-bench measures it as a
 *            throughput ratio, since BPF stats do not see it.
 *   udp-peer: those and the send/receive tracepoints, empty: every hook a per-peer UDP
 *            count needs (the sock_addr hooks see the peer, not the length; the
 *            tracepoints the length, not the peer), doing nothing.
 *   udp-route: the modern set's per-peer hooks since issue 26, empty: the send/receive
 *            tracepoints, the route lookups (the peers of sends, no socket lock) and the
 *            recvmsg4/6 hooks (the peers of receives, under the socket lock).
 *   udp-count: the send/receive tracepoints counting each UDP datagram the least any
 *            exact per-socket count can: two atomic adds (bytes, packets: threads on
 *            other CPUs may send on the same socket) into a counter found by an inlined
 *            array lookup, no hash lookup, no helper call. --udp-mode per-socket's floor.
 *   udp-route-count: udp-route's hooks, the peer handed from the route lookup or the
 *            recvmsg hook to the tracepoint through the thread's task storage (per
 *            thread: a sender may sleep between them), and udp-count's two adds, into a
 *            counter chosen by socket and peer. The per-peer count's floor.
 *   udp-lockless: the hooks of a per-peer design without the sock_addr hooks, empty
 *            (issue 26): the send/receive tracepoints, cgroup_skb ingress (each
 *            datagram's headers, on arrival), fib_table_lookup / fib6_table_lookup
 *            (the route lookup of each unconnected send, in the sender's context) and
 *            udp_fail_queue_rcv_skb (arrivals a full receive buffer dropped). None takes
 *            the socket lock.
 * Loaded and held by bench/bpf_floor; run-bench reads their BPF stats like tcptop's. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define FLOOR_AF_INET 2
#define FLOOR_AF_INET6 10
#define FLOOR_IPPROTO_TCP 6
#define FLOOR_SOCK_STREAM 1
#define FLOOR_TCP_CLOSE 7
#define FLOOR_TCP_LISTEN 10
#define FLOOR_LOOPBACK_IFINDEX 1

/* Set before load: false for the empty floor. */
const volatile bool floor_storage = false;
/* udp-count, udp-route-count: count UDP datagrams; udp-route-count: per peer. */
const volatile bool floor_udp_count = false;
const volatile bool floor_udp_peer = false;

struct floor_counter {
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct floor_counter);
} floor_of SEC(".maps");

/* The same test as tcptop's flow_proto for TCP: every program starts with it. */
static __always_inline bool floor_is_tcp(const struct sock *sk)
{
	__u16 family = sk->__sk_common.skc_family;

	return (family == FLOOR_AF_INET || family == FLOOR_AF_INET6) &&
	       sk->sk_protocol == FLOOR_IPPROTO_TCP && sk->sk_type == FLOOR_SOCK_STREAM;
}

#define FLOOR_IPPROTO_UDP 17
#define FLOOR_SOCK_DGRAM 2
#define FLOOR_UDP_COUNTERS 64

/* A cache line each: two sockets counted on two CPUs do not share one. */
struct floor_udp_counter {
	__u64 bytes;
	__u64 packets;
	__u64 pad[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLOOR_UDP_COUNTERS);
	__type(key, __u32);
	__type(value, struct floor_udp_counter);
} floor_udp_counters SEC(".maps");

/* A peer stashed for the tracepoint that follows in the same thread. */
struct floor_peer {
	__u32 addr;
	__u16 port;
	__u8 set;
	__u8 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct floor_peer);
} floor_peers SEC(".maps");

static __always_inline bool floor_is_udp(const struct sock *sk)
{
	return sk->sk_protocol == FLOOR_IPPROTO_UDP && sk->sk_type == FLOOR_SOCK_DGRAM;
}

static __always_inline void floor_stash_peer(__u32 addr, __u16 port)
{
	struct floor_peer *p = bpf_task_storage_get(&floor_peers, bpf_get_current_task_btf(), 0,
						    BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!p)
		return;
	p->addr = addr;
	p->port = port;
	p->set = 1;
}

/* udp-count and udp-route-count: the datagram counted, nothing else (no slot, no owner). */
static __always_inline void floor_udp_account(struct sock *sk, int ret)
{
	/* By the socket's local port: a cookie may not exist yet (tcptop makes it). */
	__u32 which = sk->__sk_common.skc_num;
	struct floor_udp_counter *c;
	struct floor_peer *p;

	if (floor_udp_peer) {
		p = bpf_task_storage_get(&floor_peers, bpf_get_current_task_btf(), 0, 0);
		if (p && p->set) {
			which ^= p->addr ^ p->port;
			p->set = 0;
		}
	}
	which &= FLOOR_UDP_COUNTERS - 1;
	c = bpf_map_lookup_elem(&floor_udp_counters, &which);
	if (!c)
		return;
	__sync_fetch_and_add(&c->bytes, ret);
	__sync_fetch_and_add(&c->packets, 1);
}

static __always_inline int floor_account(struct sock *sk, int ret)
{
	struct floor_counter *c;

	if (floor_udp_count) {
		if (ret >= 0 && floor_is_udp(sk))
			floor_udp_account(sk, ret);
		return 0;
	}
	if (!floor_storage || ret < 0 || !floor_is_tcp(sk))
		return 0;
	c = bpf_sk_storage_get(&floor_of, sk, 0, 0);
	if (c)
		__sync_fetch_and_add(&c->bytes, ret);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(floor_send, struct sock *sk, int ret, int flags)
{
	return floor_account(sk, ret);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(floor_recv, struct sock *sk, int ret, int flags)
{
	return floor_account(sk, ret);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(floor_state, struct sock *sk, int oldstate, int newstate)
{
	if (!floor_storage || oldstate == newstate || !floor_is_tcp(sk))
		return 0;
	/* connect() and listen() leave CLOSE, a passive open's child its listener's LISTEN. */
	if (oldstate == FLOOR_TCP_CLOSE || oldstate == FLOOR_TCP_LISTEN)
		bpf_sk_storage_get(&floor_of, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	return 0;
}

/* udp-hooks: allow every call (recvmsg programs must return 1). */
SEC("cgroup/sendmsg4")
int floor_sendmsg4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/sendmsg6")
int floor_sendmsg6(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup/recvmsg4")
int floor_recvmsg4(struct bpf_sock_addr *ctx)
{
	if (floor_udp_peer)
		floor_stash_peer(ctx->user_ip4, ctx->user_port);
	return 1;
}

SEC("cgroup/recvmsg6")
int floor_recvmsg6(struct bpf_sock_addr *ctx)
{
	if (floor_udp_peer)
		floor_stash_peer(ctx->user_ip6[3], ctx->user_port);
	return 1;
}

/* udp-lockless: every packet in passes (the ingress program sees TCP's too). */
SEC("cgroup_skb/ingress")
int floor_ingress(struct __sk_buff *skb)
{
	return 1;
}

SEC("tp_btf/fib_table_lookup")
int BPF_PROG(floor_fib4, u32 table, const struct flowi4 *flp, const struct fib_nh_common *nhc,
	     int err)
{
	if (floor_udp_peer && flp->__fl_common.flowic_proto == FLOOR_IPPROTO_UDP &&
	    flp->__fl_common.flowic_iif == FLOOR_LOOPBACK_IFINDEX)
		floor_stash_peer(flp->daddr, flp->uli.ports.dport);
	return 0;
}

SEC("tp_btf/fib6_table_lookup")
int BPF_PROG(floor_fib6, const struct net *net, const struct fib6_result *res,
	     struct fib6_table *table, const struct flowi6 *flp)
{
	if (floor_udp_peer && flp->__fl_common.flowic_proto == FLOOR_IPPROTO_UDP &&
	    flp->__fl_common.flowic_iif == FLOOR_LOOPBACK_IFINDEX)
		floor_stash_peer(flp->daddr.in6_u.u6_addr32[3], flp->uli.ports.dport);
	return 0;
}

SEC("tp_btf/udp_fail_queue_rcv_skb")
int BPF_PROG(floor_udp_fail, int rc, struct sock *sk, struct sk_buff *skb)
{
	return 0;
}
