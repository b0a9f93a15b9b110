/* Per-stage timing for -vv. */
#include "clock.h"
#include "report.h"
#include "stage_time.h"

uint64_t stage_time_start(void)
{
	return clock_now_ns(CLOCK_MONOTONIC);
}

void stage_time_add(struct stage_time *t, uint64_t start_ns)
{
	uint64_t ns = stage_time_start() - start_ns;

	t->count++;
	t->total_ns += ns;
	if (ns > t->max_ns)
		t->max_ns = ns;
}

void stage_time_report(const struct stage_time *t, const char *stage)
{
	if (report_verbose_level() >= 2 && t->count)
		report_verbose("stage %s: %llu intervals, mean %.3f ms, max %.3f ms", stage,
			       (unsigned long long)t->count, (double)t->total_ns / 1e6 / t->count,
			       (double)t->max_ns / 1e6);
}
