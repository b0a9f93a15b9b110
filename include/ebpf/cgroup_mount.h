/* The cgroup v2 root that the cgroup sock_addr programs attach to: the mounted one, found
 * in /proc/mounts, or else a private mount made only to open it. */
#ifndef TCPTOP_CGROUP_MOUNT_H
#define TCPTOP_CGROUP_MOUNT_H

#include <stdbool.h>

struct cgroup_mount {
	int fd;             /* the root directory, open for attaching; -1 when closed */
	bool private_mount; /* we mounted it; the mount is already gone, fd keeps the root */
	char path[256];     /* where it is (or was) mounted, for messages */
};

/* 0 on success; -errno when no cgroup v2 hierarchy can be opened. */
int cgroup_mount_open(struct cgroup_mount *cg);
void cgroup_mount_close(struct cgroup_mount *cg);

#endif
