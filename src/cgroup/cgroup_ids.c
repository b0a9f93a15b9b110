/* cgroup ids to names: a sorted array of the tree's directories, rebuilt by a walk. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cgroup/cgroup_ids.h"
#include "ebpf/cgroup_mount.h"
#include "util/array_grow.h"

/* A walk costs a few ms on a host with thousands of cgroups: not more than once a second,
 * however many unknown ids arrive. Bounded too, against a tree without end. */
#define WALK_EVERY_NS 1000000000ull
#define WALK_MAX_DEPTH 32
#define WALK_MAX_CGROUPS 200000

struct cgroup_entry {
	uint64_t id;
	const struct cgroup_name *name;
};

struct cgroup_ids {
	struct cgroup_mount root;
	struct cgroup_entry *entries;
	size_t count, room;
	uint64_t walked_ns;
	bool walked;
};

struct cgroup_ids *cgroup_ids_open(void)
{
	struct cgroup_ids *c = calloc(1, sizeof(*c));

	if (c && cgroup_mount_open(&c->root) < 0) {
		free(c);
		c = NULL;
	}
	return c;
}

void cgroup_ids_close(struct cgroup_ids *c)
{
	if (!c)
		return;
	cgroup_mount_close(&c->root);
	free(c->entries);
	free(c);
}

static void add(struct cgroup_ids *c, uint64_t id, const char *path)
{
	const struct cgroup_name *name;

	if (c->count >= WALK_MAX_CGROUPS)
		return;
	if (c->count == c->room) {
		size_t room = c->room ? 2 * c->room : 256;

		if (!array_grow((void **)&c->entries, room, sizeof(*c->entries)))
			return;
		c->room = room;
	}
	name = cgroup_name_intern(path);
	if (name)
		c->entries[c->count++] = (struct cgroup_entry){ id, name };
}

/* The directories below dir (path names it), each with its id: readdir's d_ino, which
 * for cgroupfs is the id the kernel gives BPF. */
static void walk(struct cgroup_ids *c, int dir, char *path, size_t len, int depth)
{
	DIR *d = fdopendir(dir);
	struct dirent *e;

	if (!d) {
		close(dir);
		return;
	}
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		int sub;

		if (e->d_type != DT_DIR || e->d_name[0] == '.' || len + 1 + n >= PATH_MAX)
			continue;
		path[len] = '/';
		memcpy(path + len + 1, e->d_name, n + 1);
		add(c, e->d_ino, path);
		if (depth >= WALK_MAX_DEPTH)
			continue;
		sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0)
			walk(c, sub, path, len + 1 + n, depth + 1);
	}
	path[len] = '\0';
	closedir(d);
}

static int by_id(const void *a, const void *b)
{
	const struct cgroup_entry *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static void rewalk(struct cgroup_ids *c)
{
	static char path[PATH_MAX];
	struct stat st;
	int dir = openat(c->root.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	c->count = 0;
	if (dir < 0)
		return;
	if (fstat(dir, &st) == 0)
		add(c, st.st_ino, "/");
	path[0] = '\0';
	walk(c, dir, path, 0, 1);
	qsort(c->entries, c->count, sizeof(*c->entries), by_id);
}

static const struct cgroup_name *find(const struct cgroup_ids *c, uint64_t id)
{
	size_t lo = 0, hi = c->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->entries[mid].id == id)
			return c->entries[mid].name;
		if (c->entries[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct cgroup_name *cgroup_ids_name(struct cgroup_ids *c, uint64_t id, uint64_t now_ns)
{
	const struct cgroup_name *name;

	if (!c || !id)
		return NULL;
	name = find(c, id);
	if (name || (c->walked && now_ns - c->walked_ns < WALK_EVERY_NS))
		return name;
	rewalk(c);
	c->walked = true;
	c->walked_ns = now_ns;
	return find(c, id);
}
