/* The live view's cost line (ui/ui_cost.h). */
#include <stdio.h>
#include <time.h>
#include "ui/ui_cost.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void ui_cost_sample(struct ui_cost *c, const struct snapshot *s)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC), cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	uint64_t runs = 0, run_ns = 0;

	for (uint32_t i = 0; i < s->nprogs && i < PROG_STATS_MAX; i++) {
		runs += s->progs[i].runs;
		run_ns += s->progs[i].run_ns;
	}
	if (c->valid && now > c->mono_ns) {
		double wall = (double)(now - c->mono_ns) / 1e9;
		double span = s->mono_ns > c->stats_ns ? (double)(s->mono_ns - c->stats_ns) / 1e9
						       : wall;

		c->cpu_share = (double)(cpu - c->cpu_ns) / 1e9 / wall;
		c->events_per_s = runs > c->runs ? (double)(runs - c->runs) / span : 0;
		c->ns_per_event = runs > c->runs
					  ? (double)(run_ns - c->run_ns) / (double)(runs - c->runs)
					  : 0;
		c->measured = true;
	}
	c->stats_seen = c->stats_seen || runs > 0;
	c->valid = true;
	c->mono_ns = now;
	c->cpu_ns = cpu;
	c->stats_ns = s->mono_ns;
	c->runs = runs;
	c->run_ns = run_ns;
	c->nprogs = s->nprogs;
}

/* 34.5k, 1.20M: events per second at a glance. */
static void per_second(double v, char *out, size_t len)
{
	if (v >= 1e6)
		snprintf(out, len, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(out, len, "%.1fk", v / 1e3);
	else
		snprintf(out, len, "%.0f", v);
}

void ui_cost_text(const struct ui_cost *c, char *out, size_t len)
{
	char events[24];
	int n;

	if (!c->measured) {
		snprintf(out, len, "Cost: measuring (two snapshots needed)");
		return;
	}
	n = snprintf(out, len, "Cost: tcptop %.1f%% CPU", 100 * c->cpu_share);
	if (n < 0 || (size_t)n >= len)
		return;
	out += n;
	len -= (size_t)n;
	if (!c->nprogs) {
		snprintf(out, len, "; no BPF programs (not watching the kernel)");
	} else if (!c->stats_seen) {
		snprintf(out, len,
			 "; BPF stats off: kernel.bpf_stats_enabled=1 shows ns per event (at a "
			 "cost to every BPF program run)");
	} else {
		per_second(c->events_per_s, events, sizeof(events));
		snprintf(out, len, "; BPF %.0f ns/event x %s events/s = %.1f%% CPU (%u programs)",
			 c->ns_per_event, events, c->events_per_s * c->ns_per_event / 1e7,
			 c->nprogs);
	}
}
