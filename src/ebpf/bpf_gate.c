/* Kernels before 6.5 refuse every bpf() command to a thread without CAP_BPF (or
 * CAP_SYS_ADMIN) while kernel.unprivileged_bpf_disabled is set; 6.5 moved the check to
 * where programs and maps are made, so reading maps one holds needs nothing. Which one
 * runs is seen by trying: a command on no fd at all fails with EPERM at that gate, and
 * with EBADF (EBADFD since 6.12) past it. */
#include <errno.h>
#include <stdio.h>
#include <bpf/bpf.h>
#include "ebpf/bpf_gate.h"
#include "util/caps.h"
#include "util/sysctl.h"

#define UNPRIVILEGED_BPF_SYSCTL "/proc/sys/kernel/unprivileged_bpf_disabled"

bool bpf_gate_closed_without_caps(void)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int err;

	/* With the sysctl at 0 an old kernel lets the probe through, and the sysctl may be
	 * set while tcptop runs: only a non-zero value makes the probe's answer last. */
	if (!sysctl_is_set(UNPRIVILEGED_BPF_SYSCTL) || caps_lower_effective() < 0)
		return true;
	err = bpf_obj_get_info_by_fd(-1, &info, &len);
	if (caps_raise_effective() < 0)
		return true;
	return err == -EPERM;
}
