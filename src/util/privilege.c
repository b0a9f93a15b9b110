/* The privilege check: effective uid, else the effective capability set via capget(2),
 * which needs no libcap. */
#include <linux/capability.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/privilege.h"

/* Added in Linux 5.8; older headers lack them. */
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool has_cap(const struct __user_cap_data_struct data[2], int cap)
{
	return data[cap / 32].effective & (UINT32_C(1) << (cap % 32));
}

/* CAP_SYS_ADMIN stands in for all three: the kernel's bpf_capable(), perfmon_capable()
 * and (since 6.7) bpf_net_capable() accept it, and kernels before 5.8 require it. */
static bool has_bpf_caps(void)
{
	struct __user_cap_header_struct header = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &header, data) < 0)
		return false;
	return has_cap(data, CAP_SYS_ADMIN) ||
	       (has_cap(data, CAP_BPF) && has_cap(data, CAP_PERFMON) &&
		has_cap(data, CAP_NET_ADMIN));
}

int privilege_check(char *message, size_t len)
{
	if (geteuid() == 0 || has_bpf_caps())
		return 0;
	if (message && len > 0)
		snprintf(message, len, "%s", PRIVILEGE_MESSAGE);
	return -1;
}
