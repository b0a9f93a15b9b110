/* What every BPF object shares beyond the identity readers (flow_identity.h): the flows
 * map, which sockets tcptop follows, their cookies, and who made a state change. Include
 * after vmlinux.h, the libbpf BPF headers and tcptop_shared.h. */
#ifndef TCPTOP_BPF_FLOW_H
#define TCPTOP_BPF_FLOW_H

/* vmlinux.h has no macros. */
#define FLOW_SOCK_STREAM 1
#define FLOW_SOCK_DGRAM 2
#define FLOW_IPPROTO_UDPLITE 136
#define FLOW_MSG_PEEK 2
#define FLOW_PF_KTHREAD 0x00200000
/* The input device of an output route lookup (LOOPBACK_IFINDEX). */
#define FLOW_LOOPBACK_IFINDEX 1

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

/* tcptop's own process. Its owner walks (/proc, iter/task_file) hold other processes'
 * files for a moment: a close() that lands meanwhile ends the socket in tcptop's context,
 * which must not make tcptop the connection's owner. Set before load. */
const volatile __u32 tcptop_tgid;

/* Whether a process closing a connection is a tcptop, this one or another (a second
 * instance, a test suite's): a watcher whose walk held the file, never the connection's
 * user. comm is its thread-group leader's: "tcptop", or "tcptop-..." for a test build. */
static __always_inline bool flow_closer_is_tcptop(__u32 tgid, const char *comm)
{
	return tgid == tcptop_tgid ||
	       (comm[0] == 't' && comm[1] == 'c' && comm[2] == 'p' && comm[3] == 't' &&
		comm[4] == 'o' && comm[5] == 'p' && (comm[6] == '\0' || comm[6] == '-'));
}

/* Whether the task running now holds the socket's lock as its user: a system call on the
 * socket (lock_sock), or the backlog that call processes at its release. Softirq, where
 * the current task is unrelated, runs under the spinlock only (sk_lock.owned 0). */
static __always_inline bool flow_socket_user_runs(const struct sock *sk)
{
	return BPF_CORE_READ(sk, sk_lock.owned) != 0;
}

/* Whether a TCP state change is made by the socket's user itself, in a system call:
 * listen() and connect() leave CLOSE; close() and shutdown() of a connection enter
 * FIN_WAIT1 or LAST_ACK (tcp_close_state, and nothing else, makes those two); each with
 * the socket locked. Every other change may run in softirq. */
static __always_inline bool flow_state_change_by_user(const struct sock *sk, int oldstate,
						      int newstate)
{
	if (oldstate == TCPTOP_TCP_CLOSE) {
		if (newstate != TCPTOP_TCP_LISTEN && newstate != TCPTOP_TCP_SYN_SENT)
			return false;
	} else if (newstate != TCPTOP_TCP_FIN_WAIT1 && newstate != TCPTOP_TCP_LAST_ACK) {
		return false;
	}
	return flow_socket_user_runs(sk);
}

/* A TCP connection's end, as its final record says it (the closed-connection log). */
static __always_inline void flow_tcp_ended(struct flow_counters *c, const struct sock *sk,
					   int oldstate)
{
	c->end_state = oldstate;
	c->end_errno = (__u8)sk->sk_err;
	c->ended_ns = bpf_ktime_get_ns();
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
