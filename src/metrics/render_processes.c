/* The per-process and host families: traffic counters by protocol and direction,
 * retransmits, connections by state, the RTT histogram. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "metrics/metrics_render.h"
#include "util/addr.h"

static const char *const proto_names[PROTO_COUNT] = { "tcp", "udp" };
static const char *const direction_names[DIR_COUNT] = { "tx", "rx" };

/* name{<labels>proto="tcp",direction="tx"} n, for each protocol and direction; labels
 * ends with a comma when not empty. */
static void traffic_samples(struct exposition *e, const char *name, const char *labels,
			    const uint64_t counts[PROTO_COUNT][DIR_COUNT])
{
	for (int p = 0; p < PROTO_COUNT; p++)
		for (int d = 0; d < DIR_COUNT; d++)
			exposition_printf(
				e, "%s_total{%sproto=\"%s\",direction=\"%s\"} %" PRIu64 "\n", name,
				labels, proto_names[p], direction_names[d], counts[p][d]);
}

static void comm_label(const struct process_series *p, char *out)
{
	char value[4 * TCPTOP_COMM_LEN + 1];

	exposition_label_value(p->comm, value);
	sprintf(out, "comm=\"%s\",", value);
}

/* One traffic family per process: its packets, or else its bytes. */
static void process_traffic(struct exposition *e, const struct metrics_state *m, const char *name,
			    const char *help, bool packets)
{
	char labels[4 * TCPTOP_COMM_LEN + 16];

	exposition_family(e, name, METRIC_COUNTER, help);
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct traffic_counters *t = &m->procs[i].traffic;

		comm_label(&m->procs[i], labels);
		traffic_samples(e, name, labels, packets ? t->packets : t->bytes);
	}
}

static void process_retransmits(struct exposition *e, const struct metrics_state *m)
{
	char labels[4 * TCPTOP_COMM_LEN + 16];

	exposition_family(e, "tcptop_process_retransmits", METRIC_COUNTER,
			  "TCP segments the process's connections retransmitted.");
	for (size_t i = 0; i < m->nprocs; i++) {
		comm_label(&m->procs[i], labels);
		labels[strlen(labels) - 1] = '\0';
		exposition_printf(e, "tcptop_process_retransmits_total{%s} %" PRIu64 "\n", labels,
				  m->procs[i].traffic.retransmits);
	}
}

static void process_connections(struct exposition *e, const struct metrics_state *m)
{
	char labels[4 * TCPTOP_COMM_LEN + 16];

	exposition_family(e, "tcptop_process_connections", METRIC_GAUGE,
			  "The process's TCP connections by state in the last snapshot.");
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct process_series *p = &m->procs[i];

		comm_label(p, labels);
		for (int st = 0; st < TCPTOP_TCP_MAX_STATES; st++)
			if (p->states_seen & (1u << st))
				exposition_printf(
					e, "tcptop_process_connections{%sstate=\"%s\"} %u\n",
					labels, tcp_state_name((uint8_t)st), p->connections[st]);
	}
}

static void rtt_histogram(struct exposition *e, const struct process_series *p, char *labels)
{
	uint64_t cumulative = 0;

	for (int b = 0; b <= RTT_BUCKETS; b++) {
		cumulative += p->rtt_buckets[b];
		if (b < RTT_BUCKETS)
			exposition_printf(
				e, "tcptop_process_rtt_seconds_bucket{%sle=\"%s\"} %" PRIu64 "\n",
				labels, rtt_bucket_labels[b], cumulative);
		else
			exposition_printf(
				e, "tcptop_process_rtt_seconds_bucket{%sle=\"+Inf\"} %" PRIu64 "\n",
				labels, cumulative);
	}
	labels[strlen(labels) - 1] = '\0';
	exposition_printf(e, "tcptop_process_rtt_seconds_sum{%s} %.9g\n", labels, p->rtt_sum_s);
	exposition_printf(e, "tcptop_process_rtt_seconds_count{%s} %" PRIu64 "\n", labels,
			  p->rtt_count);
}

static void process_rtt(struct exposition *e, const struct metrics_state *m)
{
	char labels[4 * TCPTOP_COMM_LEN + 16];

	exposition_family(e, "tcptop_process_rtt_seconds", METRIC_HISTOGRAM,
			  "Smoothed RTT of the process's ESTABLISHED TCP connections, each "
			  "observed once per snapshot.");
	for (size_t i = 0; i < m->nprocs; i++) {
		comm_label(&m->procs[i], labels);
		rtt_histogram(e, &m->procs[i], labels);
	}
}

void render_processes(struct exposition *e, const struct metrics_state *m)
{
	process_traffic(e, m, "tcptop_process_bytes",
			"Bytes the process's flows sent (tx) and received (rx) since tcptop "
			"started; closed flows stay counted.",
			false);
	process_traffic(e, m, "tcptop_process_packets",
			"Packets (TCP: segments) the process's flows sent and received since "
			"tcptop started.",
			true);
	process_retransmits(e, m);
	process_connections(e, m);
	process_rtt(e, m);
}

void render_host(struct exposition *e, const struct metrics_state *m)
{
	exposition_family(e, "tcptop_host_bytes", METRIC_COUNTER,
			  "Bytes all flows sent and received since tcptop started, with those "
			  "of no known process.");
	traffic_samples(e, "tcptop_host_bytes", "", m->host.bytes);
	exposition_family(e, "tcptop_host_packets", METRIC_COUNTER,
			  "Packets all flows sent and received since tcptop started.");
	traffic_samples(e, "tcptop_host_packets", "", m->host.packets);
	exposition_family(e, "tcptop_host_retransmits", METRIC_COUNTER,
			  "TCP segments all connections retransmitted since tcptop started.");
	exposition_printf(e, "tcptop_host_retransmits_total %" PRIu64 "\n", m->host.retransmits);
}
