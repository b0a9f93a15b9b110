/* Capabilities of the calling thread, through libcap. Capabilities belong to a thread,
 * not to the process: each call changes the caller's sets only, and threads it starts
 * afterwards inherit them. */
#ifndef TCPTOP_CAPS_H
#define TCPTOP_CAPS_H

#include <stddef.h>

/* What work done after start-up may need a capability for. */
enum caps_need {
	CAPS_BPF_SYSCALL = 1, /* bpf() on maps and links already held (CAP_BPF) */
	CAPS_PROC_FDS = 2,    /* readlink of other processes' /proc/PID/fd/N (CAP_SYS_PTRACE) */
};

/* Effective and permitted become the capabilities needs asks for (those the thread has;
 * CAP_SYS_ADMIN stands in for a missing CAP_BPF), inheritable (and so ambient) none.
 * 0, or -1 with errno set. */
int caps_keep_only(unsigned needs);
/* Every set emptied: caps_keep_only(0). */
int caps_drop_all(void);
/* Lowers the effective set to nothing, or raises it back to the permitted set, so that
 * a probe can see what the thread could do without them. 0, or -1 with errno set. */
int caps_lower_effective(void);
int caps_raise_effective(void);
/* PR_SET_NO_NEW_PRIVS: no execve() can grant this thread, or threads it starts, more. */
int caps_forbid_new_privileges(void);
/* The thread's effective set in words ("none", "cap_sys_ptrace"), for -v. */
void caps_describe_effective(char *out, size_t len);

#endif
