/* The modern hook set (bpf/tcptop.bpf.c, kernel >= 6.3): bytes and owners from the
 * sock_send_length/sock_recv_length tracepoints, lifecycle from inet_sock_set_state, and
 * for the peers of unconnected UDP sockets the route lookup tracepoints (sends) and the
 * cgroup recvmsg hooks (the sendmsg hooks where those tracepoints do not load). Without
 * the cgroup hooks it still works, counting such UDP traffic per socket. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "ebpf/hooks.h"
#include "util/report.h"
#include "tcptop.skel.h"

/* A program of this skeleton (skel in scope) to its cgroup, or where its section says. */
#define MODERN_ATTACH(prog, cgroup_fd) \
	ebpf_hooks_attach(skel->progs.prog, &skel->links.prog, cgroup_fd)

/* Per-peer UDP: the recvmsg hooks, and for sends the route lookup tracepoints where
 * route is set (they take no socket lock), else the sendmsg hooks. */
static void modern_set_udp_peer_autoload(struct tcptop_bpf *skel, bool sock_addr, bool route)
{
	bpf_program__set_autoload(skel->progs.tcptop_route4, sock_addr && route);
	bpf_program__set_autoload(skel->progs.tcptop_route6, sock_addr && route);
	bpf_program__set_autoload(skel->progs.tcptop_sendmsg4, sock_addr && !route);
	bpf_program__set_autoload(skel->progs.tcptop_sendmsg6, sock_addr && !route);
	bpf_program__set_autoload(skel->progs.tcptop_recvmsg4, sock_addr);
	bpf_program__set_autoload(skel->progs.tcptop_recvmsg6, sock_addr);
}

/* Every map that holds flows has room for --max-flows of them; the close ring, a share. */
static int modern_size_maps(struct tcptop_bpf *skel, uint32_t max_flows)
{
	struct bpf_map *sized[] = { skel->maps.flows, skel->maps.flow_slots,
				    skel->maps.flow_slot_dirty, skel->maps.flow_slots_free,
				    skel->maps.udp_slot_of };
	int err = 0;

	for (size_t i = 0; i < sizeof(sized) / sizeof(sized[0]) && !err; i++)
		err = bpf_map__set_max_entries(sized[i], max_flows);
	skel->rodata->close_ring_bytes = ebpf_close_ring_bytes(max_flows);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.close_events,
					       skel->rodata->close_ring_bytes);
	return err;
}

static int modern_load_once(struct ebpf_hooks *h, const struct options *opt, bool sock_addr)
{
	struct tcptop_bpf *skel = tcptop_bpf__open();
	int err;

	if (!skel)
		return -errno;
	h->skel = skel;
	err = modern_size_maps(skel, opt->max_flows);
	if (err)
		return err;
	skel->rodata->flow_slot_count = opt->max_flows;
	skel->rodata->tcptop_tgid = (uint32_t)getpid();
	skel->rodata->udp_per_socket = h->udp_per_socket;
	modern_set_udp_peer_autoload(skel, sock_addr, h->route_hooks);
	/* The health columns' on-demand programs: only what the columns asked for. */
	bpf_program__set_autoload(skel->progs.tcptop_data_ready, h->wants & WANT_ARRIVALS);
	bpf_program__set_autoload(skel->progs.tcptop_segment_in, h->wants & WANT_SEGMENTS);
	bpf_program__set_autoload(skel->progs.tcptop_jiffies, h->wants & WANT_CHRONO);
	/* Without iterators the walked sockets move to slots at their first event. */
	if (ebpf_hooks_broken_on_purpose("iterators"))
		bpf_program__set_autoload(skel->progs.tcptop_adopt, false);
	if (ebpf_hooks_broken_on_purpose("route") && h->route_hooks && sock_addr)
		ebpf_hooks_break_program(skel->progs.tcptop_route4);
	if (ebpf_hooks_broken_on_purpose("modern"))
		ebpf_hooks_break_program(skel->progs.tcptop_send);
	if (ebpf_hooks_broken_on_purpose("health") && (h->wants & WANT_SEGMENTS))
		ebpf_hooks_break_program(skel->progs.tcptop_segment_in);
	return tcptop_bpf__load(skel);
}

static void modern_unload(struct ebpf_hooks *h)
{
	slot_array_unmap(&h->slots);
	tcptop_bpf__destroy(h->skel);
	h->skel = NULL;
}

/* Why the set did not load, in words: on the kernels that need the compat set, the
 * tracepoint is simply not there, and that deserves better than a verifier log. */
static void modern_explain_refusal(struct ebpf_hooks *h, int err)
{
	struct utsname uts;
	struct btf *btf = btf__load_vmlinux_btf();
	int id = btf ? btf__find_by_name_kind(btf, "btf_trace_sock_send_length",
					      BTF_KIND_TYPEDEF) : -1;

	btf__free(btf);
	uname(&uts);
	if (btf && id < 0)
		snprintf(h->refused, sizeof(h->refused),
			 "this kernel (%s) lacks the sock_send_length tracepoint (needs >= 6.3)",
			 uts.release);
	else
		snprintf(h->refused, sizeof(h->refused), "its programs did not load (%s%s)",
			 strerror(-err), ebpf_hooks_fault_note("modern"));
}

/* The whole set; else without the health columns' on-demand programs (a kernel may lack
 * their tracepoints: those columns then show each connection as its last send, receive
 * or state change left it, and limited stays empty); else with the sendmsg hooks for the
 * route lookup tracepoints; else without the cgroup sock_addr programs too (which
 * --udp-mode per-socket does without from the start). */
static int modern_load(struct ebpf_hooks *h, const struct options *opt)
{
	char note[200] = "no cgroup v2 hierarchy could be opened";
	int err;

	h->udp_per_socket = opt->udp_mode == UDP_PER_SOCKET;
	h->sock_addr_hooks = h->cgroup->fd >= 0 && !h->udp_per_socket;
	h->route_hooks = h->sock_addr_hooks;
	err = modern_load_once(h, opt, h->sock_addr_hooks);
	if (err && (h->wants & WANT_ON_DEMAND)) {
		modern_unload(h);
		h->wants &= ~(unsigned)WANT_ON_DEMAND;
		err = modern_load_once(h, opt, h->sock_addr_hooks);
		if (!err)
			report_error(
				"the health columns' programs (sk_data_ready, tcp_probe) did "
				"not load: their values are as of each connection's last send, "
				"receive or state change");
	}
	if (err && h->route_hooks) {
		modern_unload(h);
		h->route_hooks = false;
		err = modern_load_once(h, opt, h->sock_addr_hooks);
	}
	if (err && h->sock_addr_hooks) {
		snprintf(note, sizeof(note), "the cgroup sock_addr programs did not load (%s)",
			 strerror(-err));
		modern_unload(h);
		h->sock_addr_hooks = false;
		err = modern_load_once(h, opt, false);
	}
	if (err) {
		modern_explain_refusal(h, err);
		modern_unload(h);
		return err;
	}
	if (!h->sock_addr_hooks)
		snprintf(h->refused, sizeof(h->refused), "%s", note);
	return 0;
}

/* The health columns' programs loaded, as the -v line names them. */
static const char *modern_on_demand(const struct tcptop_bpf *skel)
{
	bool arrivals = bpf_program__autoload(skel->progs.tcptop_data_ready);
	bool segments = bpf_program__autoload(skel->progs.tcptop_segment_in);

	if (arrivals && segments)
		return ", sk_data_ready, tcp_probe";
	if (arrivals)
		return ", sk_data_ready";
	return segments ? ", tcp_probe" : "";
}

static void modern_describe(struct ebpf_hooks *h)
{
	const char *base = "hook set: modern (tp_btf sock_send_length/sock_recv_length, "
			   "inet_sock_set_state";
	const char *on_demand = modern_on_demand(h->skel);

	if (h->sock_addr_hooks)
		snprintf(h->describe, sizeof(h->describe), "%s%s, %scgroup sock_addr %s on %s%s)",
			 base, on_demand,
			 h->route_hooks ? "fib_table_lookup/fib6_table_lookup, " : "",
			 h->route_hooks ? "recvmsg" : "sendmsg/recvmsg",
			 h->cgroup->private_mount ? "a private mount of " : "",
			 h->cgroup->private_mount ? "cgroup2" : h->cgroup->path);
	else if (h->udp_per_socket)
		snprintf(h->describe, sizeof(h->describe),
			 "%s%s; UDP of unconnected sockets counted per socket, --udp-mode "
			 "per-socket)",
			 base, on_demand);
	else
		snprintf(h->describe, sizeof(h->describe),
			 "%s%s; without cgroup sock_addr: %s, so UDP of unconnected sockets is "
			 "counted per socket, not per peer)",
			 base, on_demand, h->refused);
}

/* The per-peer UDP programs that loaded: the route tracepoints, the cgroup hooks. */
static int modern_attach_udp_peer(struct tcptop_bpf *skel, int fd)
{
	struct {
		struct bpf_program *prog;
		struct bpf_link **link;
		int cgroup_fd;
	} hooks[] = {
		{ skel->progs.tcptop_route4, &skel->links.tcptop_route4, -1 },
		{ skel->progs.tcptop_route6, &skel->links.tcptop_route6, -1 },
		{ skel->progs.tcptop_sendmsg4, &skel->links.tcptop_sendmsg4, fd },
		{ skel->progs.tcptop_sendmsg6, &skel->links.tcptop_sendmsg6, fd },
		{ skel->progs.tcptop_recvmsg4, &skel->links.tcptop_recvmsg4, fd },
		{ skel->progs.tcptop_recvmsg6, &skel->links.tcptop_recvmsg6, fd },
	};
	int err = 0;

	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]) && !err; i++)
		if (bpf_program__autoload(hooks[i].prog))
			err = ebpf_hooks_attach(hooks[i].prog, hooks[i].link, hooks[i].cgroup_fd);
	if (!err)
		return 0;
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		bpf_link__destroy(*hooks[i].link);
		*hooks[i].link = NULL;
	}
	return err;
}

static int modern_attach(struct ebpf_hooks *h)
{
	struct tcptop_bpf *skel = h->skel;
	int err;

	/* State first: a socket the byte hooks give a slot must have its close seen. The
	 * walk's entries need cleaning until tcptop_adopt has run (modern_after_walk). */
	skel->bss->walk_pending = 1;
	err = MODERN_ATTACH(tcptop_state, -1);
	if (!err)
		err = MODERN_ATTACH(tcptop_send, -1);
	if (!err)
		err = MODERN_ATTACH(tcptop_recv, -1);
	if (!err && bpf_program__autoload(skel->progs.tcptop_data_ready))
		err = MODERN_ATTACH(tcptop_data_ready, -1);
	if (!err && bpf_program__autoload(skel->progs.tcptop_segment_in))
		err = MODERN_ATTACH(tcptop_segment_in, -1);
	if (err) {
		snprintf(h->refused, sizeof(h->refused), "cannot attach the tracepoints: %s",
			 strerror(-err));
		return err;
	}
	if (h->sock_addr_hooks) {
		err = modern_attach_udp_peer(skel, h->cgroup->fd);
		if (err) {
			h->sock_addr_hooks = h->route_hooks = false;
			snprintf(h->refused, sizeof(h->refused), "cannot attach to %s (%s)",
				 h->cgroup->path, strerror(-err));
		}
	}
	modern_describe(h);
	if (!h->sock_addr_hooks && !h->udp_per_socket)
		report_error("UDP peers of unconnected sockets are not tracked: %s", h->refused);
	return 0;
}

/* The start-up walk's TCP sockets from the flows map into slots (tcptop_adopt). If that
 * fails they still move, one by one, at their first event. */
static void modern_after_walk(struct ebpf_hooks *h)
{
	struct tcptop_bpf *skel = h->skel;
	struct bpf_link *link;
	char buf[256];
	ssize_t n;
	int fd;

	if (!bpf_program__autoload(skel->progs.tcptop_adopt))
		return;
	link = bpf_program__attach_iter(skel->progs.tcptop_adopt, NULL);
	fd = link ? bpf_iter_create(bpf_link__fd(link)) : -1;
	if (fd < 0)
		report_verbose("cannot move the walked TCP sockets to slots: %s", strerror(errno));
	while (fd >= 0 && ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)))
		;
	if (fd >= 0) {
		close(fd);
		skel->bss->walk_pending = 0;
	}
	bpf_link__destroy(link);
}

static void modern_after_drain(struct ebpf_hooks *h, struct flow_table *table,
			       uint64_t unowned_since_ns, uint64_t now_ns)
{
	/* Owners come with the bytes, from the process that moves them. */
	(void)h, (void)table, (void)unowned_since_ns, (void)now_ns;
}

static int modern_prepare(struct ebpf_hooks *h, const struct options *opt)
{
	struct slot_array_maps maps;
	struct tcptop_bpf *skel;
	int err = modern_load(h, opt);

	if (err)
		return err;
	skel = h->skel;
	maps.records_fd = bpf_map__fd(skel->maps.flow_slots);
	maps.dirty_fd = bpf_map__fd(skel->maps.flow_slot_dirty);
	maps.free_fd = bpf_map__fd(skel->maps.flow_slots_free);
	maps.udp_index_fd = bpf_map__fd(skel->maps.udp_slot_of);
	err = slot_array_map(&h->slots, &maps, opt->max_flows, &skel->bss->flow_slots_used);
	if (err) {
		snprintf(h->refused, sizeof(h->refused), "cannot map the flow slot array: %s",
			 strerror(-err));
		modern_unload(h);
		return err;
	}
	if (bpf_program__autoload(skel->progs.tcptop_jiffies)) {
		h->jiffies_prog_fd = bpf_program__fd(skel->progs.tcptop_jiffies);
		h->jiffies_now = &skel->bss->jiffies_now;
	}
	h->flows_fd = bpf_map__fd(skel->maps.flows);
	h->listeners_fd = bpf_map__fd(skel->maps.walked_listener_owners);
	h->close_ring_fd = bpf_map__fd(skel->maps.close_events);
	h->flows_dropped = &skel->bss->flows_dropped;
	h->close_events_lost = &skel->bss->close_events_lost;
	h->obj = skel->obj;
	return 0;
}

const struct ebpf_hook_set ebpf_hooks_modern = {
	.name = "modern",
	.load = modern_prepare,
	.attach = modern_attach,
	.after_walk = modern_after_walk,
	.after_drain = modern_after_drain,
	.destroy = modern_unload,
};
