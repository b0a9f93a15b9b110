/* BPF run-time statistics for make bench, after bpftop's model.
 *   bpf_cost hold        enable BPF stats (BPF_STATS_RUN_TIME) and keep them on until
 *                        standard input closes; prints "ready" once they are on
 *   bpf_cost sample PID  one line per BPF program process PID holds (found through the
 *                        prog_id lines of /proc/PID/fdinfo, so other tcptop instances on
 *                        the host are not counted): "prog ID NAME RUN_TIME_NS RUN_CNT",
 *                        preceded by "mono_ns T"
 * The driver subtracts two samples: ns/event = Δrun_time_ns / Δrun_cnt, share of a core =
 * Δrun_time_ns / Δt. */
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STATS_SYSCTL "/proc/sys/kernel/bpf_stats_enabled"
#define MAX_PROGS 64

static int write_sysctl(const char *value)
{
	FILE *f = fopen(STATS_SYSCTL, "w");
	int ok;

	if (!f)
		return -1;
	ok = fputs(value, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int hold_stats(void)
{
	char buf[64];
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME), set_sysctl = 0;

	/* Like bpftop: fall back to the sysctl, and restore it only if we set it. */
	if (fd < 0) {
		if (write_sysctl("1") < 0) {
			fprintf(stderr, "bpf_cost: cannot enable BPF stats: %s\n", strerror(errno));
			return 1;
		}
		set_sysctl = 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	if (set_sysctl)
		write_sysctl("0");
	if (fd >= 0)
		close(fd);
	return 0;
}

/* The ids of the programs whose fds (or links) the process holds, without duplicates. */
static int held_prog_ids(const char *pid, __u32 *ids, int max)
{
	char path[512], line[256];
	struct dirent *d;
	unsigned int id;
	int n = 0, i, seen;
	DIR *dir;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/fdinfo", pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir)) && n < max) {
		snprintf(path, sizeof(path), "/proc/%s/fdinfo/%s", pid, d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "prog_id: %u", &id) != 1)
				continue;
			for (seen = 0, i = 0; i < n; i++)
				seen |= ids[i] == id;
			if (!seen && n < max)
				ids[n++] = id;
		}
		fclose(f);
	}
	closedir(dir);
	return n;
}

static int sample(const char *pid)
{
	struct bpf_prog_info info;
	__u32 len, ids[MAX_PROGS];
	struct timespec ts;
	int i, n, fd;

	n = held_prog_ids(pid, ids, MAX_PROGS);
	if (n < 0) {
		fprintf(stderr, "bpf_cost: no process %s: %s\n", pid, strerror(errno));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("mono_ns %llu\n", (unsigned long long)ts.tv_sec * 1000000000ULL +
					 (unsigned long long)ts.tv_nsec);
	for (i = 0; i < n; i++) {
		fd = bpf_prog_get_fd_by_id(ids[i]);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
			printf("prog %u %s %llu %llu\n", info.id, info.name[0] ? info.name : "-",
			       (unsigned long long)info.run_time_ns,
			       (unsigned long long)info.run_cnt);
		close(fd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "hold") == 0)
		return hold_stats();
	if (argc == 3 && strcmp(argv[1], "sample") == 0)
		return sample(argv[2]);
	fprintf(stderr, "usage: bpf_cost hold | bpf_cost sample PID\n");
	return 2;
}
