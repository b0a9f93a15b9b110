/* A cgroup's path and the short name tcptop shows for it: the unit the path names (a
 * systemd service, a container, a Kubernetes pod). The rules are in tcptop(8), "CGROUP
 * NAMES". Interned: one per path for the life of the process, so that rows hold a pointer,
 * compare pointers, and never free one. */
#ifndef TCPTOP_CGROUP_NAME_H
#define TCPTOP_CGROUP_NAME_H

#include <stddef.h>

struct cgroup_name {
	const char *path;  /* below the cgroup v2 root, starting with '/' */
	const char *shown; /* e.g. "nginx.service", "docker:0123456789ab", "pod:<uid>" */
};

/* The longest shown name, in bytes; a longer path keeps its end, after "...". */
#define CGROUP_SHOWN_MAX 127

/* The shown name of path, into out (size bytes, at least CGROUP_SHOWN_MAX + 1). */
void cgroup_shorten(const char *path, char *out, size_t size);
/* The one cgroup_name for path (copied); NULL when out of memory. Any thread. */
const struct cgroup_name *cgroup_name_intern(const char *path);

#endif
