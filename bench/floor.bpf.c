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

/* Set before load: false for the empty floor. */
const volatile bool floor_storage = false;

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

static __always_inline int floor_account(struct sock *sk, int ret)
{
	struct floor_counter *c;

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
	return 1;
}

SEC("cgroup/recvmsg6")
int floor_recvmsg6(struct bpf_sock_addr *ctx)
{
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
	return 0;
}

SEC("tp_btf/fib6_table_lookup")
int BPF_PROG(floor_fib6, const struct net *net, const struct fib6_result *res,
	     struct fib6_table *table, const struct flowi6 *flp)
{
	return 0;
}

SEC("tp_btf/udp_fail_queue_rcv_skb")
int BPF_PROG(floor_udp_fail, int rc, struct sock *sk, struct sk_buff *skb)
{
	return 0;
}
