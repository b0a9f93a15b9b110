/* Socket cgroup ids (bpf: the cgroup v2 directory's inode number) to their names, from a
 * walk of the cgroup v2 tree, redone on a miss at most once a second. The compute thread's
 * own: not thread-safe. */
#ifndef TCPTOP_CGROUP_IDS_H
#define TCPTOP_CGROUP_IDS_H

#include <stdint.h>
#include "cgroup/cgroup_name.h"

struct cgroup_ids;

/* Opens the cgroup v2 root now (while tcptop may still mount one); NULL when there is none:
 * every name is then unknown. */
struct cgroup_ids *cgroup_ids_open(void);
/* The name of cgroup id, or NULL when it is not known (0, gone before it was seen, or no
 * cgroup v2 tree). now_ns: CLOCK_MONOTONIC, for the walk's rate limit. */
const struct cgroup_name *cgroup_ids_name(struct cgroup_ids *c, uint64_t id, uint64_t now_ns);
void cgroup_ids_close(struct cgroup_ids *c);

#endif
