/* The eBPF backend: picks the hook set (include/ebpf/hooks.h) that loads, walks what
 * existed before start, and turns the flows map and the close ring into flow table
 * merges. Every hook set keeps its counters cumulative, so a drain only ever copies;
 * nothing is read-then-reset. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "backend.h"
#include "util/clock.h"
#include "ebpf/bpf_gate.h"
#include "ebpf/cgroup_mount.h"
#include "ebpf/hooks.h"
#include "ebpf/listen_queues.h"
#include "ebpf/prog_stats.h"
#include "ebpf/walk.h"
#include "util/caps.h"
#include "util/report.h"

/* Entries per bpf_map_lookup_batch call: large enough that a drain of 100k flows is a few
 * dozen syscalls, small enough (~600 KiB of buffers) to keep. */
#define EBPF_BATCH_ENTRIES 4096

struct ebpf_state {
	struct ebpf_hooks hooks;
	struct ring_buffer *ring;
	struct cgroup_mount cgroup;
	/* Where close records go while a drain consumes the ring. */
	struct flow_table *table;
	uint64_t now_ns;
	/* First-seen time of the newest flow without an owner met by the current drain. */
	uint64_t unowned_since_ns;
	/* Drain buffers, reused: a drain allocates nothing per flow. */
	struct flow_key *keys;
	struct flow_value *values;
	uint32_t batch_entries;
	bool listen_queues_failed; /* said once */
	/* The kernel's jiffies at this drain, for health samples' chronos; NULL when not
	 * read (jiffies_read says whether jiffies holds them). */
	uint32_t jiffies;
	const uint32_t *jiffies_read;
	/* The jiffies of the last two full drains, once both were read. */
	uint32_t drain_jiffies, drain_jiffies_before;
	int drain_jiffies_count;
	char describe[1408];
};

static int ebpf_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	int verbose = report_verbose_level();

	if (verbose < 2 || (level == LIBBPF_DEBUG && verbose < 3))
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* A ring too small overflows when the collector's wake-up at half full comes late on a
 * busy host: 256 KiB (~1360 records) did at 10k connections/s in the soak. A record is
 * the flow_record and the ring's 8-byte header. */
uint32_t ebpf_close_ring_bytes(uint32_t max_flows)
{
	uint64_t want = (uint64_t)(max_flows / 8) * (sizeof(struct flow_record) + 8);
	uint32_t bytes = 256 * 1024;

	while (bytes < want && bytes < 16 * 1024 * 1024)
		bytes *= 2;
	return bytes;
}

/* An iterator's target looked up as a raw tracepoint, anything else's as an iterator:
 * "btf_trace_tcp" or "bpf_iter_sock_send_length", which no kernel has. (Not
 * bpf_program__set_attach_target: libbpf 1.1 leaks the kernel BTF when that fails.) */
void ebpf_hooks_break_program(struct bpf_program *prog)
{
	bool iter = bpf_program__expected_attach_type(prog) == BPF_TRACE_ITER;

	bpf_program__set_expected_attach_type(prog, iter ? BPF_TRACE_RAW_TP : BPF_TRACE_ITER);
}

int ebpf_hooks_attach(struct bpf_program *prog, struct bpf_link **link, int cgroup_fd)
{
	*link = cgroup_fd >= 0 ? bpf_program__attach_cgroup(prog, cgroup_fd)
			       : bpf_program__attach(prog);
	return *link ? 0 : -errno;
}

static void ebpf_free(struct ebpf_state *st)
{
	ring_buffer__free(st->ring);
	if (st->hooks.set)
		st->hooks.set->destroy(&st->hooks);
	cgroup_mount_close(&st->cgroup);
	free(st->keys);
	free(st->values);
	free(st);
}

/* Loads and attaches one set; on failure it is gone again and hooks.refused says why. */
static int ebpf_try_set(struct ebpf_state *st, const struct ebpf_hook_set *set,
			const struct options *opt)
{
	struct ebpf_hooks *h = &st->hooks;
	int err;

	memset(h, 0, sizeof(*h));
	h->set = set;
	h->cgroup = &st->cgroup;
	h->wants = opt->wants;
	h->jiffies_prog_fd = -1;
	err = set->load(h, opt);
	if (!err) {
		err = set->attach(h);
		if (err)
			set->destroy(h);
	}
	if (err)
		h->set = NULL;
	return err;
}

/* A kernel without BTF takes no set at all: say that, rather than two verifier logs. */
static bool ebpf_kernel_has_btf(void)
{
	struct utsname uts;

	if (access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		return true;
	uname(&uts);
	report_error("this kernel (%s) has no BTF (/sys/kernel/btf/vmlinux); no usable hook set",
		     uts.release);
	return false;
}

/* --hooks modern|compat: that set or nothing. auto: modern, else compat, and -v says why
 * modern was refused. */
static int ebpf_choose_set(struct ebpf_state *st, const struct options *opt)
{
	char modern_refused[sizeof(st->hooks.refused)];

	if (opt->hooks == HOOKS_COMPAT) {
		if (ebpf_try_set(st, &ebpf_hooks_compat, opt) == 0)
			return 0;
		report_error("--hooks compat: the compat hook set cannot be used: %s",
			     st->hooks.refused);
		return -1;
	}
	if (ebpf_try_set(st, &ebpf_hooks_modern, opt) == 0)
		return 0;
	if (opt->hooks == HOOKS_MODERN) {
		report_error("--hooks modern: the modern hook set cannot be used: %s",
			     st->hooks.refused);
		return -1;
	}
	snprintf(modern_refused, sizeof(modern_refused), "%s", st->hooks.refused);
	if (ebpf_try_set(st, &ebpf_hooks_compat, opt) == 0) {
		snprintf(st->describe, sizeof(st->describe), "%s; modern refused: %s",
			 st->hooks.describe, modern_refused);
		return 0;
	}
	report_error("no hook set works on this kernel: modern: %s; compat: %s",
		     modern_refused, st->hooks.refused);
	return -1;
}

static int ebpf_on_close_record(void *ctx, void *data, size_t size)
{
	struct ebpf_state *st = ctx;
	struct flow_close_record e;

	if (size < sizeof(e))
		return 0;
	memcpy(&e, data, sizeof(e));
	slot_array_settle_health(&e.rec.value.counters, st->jiffies_read);
	flow_table_close_at(st->table, e.slot_plus_one ? e.slot_plus_one - 1 : SIZE_MAX, &e.rec.key,
			    &e.rec.value, st->now_ns);
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

static int ebpf_open(struct backend *b, const struct options *opt)
{
	struct ebpf_state *st = calloc(1, sizeof(*st));

	if (!st) {
		report_error("cannot open the eBPF backend: out of memory");
		return -1;
	}
	st->cgroup.fd = -1;
	libbpf_set_print(ebpf_libbpf_print);
	if (cgroup_mount_open(&st->cgroup) < 0)
		st->cgroup.fd = -1;
	if (!ebpf_kernel_has_btf() || ebpf_choose_set(st, opt) < 0)
		goto fail;
	st->ring = ring_buffer__new(st->hooks.close_ring_fd, ebpf_on_close_record, st, NULL);
	if (!st->ring || ebpf_grow_batch(st, EBPF_BATCH_ENTRIES) < 0) {
		report_error("cannot set up the close ring buffer: %s", strerror(errno));
		goto fail;
	}
	report_verbose("listeners' accept queues: %s",
		       opt->wants & WANT_LISTENERS ? "read at each drain (sock_diag dump)"
						   : "not read (no column shown needs them)");
	b->state = st;
	return 0;
fail:
	ebpf_free(st);
	return -1;
}

static int ebpf_attach(struct backend *b, struct flow_table *table)
{
	struct ebpf_state *st = b->state;
	uint64_t now_ns = clock_now_ns(CLOCK_MONOTONIC);
	int err;

	/* The hooks are on since open: no socket opened meanwhile falls between the two. */
	err = ebpf_walk_run(table, st->hooks.flows_fd, st->hooks.listeners_fd, now_ns);
	if (err)
		report_error("cannot list the connections open before start (%s); they appear "
			     "once they carry traffic", strerror(-err));
	if (st->hooks.set->after_walk)
		st->hooks.set->after_walk(&st->hooks);
	st->hooks.set->after_drain(&st->hooks, table, 0, now_ns);
	return 0;
}

/* The kernel's jiffies now, from the hook set's clock program when it has one. */
static void ebpf_read_jiffies(struct ebpf_state *st)
{
	LIBBPF_OPTS(bpf_test_run_opts, run);

	st->jiffies_read = NULL;
	if (st->hooks.jiffies_prog_fd < 0 ||
	    bpf_prog_test_run_opts(st->hooks.jiffies_prog_fd, &run) < 0)
		return;
	st->jiffies = (uint32_t)__atomic_load_n(st->hooks.jiffies_now, __ATOMIC_RELAXED);
	st->jiffies_read = &st->jiffies;
}

static int ebpf_drain_events(struct backend *b, struct flow_table *table, uint64_t now_ns)
{
	struct ebpf_state *st = b->state;
	int n;

	st->table = table;
	st->now_ns = now_ns;
	ebpf_read_jiffies(st);
	n = ring_buffer__consume(st->ring);
	return n < 0 ? n : 0;
}

/* A TCP entry in state CLOSE is one whose close record did not fit in the ring: its final
 * counts are here, and nothing else will remove it. */
static void ebpf_merge_entry(struct ebpf_state *st, int fd, const struct flow_key *key,
			     const struct flow_value *value)
{
	struct flow_value final;

	if (!value->id.tgid && value->id.first_seen_ns > st->unowned_since_ns)
		st->unowned_since_ns = value->id.first_seen_ns;

	if (value->id.proto != TCPTOP_PROTO_TCP || value->counters.state != TCPTOP_TCP_CLOSE) {
		flow_table_merge(st->table, key, value, st->now_ns);
		return;
	}
	if (bpf_map_lookup_and_delete_elem(fd, key, &final) == 0)
		flow_table_close(st->table, key, &final, st->now_ns);
}

static int ebpf_drain_map(struct ebpf_state *st)
{
	int fd = st->hooks.flows_fd;
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

/* After the flows: a listener first seen in this drain has its flow. Without them the
 * listener columns stay empty; said once. */
static void read_listen_queues(struct ebpf_state *st, struct flow_table *table)
{
	int err = listen_queues_read(table);

	if (err < 0 && !st->listen_queues_failed) {
		st->listen_queues_failed = true;
		report_verbose("cannot read the listeners' accept queues (sock_diag): %s",
			       strerror(-err));
	}
}

static int ebpf_drain(struct backend *b, struct flow_table *table, uint64_t now_ns)
{
	struct ebpf_state *st = b->state;
	int err;

	/* Close records first: a flow whose record is in the ring is gone from the map. */
	err = ebpf_drain_events(b, table, now_ns);
	if (st->jiffies_read) {
		st->drain_jiffies_before = st->drain_jiffies;
		st->drain_jiffies = st->jiffies;
		st->drain_jiffies_count += st->drain_jiffies_count < 2;
	} else {
		st->drain_jiffies_count = 0;
	}
	st->unowned_since_ns = 0;
	if (!err)
		err = ebpf_drain_map(st);
	if (!err)
		slot_array_drain(&st->hooks.slots, table, now_ns, st->jiffies_read);
	if (!err && (st->hooks.wants & WANT_LISTENERS))
		read_listen_queues(st, table);
	if (err) {
		report_error("cannot read the flows map: %s", strerror(-err));
		return err;
	}
	st->hooks.set->after_drain(&st->hooks, table, st->unowned_since_ns, now_ns);
	return 0;
}

static int ebpf_event_fd(struct backend *b)
{
	struct ebpf_state *st = b->state;

	return ring_buffer__epoll_fd(st->ring);
}

static int ebpf_expire(struct backend *b, const struct flow_key *key, struct flow_value *final)
{
	struct ebpf_state *st = b->state;

	if (st->hooks.slots.capacity)
		return slot_array_expire_udp(&st->hooks.slots, key, final);
	if (bpf_map_lookup_and_delete_elem(st->hooks.flows_fd, key, final) < 0)
		return -errno;
	return 0;
}

static uint64_t ebpf_flows_dropped(struct backend *b)
{
	struct ebpf_state *st = b->state;

	return __atomic_load_n(st->hooks.flows_dropped, __ATOMIC_RELAXED);
}

static bool ebpf_listen_drops(struct backend *b, uint64_t *out)
{
	(void)b;
	return listen_drops_read(out);
}

static bool ebpf_jiffies(struct backend *b, uint32_t *now, uint32_t *before)
{
	struct ebpf_state *st = b->state;

	*now = st->drain_jiffies;
	*before = st->drain_jiffies_before;
	return st->drain_jiffies_count == 2;
}

static uint64_t ebpf_close_records_lost(struct backend *b)
{
	struct ebpf_state *st = b->state;

	return __atomic_load_n(st->hooks.close_events_lost, __ATOMIC_RELAXED);
}

static size_t ebpf_prog_stats(struct backend *b, struct prog_stat *out, size_t room)
{
	struct ebpf_state *st = b->state;

	return prog_stats_read(st->hooks.obj, out, room);
}

/* Reading maps and the ring, and the modern set's slot array, need at most what the
 * kernel's bpf() gate asks for; the compat set's owner walk through /proc reads other
 * processes' fd links, which takes CAP_SYS_PTRACE (CAP_DAC_READ_SEARCH does not do). Its
 * walk through iter/task_file makes iterators from links, which needs nothing more. */
static unsigned ebpf_steady_needs(struct backend *b)
{
	struct ebpf_state *st = b->state;
	unsigned needs = bpf_gate_closed_without_caps() ? CAPS_BPF_SYSCALL : 0;

	if (st->hooks.set == &ebpf_hooks_compat && !st->hooks.owner_iter)
		needs |= CAPS_PROC_FDS;
	return needs;
}

static const char *ebpf_describe(struct backend *b)
{
	struct ebpf_state *st = b->state;

	return st->describe[0] ? st->describe : st->hooks.describe;
}

static void ebpf_close(struct backend *b)
{
	struct ebpf_state *st = b->state;
	uint64_t lost;

	if (!st)
		return;
	lost = __atomic_load_n(st->hooks.close_events_lost, __ATOMIC_RELAXED);
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
	.close_records_lost = ebpf_close_records_lost,
	.listen_drops = ebpf_listen_drops,
	.jiffies = ebpf_jiffies,
	.prog_stats = ebpf_prog_stats,
	.steady_needs = ebpf_steady_needs,
	.describe = ebpf_describe,
	.close = ebpf_close,
};
