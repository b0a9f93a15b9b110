/* cgroup paths to the names tcptop shows, and the table that keeps one of each. */
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cgroup/cgroup_name.h"

#define CONTAINER_ID_SHOWN 12 /* as docker ps shows an id */
#define CONTAINER_ID_LEN 64
#define POD_UID_LEN 36

/* ---------------------------------------------------------------- shortening */

struct component {
	const char *at;
	size_t len;
};

static bool has_prefix(struct component c, const char *prefix, size_t *rest)
{
	size_t n = strlen(prefix);

	if (c.len < n || memcmp(c.at, prefix, n) != 0)
		return false;
	*rest = n;
	return true;
}

static bool has_suffix(struct component c, const char *suffix)
{
	size_t n = strlen(suffix);

	return c.len >= n && memcmp(c.at + c.len - n, suffix, n) == 0;
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* A pod uid at s: 36 characters of hex and dashes (underscores in systemd's slice names). */
static bool is_pod_uid(const char *s, size_t n)
{
	if (n < POD_UID_LEN)
		return false;
	for (size_t i = 0; i < POD_UID_LEN; i++)
		if (!isxdigit((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

/* "pod<uid>" (cgroupfs driver) or "kubepods[-<qos>]-pod<uid>.slice" (systemd driver). */
static bool pod_uid(struct component c, char uid[POD_UID_LEN + 1])
{
	const char *at = NULL;
	size_t skip;

	if (has_prefix(c, "pod", &skip))
		at = c.at + skip;
	else if (has_prefix(c, "kubepods", &skip) && has_suffix(c, ".slice"))
		at = memmem(c.at, c.len, "-pod", 4) ? (char *)memmem(c.at, c.len, "-pod", 4) + 4
						    : NULL;
	if (!at || !is_pod_uid(at, (size_t)(c.at + c.len - at)))
		return false;
	for (int i = 0; i < POD_UID_LEN; i++)
		uid[i] = at[i] == '_' ? '-' : at[i];
	uid[POD_UID_LEN] = '\0';
	return true;
}

/* A container runtime's scope or directory: its name and the id's first 12 digits. */
static const char *container(struct component c, const struct component *parent,
			     char id[CONTAINER_ID_SHOWN + 1])
{
	static const struct {
		const char *prefix, *runtime;
	} scopes[] = {
		{ "docker-", "docker" },
		{ "cri-containerd-", "containerd" },
		{ "crio-", "crio" },
		{ "libpod-", "podman" },
	};
	const char *runtime = NULL;
	size_t skip = 0;

	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]) && !runtime; i++)
		if (has_prefix(c, scopes[i].prefix, &skip) && has_suffix(c, ".scope"))
			runtime = scopes[i].runtime;
	if (!runtime && c.len == CONTAINER_ID_LEN && parent) {
		/* cgroupfs driver: /docker/<id>, and a pod's containers: /kubepods/.../<id> */
		size_t unused;

		if (parent->len == 6 && memcmp(parent->at, "docker", 6) == 0)
			runtime = "docker";
		else if (has_prefix(*parent, "pod", &unused))
			runtime = "container";
	}
	if (!runtime || c.len < skip + CONTAINER_ID_LEN || !all_hex(c.at + skip, CONTAINER_ID_LEN))
		return NULL;
	memcpy(id, c.at + skip, CONTAINER_ID_SHOWN);
	id[CONTAINER_ID_SHOWN] = '\0';
	return runtime;
}

static size_t split(const char *path, struct component *out, size_t room)
{
	size_t n = 0;

	for (const char *p = path; *p && n < room;) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len)
			out[n++] = (struct component){ p, len };
		p += len + (end != NULL);
	}
	return n;
}

/* The path itself, or "..." and as much of its end as fits. */
static void whole_path(const char *path, char *out, size_t size)
{
	size_t len = strlen(path);

	if (len <= CGROUP_SHOWN_MAX) {
		snprintf(out, size, "%s", path);
		return;
	}
	snprintf(out, size, "...%s", path + len - (CGROUP_SHOWN_MAX - 3));
}

#define MAX_COMPONENTS 64

void cgroup_shorten(const char *path, char *out, size_t size)
{
	struct component c[MAX_COMPONENTS];
	char uid[POD_UID_LEN + 1], id[CONTAINER_ID_SHOWN + 1];
	size_t n = split(path, c, MAX_COMPONENTS);
	const char *runtime;

	/* A pod first: its containers are what a pod is made of. */
	for (size_t i = 0; i < n; i++) {
		if (!pod_uid(c[i], uid))
			continue;
		if (i + 1 < n && container(c[n - 1], &c[n - 2], id))
			snprintf(out, size, "pod:%s/%s", uid, id);
		else
			snprintf(out, size, "pod:%s", uid);
		return;
	}
	for (size_t i = n; i-- > 0;) {
		if ((runtime = container(c[i], i ? &c[i - 1] : NULL, id))) {
			snprintf(out, size, "%s:%s", runtime, id);
			return;
		}
	}
	for (size_t i = n; i-- > 0;) {
		if ((has_suffix(c[i], ".service") || has_suffix(c[i], ".scope")) &&
		    c[i].len <= CGROUP_SHOWN_MAX) {
			snprintf(out, size, "%.*s", (int)c[i].len, c[i].at);
			return;
		}
	}
	whole_path(n ? path : "/", out, size);
}

/* ---------------------------------------------------------------- interning */

#define BUCKETS 1024

struct interned {
	struct cgroup_name name;
	struct interned *next;
};

static struct interned *buckets[BUCKETS];
static pthread_mutex_t intern_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t path_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static struct interned *interned_new(const char *path)
{
	char shown[CGROUP_SHOWN_MAX + 1];
	struct interned *e = calloc(1, sizeof(*e));

	cgroup_shorten(path, shown, sizeof(shown));
	if (e) {
		e->name.path = strdup(path);
		e->name.shown = strdup(shown);
	}
	if (e && (!e->name.path || !e->name.shown)) {
		free((char *)e->name.path);
		free((char *)e->name.shown);
		free(e);
		e = NULL;
	}
	return e;
}

const struct cgroup_name *cgroup_name_intern(const char *path)
{
	uint32_t b = path_hash(path) % BUCKETS;
	struct interned *e;

	pthread_mutex_lock(&intern_lock);
	for (e = buckets[b]; e; e = e->next)
		if (strcmp(e->name.path, path) == 0)
			break;
	if (!e && (e = interned_new(path))) {
		e->next = buckets[b];
		buckets[b] = e;
	}
	pthread_mutex_unlock(&intern_lock);
	return e ? &e->name : NULL;
}
