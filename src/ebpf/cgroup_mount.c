/* Finding the cgroup v2 root. Most systems mount it at /sys/fs/cgroup, hybrid ones at
 * /sys/fs/cgroup/unified; /proc/mounts says where. When none is mounted we mount one in a
 * fresh directory, open it, and detach and remove the mount at once: the open directory
 * is all that attaching needs, and nothing is left behind even if tcptop is killed. */
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
#include "ebpf/cgroup_mount.h"

static int cgroup_mount_find(struct cgroup_mount *cg)
{
	FILE *mounts = setmntent("/proc/mounts", "re");
	struct mntent *m;
	int err = -ENOENT;

	if (!mounts)
		return -errno;
	while ((m = getmntent(mounts))) {
		if (strcmp(m->mnt_type, "cgroup2") != 0)
			continue;
		cg->fd = open(m->mnt_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cg->fd < 0) {
			err = -errno;
			continue;
		}
		snprintf(cg->path, sizeof(cg->path), "%s", m->mnt_dir);
		err = 0;
		break;
	}
	endmntent(mounts);
	return err;
}

static int cgroup_mount_private(struct cgroup_mount *cg)
{
	static const char *const bases[] = { "/run/tcptop-cgroup.XXXXXX",
					     "/tmp/tcptop-cgroup.XXXXXX" };
	int err = -ENOENT;

	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		snprintf(cg->path, sizeof(cg->path), "%s", bases[i]);
		if (!mkdtemp(cg->path)) {
			err = -errno;
			continue;
		}
		if (mount("cgroup2", cg->path, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL) == 0) {
			cg->fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			err = cg->fd < 0 ? -errno : 0;
			umount2(cg->path, MNT_DETACH);
		} else {
			err = -errno;
		}
		rmdir(cg->path);
		if (!err) {
			cg->private_mount = true;
			return 0;
		}
	}
	return err;
}

int cgroup_mount_open(struct cgroup_mount *cg)
{
	cg->fd = -1;
	cg->private_mount = false;
	cg->path[0] = '\0';
	if (cgroup_mount_find(cg) == 0)
		return 0;
	return cgroup_mount_private(cg);
}

void cgroup_mount_close(struct cgroup_mount *cg)
{
	if (cg->fd >= 0)
		close(cg->fd);
	cg->fd = -1;
}
