/* The hook sets the eBPF backend can load. Each hands over the same records
 * (include/tcptop_shared.h): flows in the flows map (the compat set) or in a slot array
 * (the modern set, which uses the map only for the start-up walk), closes through the
 * close ring; the backend drains them alike. They differ in which kernel hooks produce the
 * counts:
 *   modern  tp_btf sock_send_length/sock_recv_length (kernel >= 6.3): application bytes
 *   compat  cgroup_skb + bpf_tcp_sock (kernels from 5.8): bytes acknowledged / arrived */
#ifndef TCPTOP_EBPF_HOOKS_H
#define TCPTOP_EBPF_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bpf_object;
#include "ebpf/cgroup_mount.h"
#include "flow_table.h"
#include "options.h"
#include "ebpf/slot_array.h"
#include "tcptop_shared.h"

/* One loaded hook set, as the backend sees it. */
struct ebpf_hooks {
	const struct ebpf_hook_set *set;
	void *skel;
	int flows_fd;
	int listeners_fd; /* the modern set's walked_listener_owners, for the walk; or -1 */
	int close_ring_fd;
	/* The object's own counters (bss), only ever incremented by the programs. */
	const __u64 *flows_dropped;
	const __u64 *close_events_lost;
	/* The loaded object, for the programs' skipped runs (ebpf/prog_stats.h). */
	const struct bpf_object *obj;
	/* The modern set's flows; capacity 0 for sets that keep them in the flows map. */
	struct slot_array slots;
	struct cgroup_mount *cgroup; /* opened by the backend; fd < 0 when there is none */
	char describe[1024];         /* the -v line: which set, on which hooks */
	char refused[320];           /* why the set did not load or attach, for messages */
	bool udp_per_socket;         /* --udp-mode per-socket */
	unsigned wants;              /* options.wants: which on-demand programs are on */
	/* The kernel's jiffies, read at each drain by running jiffies_prog (-1: not loaded,
	 * then the limited column stays empty) into *jiffies_now. */
	int jiffies_prog_fd;
	const __u64 *jiffies_now;
	/* Private to the set. */
	bool sock_addr_hooks;
	/* modern: the route lookup tracepoints learn the peers of UDP sends, so that only
	 * the recvmsg sock_addr hooks are attached (else sendmsg's too). */
	bool route_hooks;
	bool owner_iter; /* compat: owners walked with iter/task_file, else through /proc */
	uint64_t last_owner_walk_ns;
};

struct ebpf_hook_set {
	const char *name;
	/* Opens and loads the programs; <0 (-errno) with h->refused saying why. */
	int (*load)(struct ebpf_hooks *h, const struct options *opt);
	/* Attaches them; <0 with h->refused saying why. */
	int (*attach)(struct ebpf_hooks *h);
	/* After the start-up walk, before the first drain; NULL when there is nothing to do. */
	void (*after_walk)(struct ebpf_hooks *h);
	/* After each drain: unowned_since_ns is the first-seen time of the newest flow
	 * without an owner that the drain met (0 if none), for sets that look owners up. */
	void (*after_drain)(struct ebpf_hooks *h, struct flow_table *table,
			    uint64_t unowned_since_ns, uint64_t now_ns);
	void (*destroy)(struct ebpf_hooks *h);
};

extern const struct ebpf_hook_set ebpf_hooks_modern;
extern const struct ebpf_hook_set ebpf_hooks_compat;

/* Faults on purpose, to test the fallbacks, only in the test binary tests/tcptop-fault
 * (src/ebpf/fault_switch.c): TCPTOP_BREAK_HOOKS=modern (or compat, iterators, health, or a
 * comma-separated list) makes that part fail to load for real. ebpf_hooks_break_program
 * makes one of its programs look for an attach target the kernel does not have, so the
 * load fails as on a kernel that lacks the hook. tcptop itself never breaks a set. */
bool ebpf_hooks_broken_on_purpose(const char *set_name);
/* "; TCPTOP_BREAK_HOOKS asked for that" when set_name was broken on purpose, else "". */
const char *ebpf_hooks_fault_note(const char *set_name);
/* The close ring's size for max_flows: an eighth of them as records, a power of two from
 * 256 KiB to 16 MiB. */
uint32_t ebpf_close_ring_bytes(uint32_t max_flows);
struct bpf_program;
void ebpf_hooks_break_program(struct bpf_program *prog);
/* Attaches prog to the cgroup cgroup_fd, or where its section says when cgroup_fd < 0;
 * 0 or -errno. */
struct bpf_link;
int ebpf_hooks_attach(struct bpf_program *prog, struct bpf_link **link, int cgroup_fd);

#endif
