/* The metrics ledger (metrics/metrics_state.h). A flow's counters since tcptop first saw it
 * are credited as deltas: what it moved since the last snapshot folded, or all of it when
 * it is new (or its key came back with a new first sight). Its closing snapshot credits
 * its final counts; a flow that vanishes unseen keeps what it was credited. */
#include <stdlib.h>
#include <string.h>
#include "metrics/metrics_state.h"

struct flow_mark {
	struct flow_key key;
	uint64_t first_seen_ns;
	uint64_t tx_bytes, rx_bytes, tx_packets, rx_packets;
	uint32_t retrans;
	bool used; /* false: an empty slot */
};

void metrics_state_init(struct metrics_state *m, uint64_t grace_ns)
{
	memset(m, 0, sizeof(*m));
	m->grace_ns = grace_ns;
}

void metrics_state_free(struct metrics_state *m)
{
	free(m->procs);
	free(m->proc_slots);
	free(m->marks);
	free(m->next_marks);
	memset(m, 0, sizeof(*m));
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static uint64_t key_hash(const struct flow_key *k)
{
	uint64_t addr[2];

	memcpy(addr, k->peer_addr, sizeof(addr));
	return mix(k->cookie ^ mix(addr[0] ^ mix(addr[1] ^ k->peer_port)));
}

static uint64_t comm_hash(const char *comm)
{
	uint64_t half[2];

	memcpy(half, comm, sizeof(half));
	return mix(half[0] ^ mix(half[1]));
}

static size_t room_for(size_t n)
{
	size_t room = 64;

	while (room < 2 * n)
		room *= 2;
	return room;
}

/* ---------------------------------------------------------------- process names */

static void index_proc(struct metrics_state *m, size_t i)
{
	size_t mask = m->proc_slots_room - 1, slot = comm_hash(m->procs[i].comm) & mask;

	while (m->proc_slots[slot])
		slot = (slot + 1) & mask;
	m->proc_slots[slot] = (uint32_t)i + 1;
}

static int reindex_procs(struct metrics_state *m, size_t room)
{
	uint32_t *slots = calloc(room, sizeof(*slots));

	if (!slots)
		return -1;
	free(m->proc_slots);
	m->proc_slots = slots;
	m->proc_slots_room = room;
	for (size_t i = 0; i < m->nprocs; i++)
		index_proc(m, i);
	return 0;
}

static struct process_series *find_proc(struct metrics_state *m, const char *comm)
{
	size_t mask = m->proc_slots_room - 1, slot;

	if (!m->proc_slots_room)
		return NULL;
	for (slot = comm_hash(comm) & mask; m->proc_slots[slot]; slot = (slot + 1) & mask) {
		struct process_series *p = &m->procs[m->proc_slots[slot] - 1];

		if (memcmp(p->comm, comm, TCPTOP_COMM_LEN) == 0)
			return p;
	}
	return NULL;
}

static struct process_series *add_proc(struct metrics_state *m, const char *comm)
{
	struct process_series *p;

	if (m->nprocs == m->procs_room) {
		size_t room = m->procs_room ? 2 * m->procs_room : 64;

		p = realloc(m->procs, room * sizeof(*p));
		if (!p)
			return NULL;
		m->procs = p;
		m->procs_room = room;
	}
	if (room_for(m->nprocs + 1) > m->proc_slots_room &&
	    reindex_procs(m, room_for(m->nprocs + 1)) < 0)
		return NULL;
	p = &m->procs[m->nprocs];
	memset(p, 0, sizeof(*p));
	memcpy(p->comm, comm, TCPTOP_COMM_LEN);
	index_proc(m, m->nprocs++);
	return p;
}

/* The series of comm, made on first sight; past the bound, "[other]"'s. */
static struct process_series *proc_series(struct metrics_state *m, const char *comm)
{
	char key[TCPTOP_COMM_LEN] = { 0 };
	struct process_series *p;

	memcpy(key, comm, strnlen(comm, TCPTOP_COMM_LEN - 1));
	p = find_proc(m, key);
	if (p)
		return p;
	if (m->nprocs >= METRICS_MAX_PROCESSES) {
		memset(key, 0, sizeof(key));
		strcpy(key, METRICS_OTHER_COMM);
		p = find_proc(m, key);
		if (p)
			return p;
	}
	return add_proc(m, key);
}

/* Names with no flow for longer than the grace period go; the rest keep their order. */
static void expire_procs(struct metrics_state *m, uint64_t now_ns)
{
	size_t kept = 0;

	for (size_t i = 0; i < m->nprocs; i++) {
		if (m->procs[i].last_seen_ns + m->grace_ns < now_ns) {
			m->expired++;
			continue;
		}
		if (kept != i)
			m->procs[kept] = m->procs[i];
		kept++;
	}
	if (kept == m->nprocs)
		return;
	m->nprocs = kept;
	memset(m->proc_slots, 0, m->proc_slots_room * sizeof(*m->proc_slots));
	for (size_t i = 0; i < m->nprocs; i++)
		index_proc(m, i);
}

/* ---------------------------------------------------------------- flows */

static struct flow_mark *mark_slot(struct flow_mark *marks, size_t room, const struct flow_key *k)
{
	size_t mask = room - 1, slot;

	if (!room)
		return NULL;
	for (slot = key_hash(k) & mask; marks[slot].used; slot = (slot + 1) & mask)
		if (memcmp(&marks[slot].key, k, sizeof(*k)) == 0)
			break;
	return &marks[slot];
}

static uint64_t delta(uint64_t now, uint64_t before)
{
	return now > before ? now - before : 0;
}

/* What row moved since mark (NULL: all of it), into c. */
static void credit(struct traffic_counters *c, const struct flow_row *row,
		   const struct flow_mark *mark)
{
	struct flow_mark zero = { 0 };
	int proto = row->id->proto == TCPTOP_PROTO_UDP ? PROTO_UDP_INDEX : PROTO_TCP_INDEX;

	if (!mark)
		mark = &zero;
	c->bytes[proto][DIR_TX] += delta(row->tx_bytes, mark->tx_bytes);
	c->bytes[proto][DIR_RX] += delta(row->rx_bytes, mark->rx_bytes);
	c->packets[proto][DIR_TX] += delta(row->tx_packets, mark->tx_packets);
	c->packets[proto][DIR_RX] += delta(row->rx_packets, mark->rx_packets);
	c->retransmits += delta(row->retrans, mark->retrans);
}

static void observe_gauges(struct process_series *p, const struct flow_row *row)
{
	if (row->id->proto != TCPTOP_PROTO_TCP || row->closed ||
	    row->state >= TCPTOP_TCP_MAX_STATES)
		return;
	p->connections[row->state]++;
	p->states_seen |= 1u << row->state;
	if (row->state == TCPTOP_TCP_ESTABLISHED && row->srtt_us) {
		p->rtt_buckets[rtt_bucket(row->srtt_us)]++;
		p->rtt_count++;
		p->rtt_sum_s += row->srtt_us / 1e6;
	}
}

static void remember(struct flow_mark *slot, const struct flow_row *row)
{
	*slot = (struct flow_mark){
		.key = row->key,
		.first_seen_ns = row->first_seen_ns,
		.tx_bytes = row->tx_bytes,
		.rx_bytes = row->rx_bytes,
		.tx_packets = row->tx_packets,
		.rx_packets = row->rx_packets,
		.retrans = row->retrans,
		.used = true,
	};
}

static int fold_row(struct metrics_state *m, const struct flow_row *row, uint64_t now_ns)
{
	struct flow_mark *old = mark_slot(m->marks, m->marks_room, &row->key);
	struct process_series *p = NULL;

	if (old && (!old->used || old->first_seen_ns != row->first_seen_ns))
		old = NULL;
	if (row->id->comm[0]) {
		p = proc_series(m, row->id->comm);
		if (!p)
			return -1;
		credit(&p->traffic, row, old);
		observe_gauges(p, row);
		p->last_seen_ns = now_ns;
	}
	credit(&m->host, row, old);
	if (!row->closed)
		remember(mark_slot(m->next_marks, m->next_marks_room, &row->key), row);
	return 0;
}

static int ready_next_marks(struct metrics_state *m, size_t nrows)
{
	size_t room = room_for(nrows);

	if (room > m->next_marks_room || room * 4 < m->next_marks_room) {
		struct flow_mark *marks = malloc(room * sizeof(*marks));

		if (!marks)
			return -1;
		free(m->next_marks);
		m->next_marks = marks;
		m->next_marks_room = room;
	}
	memset(m->next_marks, 0, m->next_marks_room * sizeof(*m->next_marks));
	return 0;
}

int metrics_state_fold(struct metrics_state *m, const struct snapshot *s)
{
	struct flow_mark *swap_marks;
	size_t swap_room;

	if (ready_next_marks(m, s->nrows) < 0)
		return -1;
	for (size_t i = 0; i < m->nprocs; i++)
		memset(m->procs[i].connections, 0, sizeof(m->procs[i].connections));
	for (size_t i = 0; i < s->nrows; i++)
		if (fold_row(m, &s->rows[i], s->mono_ns) < 0)
			return -1;
	swap_marks = m->marks;
	swap_room = m->marks_room;
	m->marks = m->next_marks;
	m->marks_room = m->next_marks_room;
	m->next_marks = swap_marks;
	m->next_marks_room = swap_room;
	expire_procs(m, s->mono_ns);
	m->folded++;
	return 0;
}
