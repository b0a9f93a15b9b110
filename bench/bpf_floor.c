/* bpf_floor empty|storage|udp-hooks: loads bench/floor.bpf.c in that mode, attaches its
 * programs (the three TCP tracepoints, or the four UDP sock_addr hooks at the cgroup v2
 * root), prints "ready", and holds them until SIGINT or SIGTERM. run-bench runs it in
 * tcptop's place while a load runs, to measure the floors. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cgroup_mount.h"
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

#define UDP_HOOKS 4

/* The UDP hooks' programs and where the skeleton keeps their links (destroyed with it). */
static void udp_hooks(struct floor_bpf *skel, struct bpf_program *progs[UDP_HOOKS],
		      struct bpf_link **links[UDP_HOOKS])
{
	progs[0] = skel->progs.floor_sendmsg4;
	progs[1] = skel->progs.floor_sendmsg6;
	progs[2] = skel->progs.floor_recvmsg4;
	progs[3] = skel->progs.floor_recvmsg6;
	links[0] = &skel->links.floor_sendmsg4;
	links[1] = &skel->links.floor_sendmsg6;
	links[2] = &skel->links.floor_recvmsg4;
	links[3] = &skel->links.floor_recvmsg6;
}

/* Only the mode's programs load: the TCP tracepoints, or the UDP hooks. */
static void choose_programs(struct floor_bpf *skel, bool udp)
{
	struct bpf_program *progs[UDP_HOOKS];
	struct bpf_link **links[UDP_HOOKS];

	udp_hooks(skel, progs, links);
	bpf_program__set_autoload(skel->progs.floor_send, !udp);
	bpf_program__set_autoload(skel->progs.floor_recv, !udp);
	bpf_program__set_autoload(skel->progs.floor_state, !udp);
	for (int i = 0; i < UDP_HOOKS; i++)
		bpf_program__set_autoload(progs[i], udp);
}

/* The UDP hooks at the cgroup v2 root, where tcptop attaches them; 0 or -errno. */
static int attach_udp_hooks(struct floor_bpf *skel, struct cgroup_mount *cg)
{
	struct bpf_program *progs[UDP_HOOKS];
	struct bpf_link **links[UDP_HOOKS];
	int err = cgroup_mount_open(cg);

	udp_hooks(skel, progs, links);
	for (int i = 0; !err && i < UDP_HOOKS; i++) {
		*links[i] = bpf_program__attach_cgroup(progs[i], cg->fd);
		err = *links[i] ? 0 : -errno;
	}
	return err;
}

int main(int argc, char **argv)
{
	struct cgroup_mount cg = { .fd = -1 };
	struct floor_bpf *skel;
	struct sigaction sa;
	sigset_t block, wait_mask;
	bool udp;
	int err;

	if (argc != 2 || (strcmp(argv[1], "empty") && strcmp(argv[1], "storage") &&
			  strcmp(argv[1], "udp-hooks"))) {
		fprintf(stderr, "usage: bpf_floor empty|storage|udp-hooks\n");
		return 2;
	}
	udp = !strcmp(argv[1], "udp-hooks");
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
	skel->rodata->floor_storage = !strcmp(argv[1], "storage");
	choose_programs(skel, udp);
	err = floor_bpf__load(skel);
	if (!err)
		err = udp ? attach_udp_hooks(skel, &cg) : floor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "bpf_floor: cannot load or attach its programs: %s\n",
			strerror(-err));
		floor_bpf__destroy(skel);
		cgroup_mount_close(&cg);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		sigsuspend(&wait_mask);
	floor_bpf__destroy(skel);
	cgroup_mount_close(&cg);
	return 0;
}
