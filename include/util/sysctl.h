/* Reading a kernel switch from /proc/sys. */
#ifndef TCPTOP_UTIL_SYSCTL_H
#define TCPTOP_UTIL_SYSCTL_H

#include <stdbool.h>

/* Whether the integer sysctl at path (e.g. /proc/sys/kernel/bpf_stats_enabled) is non-zero;
 * false when it cannot be read. */
bool sysctl_is_set(const char *path);

#endif
