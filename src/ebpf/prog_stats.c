/* The programs' counters, read from bpf_prog_info (ebpf/prog_stats.h). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>
#include "ebpf/prog_stats.h"

size_t prog_stats_read(const struct bpf_object *obj, struct prog_stat *out, size_t room)
{
	struct bpf_program *prog;
	size_t n = 0;

	if (!obj)
		return 0;
	bpf_object__for_each_program(prog, obj)
	{
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (n == room)
			break;
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		/* The function's name, whole (the kernel keeps 15 bytes of it), as bpftool
		 * shows it. */
		snprintf(out[n].name, sizeof(out[n].name), "%s", bpf_program__name(prog));
		out[n].runs = info.run_cnt;
		out[n].run_ns = info.run_time_ns;
		out[n].misses = info.recursion_misses;
		n++;
	}
	return n;
}
