/* The compat hook set (bpf/compat.bpf.c) for kernels without sock_send_length (< 6.3):
 * cgroup_skb on the cgroup v2 root counts bytes, owners come from the cgroup socket hooks
 * and from walks of the processes' socket files. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "ebpf/hooks.h"
#include "ebpf/walk.h"
#include "ebpf/walk_procfs.h"
#include "util/report.h"
#include "compat.skel.h"

/* A program of this skeleton (skel in scope) to its cgroup, or where its section says. */
#define COMPAT_ATTACH(prog, cgroup_fd) \
	ebpf_hooks_attach(skel->progs.prog, &skel->links.prog, cgroup_fd)

/* Accepted sockets take their listener's owner (socket storage is cloned); those whose
 * listener had none, and sockets older than tcptop, get theirs from a walk of all socket
 * files. */
#define COMPAT_OWNER_WALK_GAP_NS 500000000ULL
#define COMPAT_OWNER_WAIT_NS 5000000000ULL

/* Opens and loads the object; without owner_iter, its iter/task_file program stays out
 * (kernels before 5.11 lack iter/task_file or bpf_sock_from_file), and owners are walked
 * through /proc instead. */
static int compat_load_object(struct ebpf_hooks *h, const struct options *opt,
			      bool owner_iter)
{
	struct compat_bpf *skel = compat_bpf__open();
	int err;

	if (!skel)
		return -errno;
	h->skel = skel;
	err = bpf_map__set_max_entries(skel->maps.flows, opt->max_flows);
	skel->rodata->close_ring_bytes = ebpf_close_ring_bytes(opt->max_flows);
	skel->rodata->tcptop_tgid = (uint32_t)getpid();
	skel->rodata->udp_per_socket = opt->udp_mode == UDP_PER_SOCKET;
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.close_events,
					       skel->rodata->close_ring_bytes);
	if (!err && ebpf_hooks_broken_on_purpose("compat"))
		ebpf_hooks_break_program(skel->progs.compat_state);
	if (!err && owner_iter && ebpf_hooks_broken_on_purpose("iterators"))
		ebpf_hooks_break_program(skel->progs.compat_walk_owners);
	if (!err && !owner_iter)
		err = bpf_program__set_autoload(skel->progs.compat_walk_owners, false);
	if (!err && !owner_iter)
		err = bpf_program__set_autoload(skel->progs.compat_adopt_listeners, false);
	if (!err)
		err = compat_bpf__load(skel);
	if (err) {
		compat_bpf__destroy(skel);
		h->skel = NULL;
	}
	return err;
}

static int compat_load(struct ebpf_hooks *h, const struct options *opt)
{
	struct compat_bpf *skel;
	int err;

	if (h->cgroup->fd < 0) {
		snprintf(h->refused, sizeof(h->refused),
			 "it attaches to the cgroup v2 root, and none could be opened");
		return -ENOENT;
	}
	h->owner_iter = true;
	err = compat_load_object(h, opt, true);
	if (err && !ebpf_hooks_broken_on_purpose("compat")) {
		h->owner_iter = false;
		err = compat_load_object(h, opt, false);
	}
	if (err) {
		snprintf(h->refused, sizeof(h->refused), "its programs did not load (%s%s)",
			 strerror(-err), ebpf_hooks_fault_note("compat"));
		return err;
	}
	skel = h->skel;
	h->flows_fd = bpf_map__fd(skel->maps.flows);
	h->listeners_fd = -1; /* its owners map gives accepted sockets their listener's */
	h->close_ring_fd = bpf_map__fd(skel->maps.close_events);
	h->flows_dropped = &skel->bss->flows_dropped;
	h->close_events_lost = &skel->bss->close_events_lost;
	h->obj = skel->obj;
	h->udp_per_socket = opt->udp_mode == UDP_PER_SOCKET;
	snprintf(h->describe, sizeof(h->describe),
		 "hook set: compat (cgroup_skb ingress/egress with bpf_tcp_sock, cgroup "
		 "sock_create/connect/sendmsg/recvmsg, %s, tcp_rcv_space_adjust, "
		 "inet_sock_set_state; "
		 "on %s%s%s)",
		 h->owner_iter ? "iter/task_file" : "owners from /proc (no iter/task_file)",
		 h->cgroup->private_mount ? "a private mount of " : "",
		 h->cgroup->private_mount ? "cgroup2" : h->cgroup->path,
		 h->udp_per_socket ? "; UDP of unconnected sockets counted per socket, "
				     "--udp-mode per-socket"
				   : "");
	return 0;
}

/* Owners of the sockets older than tcptop into their socket storage: the file walk finds
 * the holders, and listeners then take theirs through iter/tcp, so that the connections
 * they accept start with an owner. */
static void compat_record_old_owners(struct compat_bpf *skel)
{
	int err;

	skel->bss->walk_records_listeners = 1;
	err = ebpf_walk_owners(NULL, skel->progs.compat_walk_owners);
	skel->bss->walk_records_listeners = 0;
	if (!err)
		err = ebpf_walk_silently(skel->progs.compat_adopt_listeners);
	if (err)
		report_verbose("cannot record the owners of the sockets open before start "
			       "(%s); they show once found", strerror(-err));
}

static int compat_attach(struct ebpf_hooks *h)
{
	struct compat_bpf *skel = h->skel;
	int fd = h->cgroup->fd;
	int err;

	/* Owners first: sockets created from now on record theirs, and a walk records the
	 * holders of the sockets that are older, so that every flow the packet hooks meet
	 * can take its owner at first sight. The state hook before the packet hooks, so
	 * that new connections start from zero. */
	err = COMPAT_ATTACH(compat_sock_create, fd);
	if (!err)
		err = COMPAT_ATTACH(compat_connect4, fd);
	if (!err)
		err = COMPAT_ATTACH(compat_connect6, fd);
	if (!err)
		err = COMPAT_ATTACH(compat_sendmsg4, fd);
	if (!err)
		err = COMPAT_ATTACH(compat_sendmsg6, fd);
	if (!err)
		err = COMPAT_ATTACH(compat_recvmsg4, fd);
	if (!err)
		err = COMPAT_ATTACH(compat_recvmsg6, fd);
	if (!err && h->owner_iter)
		compat_record_old_owners(skel);
	if (!err)
		err = COMPAT_ATTACH(compat_tcp_read, -1);
	if (!err)
		err = COMPAT_ATTACH(compat_state, -1);
	if (!err)
		err = COMPAT_ATTACH(compat_egress, fd);
	if (!err)
		err = COMPAT_ATTACH(compat_ingress, fd);
	if (err)
		snprintf(h->refused, sizeof(h->refused), "cannot attach its programs to %s (%s)",
			 h->cgroup->path, strerror(-err));
	return err;
}

static void compat_walk_owners(struct ebpf_hooks *h, struct flow_table *table,
			       uint64_t now_ns)
{
	struct compat_bpf *skel = h->skel;
	int err = h->owner_iter ? ebpf_walk_owners(table, skel->progs.compat_walk_owners)
				: procfs_walk_owners(table);
	h->last_owner_walk_ns = now_ns;
	if (err)
		report_verbose("cannot walk the processes' sockets for their owners (%s)",
			       strerror(-err));
}

static void compat_after_drain(struct ebpf_hooks *h, struct flow_table *table,
			       uint64_t unowned_since_ns, uint64_t now_ns)
{
	/* The first call follows the start-up walk: record every holder once. A flow
	 * without an owner that is newer than the last walk gets a walk at once (a short
	 * connection may be gone by the next); older ones are retried twice a second for a
	 * while, as their process may not have called accept() yet. */
	if (!h->last_owner_walk_ns || unowned_since_ns > h->last_owner_walk_ns) {
		compat_walk_owners(h, table, now_ns);
		return;
	}
	if (!unowned_since_ns || now_ns - unowned_since_ns > COMPAT_OWNER_WAIT_NS)
		return;
	if (now_ns - h->last_owner_walk_ns < COMPAT_OWNER_WALK_GAP_NS)
		return;
	compat_walk_owners(h, table, now_ns);
}

static void compat_destroy(struct ebpf_hooks *h)
{
	compat_bpf__destroy(h->skel);
	h->skel = NULL;
}

const struct ebpf_hook_set ebpf_hooks_compat = {
	.name = "compat",
	.load = compat_load,
	.attach = compat_attach,
	.after_drain = compat_after_drain,
	.destroy = compat_destroy,
};
