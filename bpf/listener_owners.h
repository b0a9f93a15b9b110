/* Listeners' owners, for the modern set (tcptop.bpf.c). BPF_F_CLONE gives each
 * connection a listener accepts a copy as the kernel makes it, so that a connection its
 * server closes without using it (or whose last close a bystander makes) names the
 * server, as under the compat set; its first use names its own process. */
#ifndef TCPTOP_BPF_LISTENER_OWNERS_H
#define TCPTOP_BPF_LISTENER_OWNERS_H

struct listener_owner {
	__u32 tgid;
	char comm[TCPTOP_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct listener_owner);
} listener_owners SEC(".maps");

/* The owners the start-up walk found of listeners older than tcptop, by cookie: its
 * iter/task_file sees a socket through a pointer no helper may store at, so tcptop_adopt
 * (iter/tcp) moves them into listener_owners. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct listener_owner);
} walked_listener_owners SEC(".maps");

static __always_inline void listener_owner_set(struct sock *sk, __u32 tgid, const char *comm)
{
	struct listener_owner *o = bpf_sk_storage_get(&listener_owners, sk, 0,
						      BPF_SK_STORAGE_GET_F_CREATE);

	if (!o)
		return;
	o->tgid = tgid;
	__builtin_memcpy(o->comm, comm, sizeof(o->comm));
}

#endif
