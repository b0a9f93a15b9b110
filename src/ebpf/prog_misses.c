/* Runs the kernel skipped, read from bpf_prog_info (ebpf/prog_misses.h). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <string.h>
#include "ebpf/prog_misses.h"

uint64_t prog_misses_read(const struct bpf_object *obj)
{
	struct bpf_program *prog;
	uint64_t sum = 0;

	if (!obj)
		return 0;
	bpf_object__for_each_program(prog, obj)
	{
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
			sum += info.recursion_misses;
	}
	return sum;
}
