/* Can this process load and attach tcptop's BPF programs? Checked before trying, so that
 * the user gets one clear line instead of a libbpf permission error. */
#ifndef TCPTOP_PRIVILEGE_H
#define TCPTOP_PRIVILEGE_H

#include <stddef.h>

#define PRIVILEGE_MESSAGE \
	"needs root: run it with sudo, or give it CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN"

/* 0 when the effective uid is 0 or the effective capability set holds CAP_BPF,
 * CAP_PERFMON and CAP_NET_ADMIN (or CAP_SYS_ADMIN); otherwise -1 with PRIVILEGE_MESSAGE
 * (one line, no newline) in message. */
int privilege_check(char *message, size_t len);

#endif
