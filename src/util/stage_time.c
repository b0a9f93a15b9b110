/* Per-stage timing for -vv. */
#include "util/clock.h"
#include "util/report.h"
#include "util/stage_time.h"

uint64_t stage_time_start(void)
{
	return clock_now_ns(CLOCK_MONOTONIC);
}

void stage_time_add(struct stage_time *t, uint64_t start_ns)
{
	uint64_t ns = stage_time_start() - start_ns;

	if (!t->count)
		t->first_ns = ns;
	t->count++;
	t->total_ns += ns;
	if (ns > t->max_ns)
		t->max_ns = ns;
}

/* The first interval does the start-up's work (every flow new, every row written):
 * the mean of the others is the steady cost. */
void stage_time_report(const struct stage_time *t, const char *stage)
{
	double rest = t->count > 1 ? (double)(t->total_ns - t->first_ns) / 1e6 / (t->count - 1) :
				     (double)t->total_ns / 1e6;

	if (report_verbose_level() >= 2 && t->count)
		report_verbose("stage %s: %llu intervals, mean %.3f ms, max %.3f ms, "
			       "mean after the first %.3f ms",
			       stage, (unsigned long long)t->count,
			       (double)t->total_ns / 1e6 / t->count, (double)t->max_ns / 1e6, rest);
}

static uint64_t process_cpu_ns(void)
{
	return clock_now_ns(CLOCK_PROCESS_CPUTIME_ID);
}

/* The window opens once the second snapshot is written: the first builds and formats
 * every row, the second formats once each row idle since (the batch writer keeps the
 * text of idle rows only), both start-up work. */
#define STEADY_AFTER 2

void steady_cpu_mark(struct steady_cpu *c)
{
	if (report_verbose_level() < 2)
		return;
	c->last_cpu_ns = process_cpu_ns();
	c->last_ns = stage_time_start();
	if (++c->marks != STEADY_AFTER)
		return;
	c->first_cpu_ns = c->last_cpu_ns;
	c->first_ns = c->last_ns;
}

void steady_cpu_report(const struct steady_cpu *c)
{
	double seconds = (double)(c->last_ns - c->first_ns) / 1e9;

	if (report_verbose_level() >= 2 && c->marks > STEADY_AFTER && seconds > 0)
		report_verbose("cpu after the first two snapshots: %.2f%% of a core over %.2f s",
			       100.0 * (double)(c->last_cpu_ns - c->first_cpu_ns) / 1e9 / seconds,
			       seconds);
}
