/* The replay backend: N synthetic flows whose counters are a pure function of the flow's
 * index and the drain number, so tests can predict every byte and benchmarks can scale
 * to a million flows without a kernel. Spec "synthetic:N[:ACTIVE[:PROCS]]": the first
 * ACTIVE flows (default all) move at every drain; the rest are idle after the first drain
 * and cost nothing, as idle flows should. Flow i belongs to process i % PROCS (default
 * 64): pid 1000 + i % PROCS, comm "replay<i % PROCS>". Even indexes are TCP, odd ones
 * UDP; every fourth flow is IPv6. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"
#include "util/report.h"

#define REPLAY_OWNERS 64

struct replay_state {
	uint64_t nflows;
	uint64_t active;
	uint64_t drains;
	uint64_t procs;
	char (*comms)[TCPTOP_COMM_LEN]; /* procs of them, formatted once, not per flow */
	char description[128];
};

/* Distinct per flow, so that sorting has something to do. */
uint64_t replay_tx_per_drain(uint64_t index)
{
	return 1000 + index % 97 * 100;
}

uint64_t replay_rx_per_drain(uint64_t index)
{
	return 500 + index % 89 * 10;
}

static int replay_open(struct backend *b, const struct options *opt)
{
	struct replay_state *st = calloc(1, sizeof(*st));
	unsigned long long n = 0, active = 0, procs = 0;
	int fields;

	if (!st) {
		report_error("replay backend: out of memory");
		return -1;
	}
	fields = sscanf(opt->replay_spec, "synthetic:%llu:%llu:%llu", &n, &active, &procs);
	if (fields < 1 || n == 0 || (fields == 3 && (procs == 0 || procs > REPLAY_PROCS_MAX))) {
		report_error("--replay '%s': expected synthetic:N[:ACTIVE[:PROCS]]",
			     opt->replay_spec);
		free(st);
		return -1;
	}
	st->nflows = n;
	st->active = fields >= 2 && active < n ? active : n;
	st->procs = fields == 3 ? procs : REPLAY_OWNERS;
	st->comms = calloc(st->procs, sizeof(*st->comms));
	if (!st->comms) {
		report_error("replay backend: out of memory");
		free(st);
		return -1;
	}
	for (uint64_t i = 0; i < st->procs; i++)
		snprintf(st->comms[i], sizeof(st->comms[i]), "replay%u",
			 (unsigned)(i % REPLAY_PROCS_MAX));
	snprintf(st->description, sizeof(st->description),
		 "hook set: replay (synthetic, %llu flows, %llu active, %llu processes)", n,
		 (unsigned long long)st->active, (unsigned long long)st->procs);
	b->state = st;
	return 0;
}

static int replay_attach(struct backend *b, struct flow_table *table)
{
	(void)b;
	(void)table;
	return 0;
}

static void synth_flow(const struct replay_state *st, uint64_t index, uint64_t drains,
		       struct flow_key *key, struct flow_value *v)
{
	bool udp = index & 1, v6 = (index & 3) == 2;

	memset(key, 0, sizeof(*key));
	memset(v, 0, sizeof(*v));
	key->cookie = index + 1;
	v->id.proto = udp ? TCPTOP_PROTO_UDP : TCPTOP_PROTO_TCP;
	v->id.family = v6 ? TCPTOP_AF_INET6 : TCPTOP_AF_INET;
	if (v6) {
		v->id.laddr[0] = 0xfd;
		v->id.raddr[0] = 0xfd;
		memcpy(&v->id.raddr[8], &index, sizeof(index));
		v->id.laddr[15] = 1;
	} else {
		v->id.laddr[0] = 10;
		v->id.laddr[3] = 1;
		v->id.raddr[0] = 10;
		v->id.raddr[1] = (uint8_t)(index >> 16);
		v->id.raddr[2] = (uint8_t)(index >> 8);
		v->id.raddr[3] = (uint8_t)index;
	}
	v->id.lport = (uint16_t)(20000 + index % 40000);
	v->id.rport = udp ? 53 : 443;
	v->id.tgid = (uint32_t)(1000 + index % st->procs);
	memcpy(v->id.comm, st->comms[index % st->procs], sizeof(v->id.comm));
	v->counters.state = udp ? TCPTOP_STATE_NONE : TCPTOP_TCP_ESTABLISHED;
	v->counters.tx_bytes = drains * replay_tx_per_drain(index);
	v->counters.rx_bytes = drains * replay_rx_per_drain(index);
	v->counters.tx_packets = drains * 2;
	v->counters.rx_packets = drains;
	v->counters.srtt_us = udp ? 0 : (uint32_t)(100 + index % 1000);
}

static int replay_drain(struct backend *b, struct flow_table *table, uint64_t now_ns)
{
	struct replay_state *st = b->state;
	uint64_t i, limit;
	struct flow_key key;
	struct flow_value v;

	/* The first drain introduces every flow; later ones only the active flows. */
	limit = st->drains == 0 ? st->nflows : st->active;
	st->drains++;
	for (i = 0; i < limit; i++) {
		synth_flow(st, i, i < st->active ? st->drains : 1, &key, &v);
		flow_table_merge_at(table, i, &key, &v, now_ns);
	}
	return 0;
}

static int replay_event_fd(struct backend *b)
{
	(void)b;
	return -1;
}

static int replay_drain_events(struct backend *b, struct flow_table *table, uint64_t now_ns)
{
	(void)b;
	(void)table;
	(void)now_ns;
	return 0;
}

static int replay_expire(struct backend *b, const struct flow_key *key, struct flow_value *final)
{
	struct replay_state *st = b->state;
	struct flow_key k;
	uint64_t index = key->cookie - 1;

	if (index >= st->nflows)
		return -1;
	synth_flow(st, index, index < st->active ? st->drains : 1, &k, final);
	return 0;
}

static uint64_t replay_flows_dropped(struct backend *b)
{
	(void)b;
	return 0;
}

static const char *replay_describe(struct backend *b)
{
	return ((struct replay_state *)b->state)->description;
}

static void replay_close(struct backend *b)
{
	struct replay_state *st = b->state;

	if (st)
		free(st->comms);
	free(b->state);
	b->state = NULL;
}

const struct backend_ops backend_replay_ops = {
	.name = "replay",
	.open = replay_open,
	.attach = replay_attach,
	.drain = replay_drain,
	.event_fd = replay_event_fd,
	.drain_events = replay_drain_events,
	.expire = replay_expire,
	.flows_dropped = replay_flows_dropped,
	.close_records_lost = replay_flows_dropped, /* none either */
	.describe = replay_describe,
	.close = replay_close,
};
