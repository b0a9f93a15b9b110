/* bpf_floor empty|storage: loads bench/floor.bpf.c in that mode, attaches its three
 * programs, prints "ready", and holds them until SIGINT or SIGTERM. run-bench runs it in
 * tcptop's place while a TCP load runs, with BPF stats on, to measure the floors. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct floor_bpf *skel;
	struct sigaction sa;
	sigset_t block, wait_mask;
	int err;

	if (argc != 2 || (strcmp(argv[1], "empty") && strcmp(argv[1], "storage"))) {
		fprintf(stderr, "usage: bpf_floor empty|storage\n");
		return 2;
	}
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
	err = floor_bpf__load(skel);
	if (!err)
		err = floor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "bpf_floor: cannot load or attach its programs: %s\n",
			strerror(-err));
		floor_bpf__destroy(skel);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		sigsuspend(&wait_mask);
	floor_bpf__destroy(skel);
	return 0;
}
