/* bpf_floor empty|storage|udp-hooks|udp-peer|udp-route|udp-lockless|udp-count|
 * udp-route-count: loads bench/floor.bpf.c in that mode, attaches its programs (the three
 * TCP tracepoints; the four UDP sock_addr hooks at the cgroup v2 root; those and the
 * send/receive tracepoints; the send/receive and route lookup tracepoints and the recvmsg
 * hooks; the send/receive tracepoints, cgroup_skb ingress and the route lookup and receive
 * drop tracepoints; the send/receive tracepoints counting UDP; or udp-route's hooks
 * counting UDP per peer), prints "ready", and holds them until SIGINT or SIGTERM.
 * run-bench runs it in tcptop's place while a load runs, to measure the floors. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "ebpf/cgroup_mount.h"
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The UDP hooks are the object's cgroup sock_addr programs. */
static bool is_udp_hook(const struct bpf_program *prog)
{
	return bpf_program__type(prog) == BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
}

/* Programs attached to a cgroup rather than by the skeleton. */
static bool is_cgroup_program(const struct bpf_program *prog)
{
	return is_udp_hook(prog) || bpf_program__type(prog) == BPF_PROG_TYPE_CGROUP_SKB;
}

enum floor_hooks {
	FLOOR_TCP_TRACEPOINTS, /* empty, storage */
	FLOOR_UDP_HOOKS,       /* udp-hooks */
	FLOOR_UDP_PEER,        /* udp-peer: the UDP hooks and the send/receive tracepoints */
	FLOOR_UDP_ROUTE,       /* udp-route: the modern set's per-peer hooks since issue 26 */
	FLOOR_UDP_LOCKLESS,    /* udp-lockless: no sock_addr hook */
	FLOOR_UDP_TRACEPOINTS, /* udp-count: the send/receive tracepoints only */
};

/* What each mode attaches, and what its programs do (floor.bpf.c's switches). */
struct floor_mode {
	const char *name;
	enum floor_hooks hooks;
	bool storage, udp_count, udp_peer;
};

static const struct floor_mode floor_modes[] = {
	{ "empty", FLOOR_TCP_TRACEPOINTS, false, false, false },
	{ "storage", FLOOR_TCP_TRACEPOINTS, true, false, false },
	{ "udp-hooks", FLOOR_UDP_HOOKS, false, false, false },
	{ "udp-peer", FLOOR_UDP_PEER, false, false, false },
	{ "udp-route", FLOOR_UDP_ROUTE, false, false, false },
	{ "udp-lockless", FLOOR_UDP_LOCKLESS, false, false, false },
	{ "udp-count", FLOOR_UDP_TRACEPOINTS, false, true, false },
	{ "udp-route-count", FLOOR_UDP_ROUTE, false, true, true },
};

static const struct floor_mode *mode_named(const char *name)
{
	for (size_t i = 0; i < sizeof(floor_modes) / sizeof(floor_modes[0]); i++)
		if (!strcmp(floor_modes[i].name, name))
			return &floor_modes[i];
	return NULL;
}

static bool in_mode(const struct floor_bpf *skel, const struct bpf_program *prog,
		    enum floor_hooks hooks)
{
	bool send_recv = prog == skel->progs.floor_send || prog == skel->progs.floor_recv;

	switch (hooks) {
	case FLOOR_TCP_TRACEPOINTS:
		return send_recv || prog == skel->progs.floor_state;
	case FLOOR_UDP_HOOKS:
		return is_udp_hook(prog);
	case FLOOR_UDP_PEER:
		return send_recv || is_udp_hook(prog);
	case FLOOR_UDP_ROUTE:
		return send_recv || prog == skel->progs.floor_fib4 ||
		       prog == skel->progs.floor_fib6 || prog == skel->progs.floor_recvmsg4 ||
		       prog == skel->progs.floor_recvmsg6;
	case FLOOR_UDP_TRACEPOINTS:
		return send_recv;
	case FLOOR_UDP_LOCKLESS:
		return send_recv || prog == skel->progs.floor_ingress ||
		       prog == skel->progs.floor_fib4 || prog == skel->progs.floor_fib6 ||
		       prog == skel->progs.floor_udp_fail;
	}
	return false;
}

/* Only the mode's programs load. */
static void choose_programs(struct floor_bpf *skel, enum floor_hooks hooks)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, in_mode(skel, prog, hooks));
}

#define UDP_HOOK_COUNT 5 /* sendmsg4/6, recvmsg4/6, or ingress */

/* The mode's cgroup programs at the cgroup v2 root, where tcptop attaches its own, their
 * links in links[] (NULL-initialised, for the caller to destroy); 0 or -errno. */
static int attach_udp_hooks(struct floor_bpf *skel, struct cgroup_mount *cg,
			    struct bpf_link *links[UDP_HOOK_COUNT])
{
	struct bpf_program *prog;
	int err = cgroup_mount_open(cg), n = 0;

	bpf_object__for_each_program(prog, skel->obj) {
		if (err || !is_cgroup_program(prog) || !bpf_program__autoload(prog))
			continue;
		if (n == UDP_HOOK_COUNT)
			return -E2BIG;
		links[n] = bpf_program__attach_cgroup(prog, cg->fd);
		err = links[n++] ? 0 : -errno;
	}
	return err;
}

/* Everything main set up, in reverse. */
static void release(struct floor_bpf *skel, struct bpf_link *links[UDP_HOOK_COUNT],
		    struct cgroup_mount *cg)
{
	for (int i = 0; i < UDP_HOOK_COUNT; i++)
		bpf_link__destroy(links[i]);
	floor_bpf__destroy(skel);
	cgroup_mount_close(cg);
}

int main(int argc, char **argv)
{
	struct cgroup_mount cg = { .fd = -1 };
	struct bpf_link *links[UDP_HOOK_COUNT] = { NULL };
	struct floor_bpf *skel;
	struct sigaction sa;
	sigset_t block, wait_mask;
	const struct floor_mode *mode;
	enum floor_hooks hooks;
	int err;

	mode = argc == 2 ? mode_named(argv[1]) : NULL;
	if (!mode) {
		fprintf(stderr, "usage: bpf_floor empty|storage|udp-hooks|udp-peer|udp-route|"
				"udp-lockless|udp-count|udp-route-count\n");
		return 2;
	}
	hooks = mode->hooks;
	/* Blocked until sigsuspend, so that a signal cannot slip in before the wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "bpf_floor: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->floor_storage = mode->storage;
	skel->rodata->floor_udp_count = mode->udp_count;
	skel->rodata->floor_udp_peer = mode->udp_peer;
	choose_programs(skel, hooks);
	err = floor_bpf__load(skel);
	/* The skeleton attaches the tracepoints and skips the cgroup programs, which need a
	 * cgroup. */
	if (!err && hooks != FLOOR_UDP_HOOKS)
		err = floor_bpf__attach(skel);
	if (!err && hooks != FLOOR_TCP_TRACEPOINTS && hooks != FLOOR_UDP_TRACEPOINTS)
		err = attach_udp_hooks(skel, &cg, links);
	if (err) {
		fprintf(stderr, "bpf_floor: cannot load or attach its programs: %s\n",
			strerror(-err));
		release(skel, links, &cg);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		sigsuspend(&wait_mask);
	release(skel, links, &cg);
	return 0;
}
