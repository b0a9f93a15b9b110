/* The "compat" hook set, for kernels without the sock_send_length/sock_recv_length
 * tracepoints (< 6.3): the same flows map and close records as the modern set, from hooks
 * that older kernels have.
 * - TCP: cgroup_skb ingress/egress read the socket's own counters through bpf_tcp_sock()
 *   (bytes_acked, bytes_received, segs, srtt, retransmits). Bytes are what the peer
 *   acknowledged and what arrived in order, not what the application wrote and read.
 * - UDP: cgroup_skb parses the IP/UDP header: payload bytes and datagrams per peer
 *   (egress: GSO segments; ingress: what was queued to the socket, read or not).
 * - Owners: never from cgroup_skb (on loopback ingress the current task is the sender).
 *   cgroup/sock_create, connect and sendmsg/recvmsg run in the process and record it in
 *   socket storage; an iter/task_file walk records the holders of accepted and older
 *   sockets. A flow takes its socket's owner at first sight.
 * - Lifecycle: inet_sock_set_state, with the final counts read at CLOSE. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "tcptop_shared.h"
#include "bpf_flow.h"
#include "flow_identity.h"
#include "flow_close.h"
#include "compat_flow.h"

char LICENSE[] SEC("license") = "GPL";

/* Who a socket belongs to, recorded in process context; 0/empty until known. */
struct sock_owner {
	__u32 tgid;
	__u32 netns;
	char comm[TCPTOP_COMM_LEN];
	__u64 closed; /* set by the close, before its flow goes: see compat_tcp_first_sight */
};

/* BPF_F_CLONE: an accepted socket starts with its listener's owner, so a server's
 * connections show the server at their first packet, without waiting for a walk. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct sock_owner);
} owners SEC(".maps");

/* The calling process, with its thread-group leader's name (as the modern set shows);
 * false for a kernel thread (an MPTCP subflow's worker, say), which owns nothing. */
static __always_inline bool compat_owner_current(struct sock_owner *o)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);

	if (BPF_CORE_READ(task, flags) & FLOW_PF_KTHREAD)
		return false;
	o->tgid = bpf_get_current_pid_tgid() >> 32;
	o->netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
	bpf_probe_read_kernel_str(o->comm, sizeof(o->comm), &leader->comm);
	return true;
}

static __always_inline void compat_apply_owner(struct flow_identity *id,
					       const struct sock_owner *o)
{
	id->tgid = o->tgid;
	__builtin_memcpy(id->comm, o->comm, sizeof(id->comm));
	if (!id->netns)
		id->netns = o->netns;
}

/* A flow first seen before its socket's owner was known (created in softirq, or older
 * than tcptop) takes it as soon as the socket has one. */
static __always_inline void compat_adopt_owner(struct flow_value *v, void *sk)
{
	struct sock_owner *o;

	if (v->id.tgid)
		return;
	o = bpf_sk_storage_get(&owners, sk, 0, 0);
	if (o && o->tgid)
		compat_apply_owner(&v->id, o);
}

static __always_inline bool compat_followed(const struct bpf_sock *sk)
{
	/* Each field loaded once, up front: the verifier refuses a context pointer that
	 * the compiler moved to pick between fields. */
	__u32 family = sk->family, protocol = sk->protocol, type = sk->type;

	barrier_var(type);
	if (family != TCPTOP_AF_INET && family != TCPTOP_AF_INET6)
		return false;
	if (protocol == TCPTOP_PROTO_TCP)
		return type == FLOW_SOCK_STREAM;
	return (protocol == TCPTOP_PROTO_UDP || protocol == FLOW_IPPROTO_UDPLITE) &&
	       type == FLOW_SOCK_DGRAM;
}

/* ------------------------------------------------------------------ owners */

SEC("cgroup/sock_create")
int compat_sock_create(struct bpf_sock *ctx)
{
	struct sock_owner *o;

	if (!compat_followed(ctx))
		return 1;
	o = bpf_sk_storage_get(&owners, ctx, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (o)
		compat_owner_current(o);
	return 1;
}

/* connect(), sendto() and recvfrom() run in the process that uses the socket now: it
 * becomes the owner, and the flow of this peer, if there is one, shows it. */
static __always_inline int compat_sock_addr(struct bpf_sock_addr *ctx, bool v6)
{
	struct bpf_sock *sk = ctx->sk;
	struct sock_owner *o;
	struct flow_value *v;
	struct flow_key key;

	if (!sk || !compat_followed(sk))
		return 1;
	o = bpf_sk_storage_get(&owners, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	/* The same process again (the common case: every sendto of a UDP client): its
	 * flows already show it. */
	if (!o || o->tgid == bpf_get_current_pid_tgid() >> 32)
		return 1;
	compat_owner_current(o);
	if (ctx->type != FLOW_SOCK_DGRAM)
		return 1;
	__builtin_memset(&key, 0, sizeof(key));
	key.cookie = bpf_get_socket_cookie(ctx);
	key.peer_family = flow_peer_ctx(ctx, v6, (__u32 *)key.peer_addr, &key.peer_port);
	v = bpf_map_lookup_elem(&flows, &key);
	if (v && v->id.tgid != o->tgid)
		compat_apply_owner(&v->id, o);
	return 1;
}

SEC("cgroup/connect4")
int compat_connect4(struct bpf_sock_addr *ctx)
{
	return compat_sock_addr(ctx, false);
}

SEC("cgroup/connect6")
int compat_connect6(struct bpf_sock_addr *ctx)
{
	return compat_sock_addr(ctx, true);
}

SEC("cgroup/sendmsg4")
int compat_sendmsg4(struct bpf_sock_addr *ctx)
{
	return compat_sock_addr(ctx, false);
}

SEC("cgroup/sendmsg6")
int compat_sendmsg6(struct bpf_sock_addr *ctx)
{
	return compat_sock_addr(ctx, true);
}

SEC("cgroup/recvmsg4")
int compat_recvmsg4(struct bpf_sock_addr *ctx)
{
	return compat_sock_addr(ctx, false);
}

SEC("cgroup/recvmsg6")
int compat_recvmsg6(struct bpf_sock_addr *ctx)
{
	return compat_sock_addr(ctx, true);
}

/* Listeners the start-up owner walk found, by socket address, until
 * compat_adopt_listeners gives them socket storage: a socket reached through a file is an
 * untrusted pointer on newer kernels, which socket storage refuses, while the one
 * iter/tcp hands over is trusted. Their accepted sockets then start with an owner. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct sock_owner);
} walked_listeners SEC(".maps");

/* Set by user space around the start-up owner walk only: later listeners have storage
 * from sock_create. */
__u32 walk_records_listeners;

/* The holders of every socket file: owners of sockets older than tcptop, and of accepted
 * sockets whose owner no hook has seen yet. Run at start and whenever flows without an
 * owner appear; the records also go to user space for flows already seen. */
SEC("iter/task_file")
int compat_walk_owners(struct bpf_iter__task_file *ctx)
{
	struct walk_owner_record r;
	struct sock *sk = flow_file_socket(ctx, &r);
	struct sock_owner o;
	struct flow_value *v;
	struct flow_key key;
	__u64 where;

	if (!sk)
		return 0;
	__builtin_memset(&o, 0, sizeof(o));
	o.tgid = r.tgid;
	o.netns = flow_netns_btf(&sk->__sk_common);
	__builtin_memcpy(o.comm, r.comm, sizeof(o.comm));
	if (walk_records_listeners && sk->__sk_common.skc_state == TCPTOP_TCP_LISTEN) {
		where = (__u64)sk;
		bpf_map_update_elem(&walked_listeners, &where, &o, BPF_NOEXIST);
	}
	/* A socket without a cookie was never seen by a hook or the walk: no flow yet. */
	r.cookie = sk->__sk_common.skc_cookie.counter;
	if (!r.cookie)
		return 0;
	/* A TCP flow (keyed by the cookie alone) keeps it, so it stops asking for walks. */
	__builtin_memset(&key, 0, sizeof(key));
	key.cookie = r.cookie;
	v = bpf_map_lookup_elem(&flows, &key);
	if (v && !v->id.tgid)
		compat_apply_owner(&v->id, &o);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

/* Run once after the start-up owner walk: each listener it found gets its owner in socket
 * storage, which the kernel copies into every socket the listener accepts. */
SEC("iter/tcp")
int compat_adopt_listeners(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct sock_owner *walked, *o;
	struct tcp_sock *tp;
	__u64 where;

	if (!skc || skc->skc_state != TCPTOP_TCP_LISTEN)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	where = (__u64)tp;
	walked = bpf_map_lookup_elem(&walked_listeners, &where);
	if (!walked)
		return 0;
	o = bpf_sk_storage_get(&owners, tp, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (o && !o->tgid)
		*o = *walked;
	bpf_map_delete_elem(&walked_listeners, &where);
	return 0;
}

/* ------------------------------------------------------------------ TCP */

static __always_inline void compat_sample_tcp_sock(struct compat_tcp_sample *s,
						   const struct bpf_tcp_sock *tp, __u32 state)
{
	s->acked = tp->bytes_acked;
	s->received = tp->bytes_received;
	s->snd_una = tp->snd_una;
	s->snd_nxt = tp->snd_nxt;
	s->segs_in = tp->segs_in;
	s->segs_out = tp->segs_out;
	s->srtt_us = tp->srtt_us >> 3;
	s->retrans = tp->total_retrans;
	s->state = state;
	s->cwnd = tp->snd_cwnd;
	s->rate_delivered = tp->rate_delivered;
	s->rate_interval_us = tp->rate_interval_us;
	s->mss_cache = tp->mss_cache;
}

static __always_inline void compat_tcp_bases(struct flow_counters *c,
					     const struct compat_tcp_sample *s)
{
	c->tx_bytes_base = s->acked;
	c->rx_bytes_base = s->received;
	c->segs_out_base = s->segs_out;
	c->segs_in_base = s->segs_in;
	c->retrans_base = s->retrans;
	c->srtt_us = s->srtt_us;
}

static __always_inline void compat_identity_common(struct flow_identity *id,
						   struct __sk_buff *skb, struct bpf_sock *sk,
						   __u8 proto)
{
	struct sock_owner *o = bpf_sk_storage_get(&owners, sk, 0, 0);

	id->proto = proto;
	id->ifindex = flow_ifindex_ctx(skb, sk);
	id->cgroup_id = bpf_sk_cgroup_id(sk);
	id->first_seen_ns = bpf_ktime_get_ns();
	if (o)
		compat_apply_owner(id, o);
}

/* 0 when inserted; a full map is counted, another CPU's insert is not. */
static __always_inline long compat_insert(const struct flow_key *key, const struct flow_value *v)
{
	long err = bpf_map_update_elem(&flows, key, v, BPF_NOEXIST);

	if (err && err != -FLOW_EEXIST)
		__sync_fetch_and_add(&flows_dropped, 1);
	return err;
}

/* A TCP socket first met in cgroup_skb: one that existed before start in another network
 * namespace (the start-up walk covers tcptop's own). Counting starts here. */
static __always_inline void compat_tcp_first_sight(struct __sk_buff *skb, struct bpf_sock *sk,
						   const struct flow_key *key,
						   const struct compat_tcp_sample *s)
{
	struct sock_owner *o;
	struct flow_value v;

	__builtin_memset(&v, 0, sizeof(v));
	flow_tuple_ctx(&v.id, sk);
	compat_identity_common(&v.id, skb, sk, TCPTOP_PROTO_TCP);
	compat_tcp_bases(&v.counters, s);
	v.counters.state = s->state;
	if (compat_insert(key, &v))
		return;
	/* A packet sent as the connection closed on another CPU: its close may have ended
	 * the flow between this program's state check and its insert, which would then
	 * never go. The close marks the socket first; the atomic read orders it after the
	 * insert (and the close's own atomic mark before its lookup). */
	o = bpf_sk_storage_get(&owners, sk, 0, 0);
	if (o && __sync_fetch_and_or(&o->closed, 0))
		bpf_map_delete_elem(&flows, key);
}

static __always_inline void compat_tcp_packet(struct __sk_buff *skb, struct bpf_sock *sk,
					      bool ingress)
{
	struct bpf_tcp_sock *tp = bpf_tcp_sock(sk);
	struct compat_tcp_sample s;
	struct compat_tcp_header h;
	struct flow_value *v;
	struct flow_key key;
	__u32 state = sk->state;

	barrier_var(state);
	/* Listeners carry handshakes, not flow bytes; a closed socket's record is final. */
	if (!tp || state == TCPTOP_TCP_LISTEN || state == TCPTOP_TCP_CLOSE)
		return;
	compat_sample_tcp_sock(&s, tp, state);
	h.flags = 0;
	if (ingress && compat_read_tcp_header(skb, &h))
		compat_tcp_predict(&s, &h, tp->rcv_nxt, skb->gso_segs ? skb->gso_segs : 1);
	__builtin_memset(&key, 0, sizeof(key));
	key.cookie = bpf_get_socket_cookie(skb);
	v = bpf_map_lookup_elem(&flows, &key);
	if (!v) {
		compat_tcp_first_sight(skb, sk, &key, &s);
		return;
	}
	compat_tcp_store(&v->counters, &s);
	compat_adopt_owner(v, sk);
	if ((h.flags & COMPAT_TCP_FLAG_FIN) && compat_fin_in_order(&h, tp->rcv_nxt))
		v->counters.flags |= TCPTOP_COMPAT_FIN_IN;
	if (!v->id.ifindex)
		v->id.ifindex = flow_ifindex_ctx(skb, sk);
}

/* ------------------------------------------------------------------ UDP */

struct compat_udp_packet {
	__u32 peer[4];
	__u16 peer_port;
	__u8 family;
	__u32 payload;
};

static __always_inline bool compat_read_udp(struct __sk_buff *skb, bool ingress,
					    struct compat_udp_packet *p)
{
	__u16 ports[2];
	__u8 l4;
	int iphl = compat_ip_header_len(skb, &l4);
	/* The peer is the source of what arrives and the destination of what leaves. */
	int addr_off;

	if (iphl < 20 || (l4 != TCPTOP_PROTO_UDP && l4 != FLOW_IPPROTO_UDPLITE))
		return false;
	if (bpf_skb_load_bytes(skb, iphl, ports, sizeof(ports)))
		return false;
	__builtin_memset(p->peer, 0, sizeof(p->peer));
	p->peer_port = bpf_ntohs(ingress ? ports[0] : ports[1]);
	if (skb->protocol == bpf_htons(COMPAT_ETH_P_IP)) {
		addr_off = ingress ? 12 : 16;
		if (bpf_skb_load_bytes(skb, addr_off, p->peer, 4))
			return false;
		p->family = TCPTOP_AF_INET;
	} else {
		addr_off = ingress ? 8 : 24;
		if (bpf_skb_load_bytes(skb, addr_off, p->peer, 16))
			return false;
		p->family = TCPTOP_AF_INET6;
		if (flow_addr_is_v4mapped(p->peer)) {
			flow_addr_to_v4(p->peer);
			p->family = TCPTOP_AF_INET;
		}
	}
	p->payload = skb->len > iphl + 8 ? skb->len - iphl - 8 : 0;
	return true;
}

static __always_inline void compat_udp_count(struct flow_value *v, bool ingress,
					     __u64 bytes, __u64 datagrams)
{
	if (ingress) {
		__sync_fetch_and_add(&v->counters.rx_bytes, bytes);
		__sync_fetch_and_add(&v->counters.rx_packets, datagrams);
	} else {
		__sync_fetch_and_add(&v->counters.tx_bytes, bytes);
		__sync_fetch_and_add(&v->counters.tx_packets, datagrams);
	}
}

/* --udp-mode per-socket: an unconnected socket's datagrams count as one flow, peerless. */
const volatile bool udp_per_socket = false;

static __always_inline void compat_udp_datagrams(struct __sk_buff *skb, struct bpf_sock *sk,
						 bool ingress)
{
	struct compat_udp_packet p;
	struct flow_value *v;
	struct flow_key key;
	struct flow_value nv;
	__u64 segs = skb->gso_segs ? skb->gso_segs : 1;

	if (!compat_read_udp(skb, ingress, &p))
		return;
	if (udp_per_socket && sk->state != TCPTOP_TCP_ESTABLISHED) {
		__builtin_memset(p.peer, 0, sizeof(p.peer));
		p.peer_port = 0;
		p.family = 0;
	}
	__builtin_memset(&key, 0, sizeof(key));
	key.cookie = bpf_get_socket_cookie(skb);
	__builtin_memcpy(key.peer_addr, p.peer, sizeof(key.peer_addr));
	key.peer_port = p.peer_port;
	key.peer_family = p.family;
	v = bpf_map_lookup_elem(&flows, &key);
	if (v) {
		compat_adopt_owner(v, sk);
		compat_udp_count(v, ingress, p.payload, segs);
		return;
	}
	__builtin_memset(&nv, 0, sizeof(nv));
	flow_udp_peer_side(&nv.id, flow_udp_local_ctx(&nv.id, sk), (const __u8 *)p.peer,
			   p.peer_port, p.family);
	compat_identity_common(&nv.id, skb, sk, TCPTOP_PROTO_UDP);
	if (ingress) {
		nv.counters.rx_bytes = p.payload;
		nv.counters.rx_packets = segs;
	} else {
		nv.counters.tx_bytes = p.payload;
		nv.counters.tx_packets = segs;
	}
	if (bpf_map_update_elem(&flows, &key, &nv, BPF_NOEXIST) == 0)
		return;
	/* Another CPU inserted it first (or the map is full). */
	v = bpf_map_lookup_elem(&flows, &key);
	if (!v) {
		__sync_fetch_and_add(&flows_dropped, 1);
		return;
	}
	compat_udp_count(v, ingress, p.payload, segs);
}

/* ------------------------------------------------------------------ packets */

static __always_inline int compat_packet(struct __sk_buff *skb, bool ingress)
{
	struct bpf_sock *sk = skb->sk;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || !compat_followed(sk))
		return 1;
	if (sk->protocol == TCPTOP_PROTO_TCP)
		compat_tcp_packet(skb, sk, ingress);
	else
		compat_udp_datagrams(skb, sk, ingress);
	return 1;
}

SEC("cgroup_skb/ingress")
int compat_ingress(struct __sk_buff *skb)
{
	return compat_packet(skb, true);
}

SEC("cgroup_skb/egress")
int compat_egress(struct __sk_buff *skb)
{
	return compat_packet(skb, false);
}

/* ------------------------------------------------------------------ lifecycle */

/* The socket's counters through BTF (probe reads, so no newer verifier feature is
 * needed to reach tcp_sock from the tracepoint's struct sock). */
static __always_inline void compat_sample_sk(struct compat_tcp_sample *s, const struct sock *sk,
					     __u32 state)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	s->acked = BPF_CORE_READ(tp, bytes_acked);
	s->received = BPF_CORE_READ(tp, bytes_received);
	s->snd_una = BPF_CORE_READ(tp, snd_una);
	s->snd_nxt = BPF_CORE_READ(tp, snd_nxt);
	s->segs_in = BPF_CORE_READ(tp, segs_in);
	s->segs_out = BPF_CORE_READ(tp, segs_out);
	s->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	s->retrans = BPF_CORE_READ(tp, total_retrans);
	s->state = state;
	s->cwnd = BPF_CORE_READ(tp, snd_cwnd);
	s->rate_delivered = BPF_CORE_READ(tp, rate_delivered);
	s->rate_interval_us = BPF_CORE_READ(tp, rate_interval_us);
	s->mss_cache = BPF_CORE_READ(tp, mss_cache);
}

static __always_inline void compat_state_first_sight(const struct flow_key *key,
						     const struct sock *sk, int oldstate,
						     int newstate)
{
	struct compat_tcp_sample s;
	struct sock_owner owner;
	struct flow_value v;

	__builtin_memset(&v, 0, sizeof(v));
	flow_tuple_btf(&v.id, &sk->__sk_common);
	v.id.proto = TCPTOP_PROTO_TCP;
	v.id.netns = flow_netns_btf(&sk->__sk_common);
	v.id.ifindex = flow_ifindex_core(sk);
	v.id.cgroup_id = flow_cgroup_core(sk);
	v.id.first_seen_ns = bpf_ktime_get_ns();
	compat_sample_sk(&s, sk, newstate);
	compat_tcp_bases(&v.counters, &s);
	/* An active open's SYN will be counted in bytes_acked once the peer answers. */
	if (newstate == TCPTOP_TCP_SYN_SENT)
		v.counters.tx_bytes_base++;
	v.counters.state = newstate;
	if (flow_state_change_by_user(sk, oldstate, newstate) && compat_owner_current(&owner) &&
	    (oldstate == TCPTOP_TCP_CLOSE || !flow_closer_is_tcptop(owner.tgid, owner.comm)))
		compat_apply_owner(&v.id, &owner);
	/* An accepted connection, met first here in softirq: its listener's owner (cloned
	 * storage), before an owner walk can find its file in whoever holds it then. */
	compat_adopt_owner(&v, (struct sock *)sk);
	compat_insert(key, &v);
}

/* tcp_rcv_space_adjust runs in the reading process (recvmsg, splice) once it has copied
 * data: the reader owns the connection. This is what names the worker of a pre-forked
 * server, whose accepted sockets start with the owner of the shared listener. Only a
 * socket storage lookup per read while the owner stays the same. */
SEC("tp_btf/tcp_rcv_space_adjust")
int BPF_PROG(compat_tcp_read, struct sock *sk)
{
	struct sock_owner *o;
	struct flow_value *v;
	struct flow_key key;

	/* On newer kernels it also runs in softirq, where the current task is unrelated. */
	if (!flow_socket_user_runs(sk))
		return 0;
	o = bpf_sk_storage_get(&owners, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o || o->tgid == bpf_get_current_pid_tgid() >> 32 || !compat_owner_current(o))
		return 0;
	__builtin_memset(&key, 0, sizeof(key));
	key.cookie = flow_cookie(&sk->__sk_common);
	v = bpf_map_lookup_elem(&flows, &key);
	if (v)
		compat_apply_owner(&v->id, o);
	return 0;
}

/* The final counts: the FIN corrections use the state the socket is leaving. */
static __always_inline void compat_final_counts(struct flow_value *v, const struct sock *sk,
						int oldstate)
{
	struct compat_tcp_sample s;
	__u64 tx, rx;

	compat_sample_sk(&s, sk, oldstate);
	compat_tcp_counts(&s, &v->counters, &tx, &rx);
	/* A reset's ACK, counted at ingress, never reaches the socket's own bytes_acked. */
	if (tx < v->counters.tx_bytes)
		tx = v->counters.tx_bytes;
	/* A FIN taken in FIN_WAIT1/2 ends the socket (TIME_WAIT) without passing a state
	 * that says so; ingress saw it arrive. */
	if (!compat_fin_received(oldstate) && (v->counters.flags & TCPTOP_COMPAT_FIN_IN) && rx)
		rx--;
	v->counters.tx_bytes = tx;
	v->counters.rx_bytes = rx;
	v->counters.tx_packets = (__u32)(s.segs_out - v->counters.segs_out_base);
	v->counters.rx_packets = (__u32)(s.segs_in - v->counters.segs_in_base);
	v->counters.retrans = s.retrans - v->counters.retrans_base;
	v->counters.srtt_us = s.srtt_us;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(compat_state, const struct sock *sk, int oldstate, int newstate)
{
	struct sock_owner owner, *o;
	struct flow_value *v;
	struct flow_key key;

	if (flow_proto(sk) != TCPTOP_PROTO_TCP || oldstate == newstate)
		return 0;
	/* Marked even without an owner (a socket older than tcptop): a packet program that
	 * saw it open, on another CPU, must not leave an entry behind the close. */
	if (newstate == TCPTOP_TCP_CLOSE) {
		o = bpf_sk_storage_get(&owners, (struct sock *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (o)
			__sync_fetch_and_add(&o->closed, 1);
	}
	__builtin_memset(&key, 0, sizeof(key));
	key.cookie = flow_cookie(&sk->__sk_common);
	v = bpf_map_lookup_elem(&flows, &key);
	if (!v) {
		if (newstate != TCPTOP_TCP_CLOSE)
			compat_state_first_sight(&key, sk, oldstate, newstate);
		return 0;
	}
	v->counters.state = newstate;
	/* The process that closes an accepted connection: it may have done no more (but
	 * not a tcptop, whose owner walk held the file when the owner's close came). */
	if (flow_state_change_by_user(sk, oldstate, newstate) && compat_owner_current(&owner) &&
	    owner.tgid != v->id.tgid &&
	    (oldstate == TCPTOP_TCP_CLOSE || !flow_closer_is_tcptop(owner.tgid, owner.comm)))
		compat_apply_owner(&v->id, &owner);
	if (newstate == TCPTOP_TCP_CLOSE) {
		compat_final_counts(v, sk, oldstate);
		flow_tcp_ended(&v->counters, sk, oldstate);
		flow_emit_close(&key, v);
		return 0;
	}
	if (!v->id.lport && sk->__sk_common.skc_num)
		flow_tuple_btf(&v->id, &sk->__sk_common);
	if (!v->id.ifindex)
		v->id.ifindex = flow_ifindex_core(sk);
	return 0;
}
