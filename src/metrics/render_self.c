/* The families about tcptop itself, and the top flows (--metrics-top). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "metrics/metrics_render.h"
#include "util/sysctl.h"

static double cpu_seconds(void)
{
	struct timespec t;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) < 0)
		return 0;
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* The resident set from /proc/self/statm, 0 when it cannot be read. */
static double resident_bytes(void)
{
	unsigned long size, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

static void process_families(struct exposition *e)
{
	exposition_family(e, "process_cpu_seconds", METRIC_COUNTER,
			  "User and system CPU time tcptop spent, all threads.");
	exposition_printf(e, "process_cpu_seconds_total %.6f\n", cpu_seconds());
	exposition_family(e, "process_resident_memory_bytes", METRIC_GAUGE,
			  "tcptop's resident memory.");
	exposition_printf(e, "process_resident_memory_bytes %.0f\n", resident_bytes());
}

static void snapshot_families(struct exposition *e, const struct snapshot_facts *f)
{
	exposition_family(e, "tcptop_flows", METRIC_GAUGE, "Flows in the last snapshot.");
	exposition_printf(e, "tcptop_flows{proto=\"tcp\"} %zu\ntcptop_flows{proto=\"udp\"} %zu\n",
			  f->tcp_flows, f->udp_flows);
	exposition_family(e, "tcptop_snapshots", METRIC_COUNTER, "Snapshots published.");
	exposition_printf(e, "tcptop_snapshots_total %" PRIu64 "\n", f->generation);
	exposition_family(e, "tcptop_snapshot_build_duration_seconds", METRIC_GAUGE,
			  "What building the last snapshot took.");
	exposition_printf(e, "tcptop_snapshot_build_duration_seconds %.9f\n", f->build_ns / 1e9);
	exposition_family(e, "tcptop_last_snapshot_timestamp_seconds", METRIC_GAUGE,
			  "When the last snapshot's counters were read (Unix time).");
	exposition_printf(e, "tcptop_last_snapshot_timestamp_seconds %.3f\n",
			  (double)f->time.tv_sec + f->time.tv_nsec / 1e9);
	exposition_family(e, "tcptop_lost", METRIC_COUNTER,
			  "What tcptop had to drop, by kind (man tcptop, LOSSES).");
	for (int i = 0; i < LOSS_COUNT; i++)
		exposition_printf(e, "tcptop_lost_total{kind=\"%s\"} %" PRIu64 "\n",
				  loss_key((enum loss)i), f->losses.n[i]);
}

/* Whether the kernel keeps BPF run counts and times now; it also reads 1 while any process
 * holds a BPF_ENABLE_STATS fd. */
#define BPF_STATS_SYSCTL "/proc/sys/kernel/bpf_stats_enabled"

/* Per program, when BPF stats are (or were, while tcptop ran) enabled: without them the
 * kernel counts nothing and zeros would read as "never ran". */
static void program_families(struct exposition *e, const struct snapshot_facts *f)
{
	bool counted = false;
	char name[4 * PROG_NAME_LEN + 1];

	for (uint32_t i = 0; i < f->nprogs; i++)
		counted |= f->progs[i].runs != 0;
	if (!f->nprogs || (!counted && !sysctl_is_set(BPF_STATS_SYSCTL)))
		return;
	exposition_family(e, "tcptop_bpf_program_runs", METRIC_COUNTER,
			  "Runs of each of tcptop's BPF programs, counted while BPF stats are "
			  "enabled (sysctl kernel.bpf_stats_enabled).");
	for (uint32_t i = 0; i < f->nprogs; i++) {
		exposition_label_value(f->progs[i].name, name);
		exposition_printf(e, "tcptop_bpf_program_runs_total{program=\"%s\"} %" PRIu64 "\n",
				  name, f->progs[i].runs);
	}
	exposition_family(e, "tcptop_bpf_program_run_seconds", METRIC_COUNTER,
			  "Time each of tcptop's BPF programs ran, counted while BPF stats are "
			  "enabled.");
	for (uint32_t i = 0; i < f->nprogs; i++) {
		exposition_label_value(f->progs[i].name, name);
		exposition_printf(e, "tcptop_bpf_program_run_seconds_total{program=\"%s\"} %.9f\n",
				  name, f->progs[i].run_ns / 1e9);
	}
}

static void ledger_families(struct exposition *e, const struct metrics_state *m)
{
	exposition_family(e, "tcptop_metrics_processes", METRIC_GAUGE,
			  "Process names with series now.");
	exposition_printf(e, "tcptop_metrics_processes %zu\n", m->nprocs);
	exposition_family(e, "tcptop_metrics_processes_expired", METRIC_COUNTER,
			  "Process names whose series went away after the grace period.");
	exposition_printf(e, "tcptop_metrics_processes_expired_total %" PRIu64 "\n", m->expired);
}

void render_self(struct exposition *e, const struct metrics_state *m,
		 const struct snapshot_facts *f)
{
	process_families(e);
	if (f->seen) {
		snapshot_families(e, f);
		program_families(e, f);
	}
	ledger_families(e, m);
}

void render_top_flows(struct exposition *e, const struct snapshot_facts *f)
{
	char comm[4 * TCPTOP_COMM_LEN + 1];

	if (!f->top_room)
		return;
	exposition_family(e, "tcptop_top_flow_bytes_per_second", METRIC_GAUGE,
			  "The busiest flows of the last snapshot (--metrics-top), by rank.");
	for (size_t i = 0; i < f->ntop; i++) {
		const struct top_flow *t = &f->top[i];

		exposition_label_value(t->comm, comm);
		for (int d = 0; d < 2; d++)
			exposition_printf(
				e,
				"tcptop_top_flow_bytes_per_second{rank=\"%zu\",comm=\"%s\","
				"proto=\"%s\",local=\"%s\",remote=\"%s\",direction=\"%s\"} "
				"%.3f\n",
				i + 1, comm, t->proto == TCPTOP_PROTO_UDP ? "udp" : "tcp", t->local,
				t->remote, d ? "rx" : "tx", d ? t->rx_rate : t->tx_rate);
	}
}

char *metrics_render(const struct metrics_state *m, const struct snapshot_facts *f,
		     enum exposition_format format, size_t *len)
{
	struct exposition e;

	exposition_init(&e, format);
	render_processes(&e, m);
	render_host(&e, m);
	render_top_flows(&e, f);
	render_self(&e, m, f);
	return exposition_finish(&e, len);
}
