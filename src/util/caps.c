/* Capabilities of the calling thread (util/caps.h), through libcap. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include "util/caps.h"

/* Added in Linux 5.8; older headers lack it. */
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool permitted(cap_t now, cap_value_t cap)
{
	cap_flag_value_t value = CAP_CLEAR;

	return cap_get_flag(now, cap, CAP_PERMITTED, &value) == 0 && value == CAP_SET;
}

static int add(cap_t want, cap_value_t cap)
{
	if (cap_set_flag(want, CAP_PERMITTED, 1, &cap, CAP_SET) < 0)
		return -1;
	return cap_set_flag(want, CAP_EFFECTIVE, 1, &cap, CAP_SET);
}

/* The capabilities needs asks for that now holds: CAP_SYS_ADMIN covers bpf() for a thread
 * given it instead of CAP_BPF. One that is missing is not added (it could not be). */
static int wanted(cap_t now, unsigned needs, cap_t want)
{
	int err = 0;

	if ((needs & CAPS_BPF_SYSCALL) && permitted(now, CAP_BPF))
		err = add(want, CAP_BPF);
	else if ((needs & CAPS_BPF_SYSCALL) && permitted(now, CAP_SYS_ADMIN))
		err = add(want, CAP_SYS_ADMIN);
	if (!err && (needs & CAPS_PROC_FDS) && permitted(now, CAP_SYS_PTRACE))
		err = add(want, CAP_SYS_PTRACE);
	return err;
}

int caps_keep_only(unsigned needs)
{
	cap_t now = cap_get_proc(), want = cap_init();
	int err = now && want ? wanted(now, needs, want) : -1;

	/* Inheritable is left empty: the kernel then clears the ambient set too. */
	if (!err)
		err = cap_set_proc(want);
	cap_free(want);
	cap_free(now);
	return err;
}

int caps_drop_all(void)
{
	return caps_keep_only(0);
}

/* Effective becomes permitted (raise) or nothing (lower); the other sets stay. */
static int set_effective(bool raise)
{
	cap_t now = cap_get_proc();
	int err = now ? cap_clear_flag(now, CAP_EFFECTIVE) : -1;

	for (cap_value_t cap = 0; !err && raise && cap < cap_max_bits(); cap++)
		if (permitted(now, cap))
			err = cap_set_flag(now, CAP_EFFECTIVE, 1, &cap, CAP_SET);
	if (!err)
		err = cap_set_proc(now);
	cap_free(now);
	return err;
}

int caps_lower_effective(void)
{
	return set_effective(false);
}

int caps_raise_effective(void)
{
	return set_effective(true);
}

int caps_forbid_new_privileges(void)
{
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

void caps_describe_effective(char *out, size_t len)
{
	cap_t now = cap_get_proc();
	size_t used = 0;

	snprintf(out, len, "none");
	for (cap_value_t cap = 0; now && cap < cap_max_bits() && used < len; cap++) {
		cap_flag_value_t value = CAP_CLEAR;
		char *name;

		if (cap_get_flag(now, cap, CAP_EFFECTIVE, &value) < 0 || value != CAP_SET)
			continue;
		name = cap_to_name(cap);
		used += (size_t)snprintf(out + used, len - used, "%s%s", used ? ", " : "",
					 name ? name : "?");
		cap_free(name);
	}
	cap_free(now);
}
