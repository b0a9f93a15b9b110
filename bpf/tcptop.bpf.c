/* The "modern" hook set (kernel >= 6.3): bytes and owners from the sock_send_length and
 * sock_recv_length tracepoints, TCP lifecycle from inet_sock_set_state, UDP peers of
 * unconnected sockets from the cgroup sendmsg/recvmsg hooks. Counters are cumulative, in
 * the slot array (flow_slots.h): a TCP socket finds its slot through its own storage, a
 * UDP flow (socket and peer) through the udp_slot_of hash. The flows map holds only the
 * TCP sockets the start-up walk found, until tcptop_adopt moves them to slots. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "tcptop_shared.h"
#include "bpf_flow.h"
#include "flow_identity.h"
#include "flow_close.h"
#include "flow_slots.h"
#include "listener_owners.h"

char LICENSE[] SEC("license") = "GPL";

/* The peer of the datagram the current thread is sending or receiving, stashed for the
 * tracepoint that follows it in the same thread (doc/design.md, "UDP peers"): by the
 * route lookup of a send, or by the cgroup recvmsg hook (sendmsg too where the route
 * lookup tracepoints are missing); costs in bench/README. */
struct udp_peer {
	__u64 cookie; /* the socket's; UDP_STASH_ROUTE from a route lookup; 0 once consumed */
	__u32 addr[4];
	__u16 port;
	__u8 family;
	__u8 pad;
	__u16 route_sport; /* a route lookup's source port: the sending socket's */
	__u8 pad2[2];
	/* The slot this thread counted into last. A thread that keeps to one peer (a client,
	 * each side of a ping-pong) then skips the udp_slot_of lookup, ~70 of the ~250 ns a
	 * datagram costs per side; one that alternates pays a key compare. */
	__u32 last_slot;
	__u32 last_pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct udp_peer);
} udp_peers SEC(".maps");

/* Where a thread with no stash (--udp-mode per-socket, or a socket only ever read with
 * recv()) finds its last slot: per CPU, by socket cookie, no helper call (the verifier
 * inlines a per-CPU array lookup from 6.10). A wrong guess costs a key compare. */
#define UDP_RECENT_SLOTS 16

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, UDP_RECENT_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} udp_recent_slot SEC(".maps");

/* The thread-group leader's name: a worker thread's name says less about the program.
 * Read through BTF with plain loads, no helper call (id->comm is only 4-byte aligned). */
static __always_inline void flow_set_owner(struct flow_identity *id,
					   const struct task_struct *task)
{
	const __u32 *comm = (const __u32 *)task->group_leader->comm;
	__u32 *dst = (__u32 *)id->comm;

	id->tgid = task->tgid;
	dst[0] = comm[0];
	dst[1] = comm[1];
	dst[2] = comm[2];
	dst[3] = comm[3];
}

/* A connection just accepted, not yet used by any process: its listener's owner. */
static __always_inline void tcp_owner_from_listener(struct sock *sk, struct flow_identity *id)
{
	struct listener_owner *o = bpf_sk_storage_get(&listener_owners, sk, 0, 0);

	if (!o || !o->tgid || id->tgid)
		return;
	id->tgid = o->tgid;
	__builtin_memcpy(id->comm, o->comm, sizeof(id->comm));
}

static __always_inline void flow_tcp_bases(struct flow_counters *c, const struct sock *sk)
{
	const struct tcp_sock *tp = flow_tcp_sk(sk);

	c->segs_out_base = tp->segs_out;
	c->segs_in_base = tp->segs_in;
	c->retrans_base = tp->total_retrans;
	c->srtt_us = tp->srtt_us >> 3;
}

/* The health columns' fields, as tcp_info reads them (tcp_get_info): plain loads, no
 * helper call. chrono_type is a 2-bit field on kernels before 6.8. */
static __always_inline void flow_tcp_health(struct flow_tcp_health *h, const struct tcp_sock *tp)
{
	h->sendq = tp->write_seq - tp->snd_una;
	h->recvq = tp->rcv_nxt - tp->copied_seq;
	h->cwnd = tp->snd_cwnd;
	h->rate_delivered = tp->rate_delivered;
	h->rate_interval_us = tp->rate_interval_us;
	h->mss_cache = tp->mss_cache;
	h->chrono_stat[0] = tp->chrono_stat[0];
	h->chrono_stat[1] = tp->chrono_stat[1];
	h->chrono_stat[2] = tp->chrono_stat[2];
	h->chrono_start = tp->chrono_start;
	h->chrono_type = BPF_CORE_READ_BITFIELD(tp, chrono_type);
	h->known = TCPTOP_HEALTH_QUEUES | TCPTOP_HEALTH_CWND | TCPTOP_HEALTH_CHRONO;
}

/* TCP packet counts come from the socket's own counters, so they are exact however the
 * stack splits or merges segments; a plain store suffices (the kernel's value is newest). */
static __always_inline void flow_tcp_sample(struct flow_counters *c, const struct sock *sk)
{
	const struct tcp_sock *tp = flow_tcp_sk(sk);

	c->tx_packets = (__u32)(tp->segs_out - c->segs_out_base);
	c->rx_packets = (__u32)(tp->segs_in - c->segs_in_base);
	c->retrans = tp->total_retrans - c->retrans_base;
	c->srtt_us = tp->srtt_us >> 3;
	flow_tcp_health(&c->health, tp);
}

static __always_inline void flow_common_identity(struct flow_identity *id,
						 const struct sock *sk, __u8 proto)
{
	id->proto = proto;
	id->netns = flow_netns_btf(&sk->__sk_common);
	id->ifindex = flow_ifindex_btf(sk);
	id->cgroup_id = flow_cgroup_btf(sk);
	/* bpf_ktime_get_ns() is CLOCK_MONOTONIC, user space's clock for ages. */
	id->first_seen_ns = bpf_ktime_get_ns();
}

/* --udp-mode per-socket: no hook stashes a peer, and the tracepoints look for none. */
const volatile bool udp_per_socket = false;

/* A stash a route lookup left: no socket cookie there, only the source port. */
#define UDP_STASH_ROUTE (~0ULL)

/* Whether the stash is this call's: the cgroup hook's for this socket, or, for a send, the
 * route lookup this socket's send just made (a lookup that led to no send, a connect's,
 * is overwritten by the next or fails the port check). */
static __always_inline bool udp_stash_is_ours(const struct udp_peer *stash, __u64 cookie,
					      const struct sock *sk, bool tx)
{
	if (stash->cookie == cookie)
		return true;
	return tx && stash->cookie == UDP_STASH_ROUTE &&
	       stash->route_sport == sk->__sk_common.skc_num;
}

/* Which peer this datagram belongs to: the address stashed for this very call, else the
 * connected peer, else none (recv() without an address on an unconnected socket).
 * Consuming the stash keeps it from leaking into a later call. */
static __always_inline struct udp_peer *flow_udp_peer(struct flow_key *key, const struct sock *sk,
						      struct task_struct *task, bool tx)
{
	struct udp_peer *stash = NULL;

	if (!udp_per_socket)
		stash = bpf_task_storage_get(&udp_peers, task, 0, 0);
	if (stash && udp_stash_is_ours(stash, key->cookie, sk, tx)) {
		__builtin_memcpy(key->peer_addr, stash->addr, sizeof(key->peer_addr));
		key->peer_port = stash->port;
		key->peer_family = stash->family;
		stash->cookie = 0;
		return stash;
	}
	if (sk->__sk_common.skc_state == TCPTOP_TCP_ESTABLISHED)
		flow_peer_btf(key, &sk->__sk_common);
	return stash;
}

static __always_inline void flow_udp_forget_peer(__u64 cookie, const struct sock *sk, bool tx)
{
	struct udp_peer *stash;

	stash = bpf_task_storage_get(&udp_peers, bpf_get_current_task_btf(), 0, 0);
	if (stash && udp_stash_is_ours(stash, cookie, sk, tx))
		stash->cookie = 0;
}

static __always_inline void flow_udp_add(struct flow_value *v, __u64 bytes, bool tx)
{
	if (tx) {
		__sync_fetch_and_add(&v->counters.tx_bytes, bytes);
		__sync_fetch_and_add(&v->counters.tx_packets, 1);
	} else {
		__sync_fetch_and_add(&v->counters.rx_bytes, bytes);
		__sync_fetch_and_add(&v->counters.rx_packets, 1);
	}
}

/* The key of a slot that is the flow's, cookie last by an atomic exchange (a full
 * barrier): user space skips a slot whose cookie is 0. */
static __always_inline void flow_slot_publish(struct flow_record *r, const struct flow_key *key)
{
	struct flow_key unpublished = *key;

	unpublished.cookie = 0;
	r->key = unpublished;
	__sync_lock_test_and_set(&r->key.cookie, key->cookie);
}

/* A UDP flow's record and its slot, or NULL when it has none. */
static __always_inline struct flow_record *udp_slot_find(const struct flow_key *key,
							 __u32 *slot)
{
	__u32 *found = bpf_map_lookup_elem(&udp_slot_of, key);

	if (!found)
		return NULL;
	*slot = *found;
	return bpf_map_lookup_elem(&flow_slots, slot);
}

static __always_inline bool flow_key_equal(const struct flow_key *a, const struct flow_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/* Where the slot counted into last is kept: the thread's stash, else this CPU's entry for
 * the socket. */
static __always_inline __u32 *udp_last_slot(struct udp_peer *stash, __u64 cookie)
{
	__u32 recent = cookie & (UDP_RECENT_SLOTS - 1);

	if (stash)
		return &stash->last_slot;
	return bpf_map_lookup_elem(&udp_recent_slot, &recent);
}

/* The slot counted into last, if it is this flow's. A slot whose flow expired has its
 * cookie zeroed by user space and is handed out again only an interval later, its new
 * key written cookie last (flow_slot_publish): a slot whose key, cookie first, equals the
 * flow's is the flow's, whichever flow was counted there last. */
static __always_inline struct flow_record *udp_slot_cached(const __u32 *last,
							   const struct flow_key *key, __u32 *slot)
{
	struct flow_record *r;

	if (!last)
		return NULL;
	*slot = *last;
	r = bpf_map_lookup_elem(&flow_slots, slot);
	if (!r || !flow_key_equal(&r->key, key))
		return NULL;
	return r;
}

static __always_inline void udp_slot_remember(__u32 *last, __u32 slot)
{
	if (last)
		*last = slot;
}

/* Slow path, once per UDP flow: its slot, filled, then found through udp_slot_of. */
static __always_inline void udp_slot_first_sight(const struct flow_key *key,
						 const struct sock *sk,
						 const struct task_struct *task, __u64 bytes, bool tx)
{
	struct flow_record *r;
	long slot = flow_slot_alloc();
	__u32 s;
	long err;

	if (slot < 0) {
		__sync_fetch_and_add(&flows_dropped, 1);
		return;
	}
	s = slot;
	r = bpf_map_lookup_elem(&flow_slots, &s);
	if (!r)
		return;
	__builtin_memset(&r->value, 0, sizeof(r->value));
	flow_udp_peer_side(&r->value.id, flow_udp_local_btf(&r->value.id, &sk->__sk_common),
			   key->peer_addr, key->peer_port, key->peer_family);
	flow_common_identity(&r->value.id, sk, TCPTOP_PROTO_UDP);
	flow_set_owner(&r->value.id, task);
	flow_udp_add(&r->value, bytes, tx);
	/* Published only once it is the flow's: a slot given back was never seen. */
	err = bpf_map_update_elem(&udp_slot_of, key, &s, BPF_NOEXIST);
	if (!err) {
		flow_slot_publish(r, key);
		flow_slot_mark(s, TCPTOP_SLOT_CHANGED);
		return;
	}
	flow_slot_free(s);
	if (err != -FLOW_EEXIST) {
		__sync_fetch_and_add(&flows_dropped, 1);
		return;
	}
	/* Another CPU gave the flow its slot first: count into that one. */
	r = udp_slot_find(key, &s);
	if (!r)
		return;
	flow_udp_add(&r->value, bytes, tx);
	flow_slot_mark(s, TCPTOP_SLOT_CHANGED);
}

/* Set by user space from before the start-up walk until tcptop_adopt has run. */
__u32 walk_pending;

/* A slot for a socket that has none, filled before it is made the socket's:
 * from its flows map entry when the start-up walk put it there (only an old socket can
 * be there: new ones skip the lookup), else from the socket. NULL when there is no slot
 * left (counted) or another CPU gave the socket one first. */
static __always_inline struct flow_record *tcp_slot_take(struct sock *sk, __u64 cookie,
							 struct tcp_slot_ref *ref, __u8 state,
							 const struct task_struct *owner,
							 bool new_socket, __u32 *slot_out)
{
	struct flow_value *seeded;
	struct flow_record *r;
	struct flow_key key;
	long slot;
	__u32 s;

	if (!ref)
		ref = bpf_sk_storage_get(&tcp_slot_of, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	/* A concurrent create makes ours fail; the winner's storage is there now. */
	if (!ref)
		ref = bpf_sk_storage_get(&tcp_slot_of, sk, 0, 0);
	slot = ref ? flow_slot_alloc() : -1;
	if (slot < 0) {
		__sync_fetch_and_add(&flows_dropped, 1);
		return NULL;
	}
	s = slot;
	r = bpf_map_lookup_elem(&flow_slots, &s);
	if (!r)
		return NULL;
	__builtin_memset(&key, 0, sizeof(key));
	key.cookie = cookie;
	seeded = new_socket ? NULL : bpf_map_lookup_elem(&flows, &key);
	if (seeded) {
		r->value = *seeded;
		bpf_map_delete_elem(&flows, &key);
	} else {
		__builtin_memset(&r->value, 0, sizeof(r->value));
		flow_tuple_btf(&r->value.id, &sk->__sk_common);
		flow_common_identity(&r->value.id, sk, TCPTOP_PROTO_TCP);
		flow_tcp_bases(&r->value.counters, sk);
		/* Born after the start-up walk was adopted: no walk can have listed it. */
		if (new_socket && !walk_pending)
			r->value.counters.flags = TCPTOP_BORN_IN_SLOT;
	}
	r->value.counters.state = state;
	if (owner)
		flow_set_owner(&r->value.id, owner);
	/* A slot used before may still say OWNED for its last flow: the new flow's first
	 * event must look for its owner. */
	flow_slot_set_mark(s, owner ? TCPTOP_SLOT_OWNED : TCPTOP_SLOT_CHANGED);
	/* Published only once it is the socket's: a slot given back was never seen. Events
	 * that find it before then mark it dirty too early for user space to read it, and
	 * the caller marks it again. */
	if (__sync_val_compare_and_swap(&ref->slot_plus_one, TCP_SLOT_NONE, s + 1) !=
	    TCP_SLOT_NONE) {
		flow_slot_free(s);
		return NULL;
	}
	key.cookie = cookie;
	flow_slot_publish(r, &key);
	*slot_out = s;
	return r;
}

/* The final record through the ring, and the slot back to the free queue; with the ring
 * full the record stays, state CLOSE, for user space to close and free. */
static __always_inline void tcp_slot_close(struct tcp_slot_ref *ref, struct flow_record *r,
					   __u32 slot)
{
	ref->slot_plus_one = TCP_SLOT_CLOSED;
	if (!flow_emit_record(&r->key, &r->value, slot + 1)) {
		/* Only this flag lets user space free the slot: a CLOSE state alone may be a
		 * close whose record went out, its slot already free or taken again. */
		r->value.counters.flags |= TCPTOP_CLOSE_KEPT;
		flow_slot_mark(slot, TCPTOP_SLOT_CHANGED);
		return;
	}
	r->key.cookie = 0;
	flow_slot_free(slot);
}

/* TCP send/recv: the socket's slot. The owner ("whoever used it last") is checked on the
 * flow's first event of each interval, which the dirty word tells, not on every event:
 * that saves a helper call per event. */
static __always_inline void tcp_account(struct sock *sk, __u64 bytes, bool tx)
{
	struct tcp_slot_ref *ref;
	struct flow_record *r;
	__u64 *dirty;
	__u32 slot = 0, tgid;

	r = tcp_slot_find(sk, &ref, &slot);
	if (!r) {
		/* A read that completes after the socket's close was reported: the flow is
		 * over, and a slot taken now would never be freed. */
		if ((ref && ref->slot_plus_one == TCP_SLOT_CLOSED) ||
		    sk->__sk_common.skc_state == TCPTOP_TCP_CLOSE)
			return;
		r = tcp_slot_take(sk, flow_cookie(&sk->__sk_common), ref,
				  sk->__sk_common.skc_state, NULL, false, &slot);
		if (!r)
			return;
	}
	/* The plain stores first: the atomic add orders them before the dirty word's load,
	 * so a drain that clears the word after this load sees them. */
	flow_tcp_sample(&r->value.counters, sk);
	if (tx)
		__sync_fetch_and_add(&r->value.counters.tx_bytes, bytes);
	else
		__sync_fetch_and_add(&r->value.counters.rx_bytes, bytes);
	dirty = bpf_map_lookup_elem(&flow_slot_dirty, &slot);
	if (!dirty || *dirty == TCPTOP_SLOT_OWNED)
		return;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (r->value.id.tgid != tgid)
		flow_set_owner(&r->value.id, bpf_get_current_task_btf());
	*dirty = TCPTOP_SLOT_OWNED;
}

/* A shared socket belongs to whoever used it, checked as TCP's at the flow's first event
 * of each interval (the dirty word tells), the name read only when the owner changed. */
static __always_inline void udp_check_owner(struct flow_record *r, __u32 slot,
					    const struct task_struct *task)
{
	__u64 *dirty = bpf_map_lookup_elem(&flow_slot_dirty, &slot);

	if (!dirty || *dirty == TCPTOP_SLOT_OWNED)
		return;
	if (!task)
		task = bpf_get_current_task_btf();
	if (r->value.id.tgid != task->tgid)
		flow_set_owner(&r->value.id, task);
	*dirty = TCPTOP_SLOT_OWNED;
}

static __always_inline int flow_account(struct sock *sk, int ret, int flags, bool tx)
{
	struct task_struct *task;
	struct udp_peer *stash;
	struct flow_record *r;
	struct flow_key key;
	__u8 proto = flow_proto(sk);
	__u32 slot, *last;

	if (!proto || (flags & FLOW_MSG_PEEK))
		return 0;
	/* TCP needs no key: its slot comes through the socket. */
	if (proto == TCPTOP_PROTO_TCP) {
		if (ret >= 0)
			tcp_account(sk, ret, tx);
		return 0;
	}
	__builtin_memset(&key, 0, sizeof(key));
	key.cookie = flow_cookie(&sk->__sk_common);
	if (ret < 0) {
		if (!udp_per_socket)
			flow_udp_forget_peer(key.cookie, sk, tx);
		return 0;
	}
	/* Each helper call costs ~15-20 ns here (every return goes through the SRSO return
	 * thunk): per peer the task is needed for the stash, per socket only for the owner,
	 * once an interval. */
	task = udp_per_socket ? NULL : bpf_get_current_task_btf();
	stash = flow_udp_peer(&key, sk, task, tx);
	last = udp_last_slot(stash, key.cookie);
	r = udp_slot_cached(last, &key, &slot);
	if (!r) {
		r = udp_slot_find(&key, &slot);
		if (!r) {
			udp_slot_first_sight(&key, sk, task ? task : bpf_get_current_task_btf(),
					     ret, tx);
			return 0;
		}
		udp_slot_remember(last, slot);
	}
	flow_udp_add(&r->value, ret, tx);
	udp_check_owner(r, slot, task);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(tcptop_send, struct sock *sk, int ret, int flags)
{
	return flow_account(sk, ret, flags, true);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(tcptop_recv, struct sock *sk, int ret, int flags)
{
	return flow_account(sk, ret, flags, false);
}

/* A socket the hooks have not seen closes: only the start-up walk can have recorded it
 * (in the flows map), and its record goes out from there. */
static __always_inline void tcp_close_unseen(const struct sock *sk, const struct flow_key *key,
					     int oldstate)
{
	struct flow_value *v = bpf_map_lookup_elem(&flows, key);

	if (!v)
		return;
	flow_tcp_sample(&v->counters, sk);
	v->counters.state = TCPTOP_TCP_CLOSE;
	flow_tcp_ended(&v->counters, sk, oldstate);
	flow_emit_close(key, v);
}

/* A socket closes without a slot (the store was full, or it is older than tcptop): its
 * storage says so, so that a send or receive being counted on another CPU right now, which
 * saw the socket open, cannot take a slot no close would ever give back. Should one have
 * taken it first, giving it back is this close's job. */
static __always_inline void tcp_slot_seal(struct sock *sk, struct tcp_slot_ref *ref, int oldstate)
{
	struct flow_record *r;
	__u64 was;
	__u32 slot;

	if (!ref)
		ref = bpf_sk_storage_get(&tcp_slot_of, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!ref)
		return;
	was = __sync_val_compare_and_swap(&ref->slot_plus_one, TCP_SLOT_NONE, TCP_SLOT_CLOSED);
	if (was == TCP_SLOT_NONE || was == TCP_SLOT_CLOSED)
		return;
	slot = was - 1;
	r = bpf_map_lookup_elem(&flow_slots, &slot);
	if (!r)
		return;
	flow_tcp_sample(&r->value.counters, sk);
	r->value.counters.state = TCPTOP_TCP_CLOSE;
	flow_tcp_ended(&r->value.counters, sk, oldstate);
	tcp_slot_close(ref, r, slot);
}

/* The process making a state change that flow_state_change_by_user says is its own; NULL
 * for a kernel thread (an MPTCP subflow's worker, say), which owns nothing, and for a
 * tcptop that closes a connection (flow_closer_is_tcptop): it only held the file. */
static __always_inline const struct task_struct *tcp_state_user(int newstate)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (task->flags & FLOW_PF_KTHREAD)
		return NULL;
	if ((newstate == TCPTOP_TCP_FIN_WAIT1 || newstate == TCPTOP_TCP_LAST_ACK) &&
	    flow_closer_is_tcptop(task->tgid, task->group_leader->comm))
		return NULL;
	return task;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcptop_state, struct sock *sk, int oldstate, int newstate)
{
	const struct task_struct *owner = NULL;
	struct tcp_slot_ref *ref;
	struct flow_record *r;
	struct flow_key key;
	__u32 slot = 0;

	if (flow_proto(sk) != TCPTOP_PROTO_TCP || oldstate == newstate)
		return 0;
	r = tcp_slot_find(sk, &ref, &slot);
	if (!r) {
		if (ref && ref->slot_plus_one == TCP_SLOT_CLOSED)
			return 0;
		__builtin_memset(&key, 0, sizeof(key));
		key.cookie = flow_cookie(&sk->__sk_common);
		if (newstate == TCPTOP_TCP_CLOSE) {
			tcp_close_unseen(sk, &key, oldstate);
			tcp_slot_seal(sk, ref, oldstate);
			return 0;
		}
		if (flow_state_change_by_user(sk, oldstate, newstate))
			owner = tcp_state_user(newstate);
		if (newstate == TCPTOP_TCP_LISTEN && owner)
			listener_owner_set(sk, owner->tgid, owner->group_leader->comm);
		/* connect() and listen() leave CLOSE, a passive open's child its listener's
		 * LISTEN: a socket born after the start-up walk. */
		r = tcp_slot_take(sk, key.cookie, ref, newstate, owner,
				  oldstate == TCPTOP_TCP_CLOSE || oldstate == TCPTOP_TCP_LISTEN,
				  &slot);
		if (!r)
			return 0;
		/* Its first use names its own process (the slot's mark says to look). */
		if (oldstate == TCPTOP_TCP_LISTEN)
			tcp_owner_from_listener(sk, &r->value.id);
		flow_slot_mark(slot, TCPTOP_SLOT_CHANGED);
		return 0;
	}
	flow_tcp_sample(&r->value.counters, sk);
	/* sk_state still holds the old state while this tracepoint runs. */
	r->value.counters.state = newstate;
	/* The process that closes an accepted connection it never read or wrote. One that
	 * did has its owner: the last close may come from any process that held the file
	 * for a moment (a fork, ss -p reading /proc), which never used the connection. */
	if (!r->value.id.tgid && flow_state_change_by_user(sk, oldstate, newstate) &&
	    (owner = tcp_state_user(newstate)) && owner->tgid != tcptop_tgid)
		flow_set_owner(&r->value.id, owner);
	if (newstate == TCPTOP_TCP_CLOSE) {
		flow_tcp_ended(&r->value.counters, sk, oldstate);
		/* The start-up walk may have listed this socket after it took its slot: that
		 * entry would outlive it (tcptop_adopt drops those of sockets still open). */
		if (walk_pending)
			bpf_map_delete_elem(&flows, &r->key);
		tcp_slot_close(ref, r, slot);
		return 0;
	}
	/* connect() enters SYN_SENT before it picks the local port: complete the tuple. */
	if (!r->value.id.lport && sk->__sk_common.skc_num)
		flow_tuple_btf(&r->value.id, &sk->__sk_common);
	if (!r->value.id.ifindex)
		r->value.id.ifindex = flow_ifindex_btf(sk);
	flow_slot_mark(slot, TCPTOP_SLOT_CHANGED);
	return 0;
}

/* ------------------------------------------------------------------ on demand
 * Queues and limits change with no process-context event: data arrives for a reader that
 * stopped reading, ACKs (or none) reach a writer blocked in send(). These programs sample
 * a connection that has a slot at those moments; user space loads them only when a column
 * that needs them is asked for (each costs a run per segment; bench/README). */

/* After data is queued to a socket (sock_def_readable): recvq as the reader will find it.
 * A listener's readiness is a connection to accept: its queues come from the listeners'
 * dump. */
SEC("tp_btf/sk_data_ready")
int BPF_PROG(tcptop_data_ready, struct sock *sk)
{
	struct tcp_slot_ref *ref;
	struct flow_record *r;
	__u32 slot = 0;

	if (flow_proto(sk) != TCPTOP_PROTO_TCP || sk->__sk_common.skc_state == TCPTOP_TCP_LISTEN)
		return 0;
	r = tcp_slot_find(sk, &ref, &slot);
	if (!r)
		return 0;
	flow_tcp_health(&r->value.counters.health, flow_tcp_sk(sk));
	flow_slot_mark(slot, TCPTOP_SLOT_CHANGED);
	return 0;
}

/* Wrap-safe sequence comparison, as the kernel's after(). */
static __always_inline bool health_seq_after(__u32 a, __u32 b)
{
	return (__s32)(a - b) > 0;
}

/* tcp_probe runs as an established connection takes a segment in, before TCP processes
 * it: the sample is moved forward by the segment's ACK, which is what an idle sender's
 * last event is. An ACK of everything written empties the send queue, and the kernel then
 * stops the chrono (tcp_chrono_stop: both queues empty), from now on. */
static __always_inline void health_take_ack(struct flow_tcp_health *h, const struct tcp_sock *tp,
					    const struct sk_buff *skb)
{
	const struct tcphdr *th = bpf_rdonly_cast(skb->data,
						  bpf_core_type_id_kernel(struct tcphdr));
	__u32 ack = bpf_ntohl(th->ack_seq), una = tp->snd_una, now, kind;

	if (!th->ack || !health_seq_after(ack, una) || health_seq_after(ack, tp->snd_nxt))
		return;
	h->sendq = tp->write_seq - ack;
	if (h->sendq || h->chrono_type == TCPTOP_CHRONO_NONE)
		return;
	now = (__u32)bpf_jiffies64();
	kind = h->chrono_type - 1;
	barrier_var(kind);
	if (kind > 2)
		return;
	h->chrono_stat[kind] += now - h->chrono_start;
	h->chrono_start = now;
	h->chrono_type = TCPTOP_CHRONO_NONE;
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(tcptop_segment_in, struct sock *sk, const struct sk_buff *skb)
{
	const struct tcp_sock *tp = flow_tcp_sk(sk);
	struct tcp_slot_ref *ref;
	struct flow_record *r;
	__u32 slot = 0;

	if (flow_proto(sk) != TCPTOP_PROTO_TCP)
		return 0;
	r = tcp_slot_find(sk, &ref, &slot);
	if (!r)
		return 0;
	flow_tcp_health(&r->value.counters.health, tp);
	health_take_ack(&r->value.counters.health, tp, skb);
	flow_slot_mark(slot, TCPTOP_SLOT_CHANGED);
	return 0;
}

/* The kernel's jiffies now, for user space to bring running chronos up to a drain (run
 * through BPF_PROG_TEST_RUN; loaded only with the limited column). */
__u64 jiffies_now;

SEC("syscall")
int tcptop_jiffies(void *ctx)
{
	jiffies_now = bpf_jiffies64();
	return 0;
}

/* A listener older than tcptop: the owner the walk found, for the connections it accepts. */
static __always_inline void tcp_listener_from_walk(struct sock *sk, __u64 cookie)
{
	struct listener_owner *o = bpf_map_lookup_elem(&walked_listener_owners, &cookie);

	if (!o)
		return;
	listener_owner_set(sk, o->tgid, o->comm);
	bpf_map_delete_elem(&walked_listener_owners, &cookie);
}

/* Run once after the start-up walk: the TCP sockets it put in the flows map move to
 * slots now rather than at their first event, so that an idle connection older than
 * tcptop does not keep user space reading the flows map whole every interval. The
 * iterator holds each socket's lock, so its close cannot come in between. */
SEC("iter/tcp")
int tcptop_adopt(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tcp_slot_ref *ref;
	struct flow_record *r;
	struct flow_key key;
	struct tcp_sock *tp;
	struct sock *sk;
	__u32 slot = 0;

	if (!skc)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0; /* TIME_WAIT and request sockets: not in a slot, ever */
	sk = (struct sock *)tp;
	__builtin_memset(&key, 0, sizeof(key));
	key.cookie = sk->__sk_common.skc_cookie.counter;
	if (!key.cookie || !bpf_map_lookup_elem(&flows, &key))
		return 0;
	if (sk->__sk_common.skc_state == TCPTOP_TCP_LISTEN)
		tcp_listener_from_walk(sk, key.cookie);
	r = tcp_slot_find(sk, &ref, &slot);
	/* A socket that took its slot before the walk listed it (opened, or first used, as
	 * tcptop started): the slot counts it, the walk's entry would outlive it. */
	if (r || (ref && ref->slot_plus_one == TCP_SLOT_CLOSED)) {
		bpf_map_delete_elem(&flows, &key);
		return 0;
	}
	if (tcp_slot_take(sk, key.cookie, ref, sk->__sk_common.skc_state, NULL, false, &slot))
		flow_slot_mark(slot, TCPTOP_SLOT_CHANGED);
	return 0;
}

/* As flow_cookie: read the socket's cookie, saving a helper call once it exists. */
static __always_inline __u64 flow_stash_cookie(struct bpf_sock_addr *ctx)
{
	const struct sock_common *skc;
	__u64 cookie;

	skc = bpf_rdonly_cast(ctx->sk, bpf_core_type_id_kernel(struct sock_common));
	cookie = skc->skc_cookie.counter;
	return cookie ? cookie : bpf_get_socket_cookie(ctx);
}

/* Stash the peer of this sendto/recvfrom for the tracepoint that follows in the same
 * thread. The hooks only observe: they always allow the call. */
static __always_inline int flow_stash_peer(struct bpf_sock_addr *ctx, bool v6)
{
	struct udp_peer *stash;

	if (ctx->type != FLOW_SOCK_DGRAM)
		return 1;
	stash = bpf_task_storage_get(&udp_peers, bpf_get_current_task_btf(), 0,
				     BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!stash)
		return 1;
	stash->family = flow_peer_ctx(ctx, v6, stash->addr, &stash->port);
	stash->cookie = flow_stash_cookie(ctx);
	return 1;
}

/* The route lookup of a UDP send on an unconnected socket (and of a UDP connect), in the
 * sender's context and without the socket lock the sendmsg hooks make the kernel take:
 * its destination is the datagram's peer. Output lookups only: theirs have the loopback
 * device as input (a received packet's lookup, in whatever task a softirq interrupts, has
 * its real device; loopback traffic keeps its route and makes none). */
static __always_inline struct udp_peer *udp_route_stash(const struct flowi_common *fl, __be16 sport,
							__be16 dport)
{
	struct udp_peer *stash;

	if ((fl->flowic_proto != TCPTOP_PROTO_UDP && fl->flowic_proto != FLOW_IPPROTO_UDPLITE) ||
	    fl->flowic_iif != FLOW_LOOPBACK_IFINDEX)
		return NULL;
	stash = bpf_task_storage_get(&udp_peers, bpf_get_current_task_btf(), 0,
				     BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!stash)
		return NULL;
	stash->cookie = UDP_STASH_ROUTE;
	stash->route_sport = bpf_ntohs(sport);
	stash->port = bpf_ntohs(dport);
	return stash;
}

SEC("tp_btf/fib_table_lookup")
int BPF_PROG(tcptop_route4, u32 table, const struct flowi4 *flp, const struct fib_nh_common *nhc,
	     int err)
{
	struct udp_peer *stash;

	stash = udp_route_stash(&flp->__fl_common, flp->uli.ports.sport, flp->uli.ports.dport);
	if (!stash)
		return 0;
	stash->addr[0] = flp->daddr;
	stash->addr[1] = 0;
	stash->addr[2] = 0;
	stash->addr[3] = 0;
	stash->family = TCPTOP_AF_INET;
	return 0;
}

SEC("tp_btf/fib6_table_lookup")
int BPF_PROG(tcptop_route6, const struct net *net, const struct fib6_result *res,
	     struct fib6_table *table, const struct flowi6 *flp)
{
	struct udp_peer *stash;

	stash = udp_route_stash(&flp->__fl_common, flp->uli.ports.sport, flp->uli.ports.dport);
	if (!stash)
		return 0;
	stash->addr[0] = flp->daddr.in6_u.u6_addr32[0];
	stash->addr[1] = flp->daddr.in6_u.u6_addr32[1];
	stash->addr[2] = flp->daddr.in6_u.u6_addr32[2];
	stash->addr[3] = flp->daddr.in6_u.u6_addr32[3];
	stash->family = TCPTOP_AF_INET6;
	if (flow_addr_is_v4mapped(stash->addr)) {
		flow_addr_to_v4(stash->addr);
		stash->family = TCPTOP_AF_INET;
	}
	return 0;
}

SEC("cgroup/sendmsg4")
int tcptop_sendmsg4(struct bpf_sock_addr *ctx)
{
	return flow_stash_peer(ctx, false);
}

SEC("cgroup/sendmsg6")
int tcptop_sendmsg6(struct bpf_sock_addr *ctx)
{
	return flow_stash_peer(ctx, true);
}

SEC("cgroup/recvmsg4")
int tcptop_recvmsg4(struct bpf_sock_addr *ctx)
{
	return flow_stash_peer(ctx, false);
}

SEC("cgroup/recvmsg6")
int tcptop_recvmsg6(struct bpf_sock_addr *ctx)
{
	return flow_stash_peer(ctx, true);
}
