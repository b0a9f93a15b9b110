/* Start-up walk: the sockets that existed before the hooks were attached, and the processes
 * holding them. User space reads the records from the iterator fds. iter/tcp and iter/udp
 * see the walking process's network namespace only. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "tcptop_shared.h"
#include "bpf_flow.h"
#include "flow_identity.h"
#include "compat_flow.h"
#include "listener_owners.h"

/* Set when user space hands over the modern set's listener_owners map. */
const volatile bool walk_names_listeners;

char LICENSE[] SEC("license") = "GPL";

static __always_inline void walk_fill(struct walk_socket_record *r,
				      const struct sock_common *skc, __u8 proto)
{
	__builtin_memset(r, 0, sizeof(*r));
	r->cookie = flow_cookie(skc);
	flow_tuple_btf(&r->id, skc);
	r->id.proto = proto;
	r->id.netns = flow_netns_btf(skc);
	r->id.ifindex = skc->skc_bound_dev_if;
}

/* A live TCP socket goes into the flows map too, so that its close, when it comes, finds
 * an entry and reaches user space. The iterator holds the socket lock and skips unhashed
 * sockets, so the close cannot come between the check and the insert. The bases make the
 * counts start from zero now: packets and retransmits for both hook sets, bytes for the
 * compat set (which counts bytes from the socket's own counters). Probe reads, not a
 * cast, so that the walk also loads on the older kernels the compat set is for. */
static __always_inline void walk_seed_tcp(const struct walk_socket_record *r,
					  const struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	struct compat_tcp_sample s;
	struct flow_key key;
	struct flow_value v;
	__u64 tx, rx;

	__builtin_memset(&key, 0, sizeof(key));
	__builtin_memset(&v, 0, sizeof(v));
	key.cookie = r->cookie;
	v.id = r->id;
	s.acked = BPF_CORE_READ(tp, bytes_acked);
	s.received = BPF_CORE_READ(tp, bytes_received);
	s.snd_una = BPF_CORE_READ(tp, snd_una);
	s.snd_nxt = BPF_CORE_READ(tp, snd_nxt);
	s.state = r->state;
	/* The bases are the counts as the compat set will compute them (FINs taken out). */
	compat_tcp_counts(&s, &v.counters, &tx, &rx);
	v.counters.tx_bytes_base = tx;
	v.counters.rx_bytes_base = rx;
	/* An active open's SYN is counted in bytes_acked once the peer answers. */
	if (r->state == TCPTOP_TCP_SYN_SENT)
		v.counters.tx_bytes_base++;
	v.counters.segs_out_base = BPF_CORE_READ(tp, segs_out);
	v.counters.segs_in_base = BPF_CORE_READ(tp, segs_in);
	v.counters.retrans_base = BPF_CORE_READ(tp, total_retrans);
	v.counters.srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	v.counters.state = r->state;
	bpf_map_update_elem(&flows, &key, &v, BPF_NOEXIST);
}

SEC("iter/tcp")
int walk_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct walk_socket_record r;
	const struct sock *sk;
	__u8 state;

	if (!skc)
		return 0;
	state = skc->skc_state;
	/* A request socket becomes a new socket, with its own cookie, when it completes. */
	if (state == TCPTOP_TCP_NEW_SYN_RECV)
		return 0;
	walk_fill(&r, skc, TCPTOP_PROTO_TCP);
	r.state = state;
	/* A TIME_WAIT socket is a bare sock_common: nothing beyond it may be read. */
	if (state != TCPTOP_TCP_TIME_WAIT) {
		sk = (const struct sock *)skc;
		if (!r.id.ifindex)
			r.id.ifindex = flow_ifindex_core(sk);
		r.id.cgroup_id = flow_cgroup_core(sk);
		walk_seed_tcp(&r, sk);
	}
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

SEC("iter/udp")
int walk_udp(struct bpf_iter__udp *ctx)
{
	struct udp_sock *udp = ctx->udp_sk;
	struct walk_socket_record r;
	const struct sock *sk;

	if (!udp)
		return 0;
	sk = &udp->inet.sk;
	walk_fill(&r, &sk->__sk_common, TCPTOP_PROTO_UDP);
	if (!r.id.ifindex)
		r.id.ifindex = flow_ifindex_core(sk);
	r.id.cgroup_id = flow_cgroup_core(sk);
	r.state = TCPTOP_STATE_NONE;
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

SEC("iter/task_file")
int walk_owners(struct bpf_iter__task_file *ctx)
{
	struct walk_owner_record r;
	struct sock *sk = flow_file_socket(ctx, &r);

	if (!sk)
		return 0;
	/* iter/tcp and iter/udp ran first and gave every socket of this namespace a cookie;
	 * a socket of another namespace without one is not in the table anyway. */
	r.cookie = sk->__sk_common.skc_cookie.counter;
	if (!r.cookie)
		return 0;
	if (walk_names_listeners && sk->__sk_common.skc_state == TCPTOP_TCP_LISTEN &&
	    flow_proto(sk) == TCPTOP_PROTO_TCP) {
		struct listener_owner o = { .tgid = r.tgid };

		__builtin_memcpy(o.comm, r.comm, sizeof(o.comm));
		bpf_map_update_elem(&walked_listener_owners, &r.cookie, &o, BPF_ANY);
	}
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
