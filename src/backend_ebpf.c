/* The eBPF backend: loads the modern hook set (bpf/tcptop.bpf.c), walks what existed before
 * start, and turns the flows map and the close ring into flow table merges. The BPF side
 * keeps every counter cumulative, so a drain only ever copies; nothing is read-then-reset. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "backend.h"
#include "clock.h"
#include "cgroup_mount.h"
#include "ebpf_walk.h"
#include "report.h"
#include "tcptop.skel.h"

/* Entries per bpf_map_lookup_batch call: large enough that a drain of 100k flows is a few
 * dozen syscalls, small enough (~600 KiB of buffers) to keep. */
#define EBPF_BATCH_ENTRIES 4096

struct ebpf_state {
	struct tcptop_bpf *skel;
	struct ring_buffer *ring;
	struct cgroup_mount cgroup;
	bool cgroup_hooks;      /* the sock_addr programs are loaded (and, after attach, on) */
	char cgroup_note[320];  /* why they are not, when they are not */
	/* Where close records go while a drain consumes the ring. */
	struct flow_table *table;
	uint64_t now_ns;
	/* Drain buffers, reused: a drain allocates nothing per flow. */
	struct flow_key *keys;
	struct flow_value *values;
	uint32_t batch_entries;
	char describe[512];
};

static int ebpf_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	int verbose = report_verbose_level();

	if (verbose < 2 || (level == LIBBPF_DEBUG && verbose < 3))
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* Why the hook set did not load, in one line: a kernel without BTF or older than 6.3 is
 * the common case, and deserves better than a verifier log. */
static void ebpf_report_load_failure(int err)
{
	struct utsname uts;
	struct btf *btf;
	int id;

	uname(&uts);
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		report_error("this kernel (%s) has no BTF (/sys/kernel/btf/vmlinux); "
			     "no usable hook set", uts.release);
		return;
	}
	btf = btf__load_vmlinux_btf();
	id = btf ? btf__find_by_name_kind(btf, "btf_trace_sock_send_length", BTF_KIND_TYPEDEF)
		 : -1;
	btf__free(btf);
	if (btf && id < 0)
		report_error("this kernel (%s) lacks the sock_send_length tracepoint "
			     "(needs >= 6.3); no usable hook set", uts.release);
	else
		report_error("cannot load the BPF programs: %s", strerror(-err));
}

static void ebpf_set_cgroup_autoload(struct tcptop_bpf *skel, bool on)
{
	bpf_program__set_autoload(skel->progs.tcptop_sendmsg4, on);
	bpf_program__set_autoload(skel->progs.tcptop_sendmsg6, on);
	bpf_program__set_autoload(skel->progs.tcptop_recvmsg4, on);
	bpf_program__set_autoload(skel->progs.tcptop_recvmsg6, on);
}

static int ebpf_load(struct ebpf_state *st, const struct options *opt, bool with_cgroup)
{
	int err;

	st->skel = tcptop_bpf__open();
	if (!st->skel)
		return -errno;
	err = bpf_map__set_max_entries(st->skel->maps.flows, opt->max_flows);
	if (err)
		return err;
	ebpf_set_cgroup_autoload(st->skel, with_cgroup);
	return tcptop_bpf__load(st->skel);
}

static void ebpf_free(struct ebpf_state *st)
{
	ring_buffer__free(st->ring);
	tcptop_bpf__destroy(st->skel);
	cgroup_mount_close(&st->cgroup);
	free(st->keys);
	free(st->values);
	free(st);
}

static int ebpf_on_close_record(void *ctx, void *data, size_t size)
{
	struct ebpf_state *st = ctx;
	struct flow_close_event e;

	if (size < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	flow_table_close(st->table, &e.key, &e.value, st->now_ns);
	return 0;
}

static int ebpf_grow_batch(struct ebpf_state *st, uint32_t entries)
{
	struct flow_key *keys = realloc(st->keys, entries * sizeof(*keys));
	struct flow_value *values;

	if (!keys)
		return -ENOMEM;
	st->keys = keys;
	values = realloc(st->values, entries * sizeof(*values));
	if (!values)
		return -ENOMEM;
	st->values = values;
	st->batch_entries = entries;
	return 0;
}

/* Loads the whole set; if that fails, once more without the cgroup sock_addr programs. */
static int ebpf_load_best(struct ebpf_state *st, const struct options *opt)
{
	int err;

	st->cgroup_hooks = cgroup_mount_open(&st->cgroup) == 0;
	if (!st->cgroup_hooks)
		snprintf(st->cgroup_note, sizeof(st->cgroup_note),
			 "no cgroup v2 hierarchy could be opened");
	err = ebpf_load(st, opt, st->cgroup_hooks);
	if (err && st->cgroup_hooks) {
		snprintf(st->cgroup_note, sizeof(st->cgroup_note),
			 "the cgroup sock_addr programs did not load (%s)", strerror(-err));
		tcptop_bpf__destroy(st->skel);
		st->skel = NULL;
		st->cgroup_hooks = false;
		err = ebpf_load(st, opt, false);
	}
	return err;
}

static void ebpf_describe_set(struct ebpf_state *st)
{
	const char *base = "hook set: modern (tp_btf sock_send_length/sock_recv_length, "
			   "inet_sock_set_state";

	if (st->cgroup_hooks)
		snprintf(st->describe, sizeof(st->describe), "%s, cgroup sock_addr on %s%s)",
			 base, st->cgroup.private_mount ? "a private mount of " : "",
			 st->cgroup.private_mount ? "cgroup2" : st->cgroup.path);
	else
		snprintf(st->describe, sizeof(st->describe),
			 "%s; without cgroup sock_addr: %s, so UDP of unconnected sockets is "
			 "counted per socket, not per peer)", base, st->cgroup_note);
}

static int ebpf_open(struct backend *b, const struct options *opt)
{
	struct ebpf_state *st = calloc(1, sizeof(*st));
	int err;

	if (!st) {
		report_error("cannot open the eBPF backend: out of memory");
		return -1;
	}
	st->cgroup.fd = -1;
	libbpf_set_print(ebpf_libbpf_print);
	err = ebpf_load_best(st, opt);
	if (err) {
		ebpf_report_load_failure(err);
		goto fail;
	}
	st->ring = ring_buffer__new(bpf_map__fd(st->skel->maps.close_events),
				    ebpf_on_close_record, st, NULL);
	if (!st->ring || ebpf_grow_batch(st, EBPF_BATCH_ENTRIES) < 0) {
		report_error("cannot set up the close ring buffer: %s", strerror(errno));
		goto fail;
	}
	ebpf_describe_set(st);
	b->state = st;
	return 0;
fail:
	ebpf_free(st);
	return -1;
}

static int ebpf_attach_cgroup_prog(struct bpf_program *prog, struct bpf_link **link, int fd)
{
	*link = bpf_program__attach_cgroup(prog, fd);
	return *link ? 0 : -errno;
}

static int ebpf_attach_cgroup(struct ebpf_state *st)
{
	struct tcptop_bpf *skel = st->skel;
	int fd = st->cgroup.fd;
	int err;

	err = ebpf_attach_cgroup_prog(skel->progs.tcptop_sendmsg4,
				      &skel->links.tcptop_sendmsg4, fd);
	if (!err)
		err = ebpf_attach_cgroup_prog(skel->progs.tcptop_sendmsg6,
					      &skel->links.tcptop_sendmsg6, fd);
	if (!err)
		err = ebpf_attach_cgroup_prog(skel->progs.tcptop_recvmsg4,
					      &skel->links.tcptop_recvmsg4, fd);
	if (!err)
		err = ebpf_attach_cgroup_prog(skel->progs.tcptop_recvmsg6,
					      &skel->links.tcptop_recvmsg6, fd);
	return err;
}

static void ebpf_detach_cgroup(struct tcptop_bpf *skel)
{
	bpf_link__destroy(skel->links.tcptop_sendmsg4);
	bpf_link__destroy(skel->links.tcptop_sendmsg6);
	bpf_link__destroy(skel->links.tcptop_recvmsg4);
	bpf_link__destroy(skel->links.tcptop_recvmsg6);
	skel->links.tcptop_sendmsg4 = skel->links.tcptop_sendmsg6 = NULL;
	skel->links.tcptop_recvmsg4 = skel->links.tcptop_recvmsg6 = NULL;
}

static int ebpf_attach_tracepoints(struct tcptop_bpf *skel)
{
	skel->links.tcptop_send = bpf_program__attach(skel->progs.tcptop_send);
	if (!skel->links.tcptop_send)
		return -errno;
	skel->links.tcptop_recv = bpf_program__attach(skel->progs.tcptop_recv);
	if (!skel->links.tcptop_recv)
		return -errno;
	skel->links.tcptop_state = bpf_program__attach(skel->progs.tcptop_state);
	if (!skel->links.tcptop_state)
		return -errno;
	return 0;
}

static int ebpf_attach(struct backend *b, struct flow_table *table)
{
	struct ebpf_state *st = b->state;
	int err;

	err = ebpf_attach_tracepoints(st->skel);
	if (err) {
		report_error("cannot attach the tracepoints: %s", strerror(-err));
		return -1;
	}
	if (st->cgroup_hooks) {
		err = ebpf_attach_cgroup(st);
		if (err) {
			ebpf_detach_cgroup(st->skel);
			st->cgroup_hooks = false;
			snprintf(st->cgroup_note, sizeof(st->cgroup_note),
				 "cannot attach to %s (%s)", st->cgroup.path, strerror(-err));
		}
	}
	ebpf_describe_set(st);
	if (!st->cgroup_hooks)
		report_error("UDP peers of unconnected sockets are not tracked: %s",
			     st->cgroup_note);
	/* After the hooks, so that no socket opened meanwhile falls between the two. */
	err = ebpf_walk_run(table, bpf_map__fd(st->skel->maps.flows), clock_now_ns(CLOCK_MONOTONIC));
	if (err)
		report_error("cannot list the connections open before start (%s); they appear "
			     "once they carry traffic", strerror(-err));
	return 0;
}

static int ebpf_drain_events(struct backend *b, struct flow_table *table, uint64_t now_ns)
{
	struct ebpf_state *st = b->state;
	int n;

	st->table = table;
	st->now_ns = now_ns;
	n = ring_buffer__consume(st->ring);
	return n < 0 ? n : 0;
}

/* A TCP entry in state CLOSE is one whose close record did not fit in the ring: its final
 * counts are here, and nothing else will remove it. */
static void ebpf_merge_entry(struct ebpf_state *st, int fd, const struct flow_key *key,
			     const struct flow_value *value)
{
	struct flow_value final;

	if (value->id.proto != TCPTOP_PROTO_TCP || value->counters.state != TCPTOP_TCP_CLOSE) {
		flow_table_merge(st->table, key, value, st->now_ns);
		return;
	}
	if (bpf_map_lookup_and_delete_elem(fd, key, &final) == 0)
		flow_table_close(st->table, key, &final, st->now_ns);
}

static int ebpf_drain_map(struct ebpf_state *st)
{
	int fd = bpf_map__fd(st->skel->maps.flows);
	__u64 in_batch = 0, out_batch = 0;
	bool first = true, last = false;

	while (!last) {
		__u32 count = st->batch_entries;
		int err = bpf_map_lookup_batch(fd, first ? NULL : &in_batch, &out_batch, st->keys,
					       st->values, &count, NULL);

		if (err == -ENOSPC) {
			/* A hash bucket holds more entries than the buffers: grow, retry. */
			if (ebpf_grow_batch(st, st->batch_entries * 2) < 0)
				return -ENOMEM;
			continue;
		}
		/* The last call says ENOENT and still returns entries. */
		if (err && err != -ENOENT)
			return err;
		last = err != 0;
		for (__u32 i = 0; i < count; i++)
			ebpf_merge_entry(st, fd, &st->keys[i], &st->values[i]);
		in_batch = out_batch;
		first = false;
	}
	return 0;
}

static int ebpf_drain(struct backend *b, struct flow_table *table, uint64_t now_ns)
{
	struct ebpf_state *st = b->state;
	int err;

	/* Close records first: a flow whose record is in the ring is gone from the map. */
	err = ebpf_drain_events(b, table, now_ns);
	if (!err)
		err = ebpf_drain_map(st);
	if (err)
		report_error("cannot read the flows map: %s", strerror(-err));
	return err;
}

static int ebpf_event_fd(struct backend *b)
{
	struct ebpf_state *st = b->state;

	return ring_buffer__epoll_fd(st->ring);
}

static int ebpf_expire(struct backend *b, const struct flow_key *key, struct flow_value *final)
{
	struct ebpf_state *st = b->state;

	if (bpf_map_lookup_and_delete_elem(bpf_map__fd(st->skel->maps.flows), key, final) < 0)
		return -errno;
	return 0;
}

static uint64_t ebpf_flows_dropped(struct backend *b)
{
	struct ebpf_state *st = b->state;

	return __atomic_load_n(&st->skel->bss->flows_dropped, __ATOMIC_RELAXED);
}

static const char *ebpf_describe(struct backend *b)
{
	struct ebpf_state *st = b->state;

	return st->describe;
}

static void ebpf_close(struct backend *b)
{
	struct ebpf_state *st = b->state;
	uint64_t lost;

	if (!st)
		return;
	lost = __atomic_load_n(&st->skel->bss->close_events_lost, __ATOMIC_RELAXED);
	if (lost)
		report_verbose("%llu close records found the ring full; their flows were read "
			       "from the map instead", (unsigned long long)lost);
	ebpf_free(st);
	b->state = NULL;
}

const struct backend_ops backend_ebpf_ops = {
	.name = "ebpf",
	.open = ebpf_open,
	.attach = ebpf_attach,
	.drain = ebpf_drain,
	.event_fd = ebpf_event_fd,
	.drain_events = ebpf_drain_events,
	.expire = ebpf_expire,
	.flows_dropped = ebpf_flows_dropped,
	.describe = ebpf_describe,
	.close = ebpf_close,
};
