/* Grouped views (view/group.h). Each update sums a snapshot's rows into their groups found
 * through an open-addressing index rebuilt from the groups that still have flows; closed
 * rows also go into their group's kept totals, which outlive the row. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/array_grow.h"
#include "util/open_index.h"
#include "view/group.h"

static const char *const grouping_names[GROUP_COUNT] = {
	[GROUP_FLOW] = "flow", [GROUP_PROCESS] = "process", [GROUP_REMOTE] = "remote",
	[GROUP_PORT] = "port", [GROUP_CGROUP] = "cgroup",
};

/* What closed flows leave in their group. */
struct kept_totals {
	uint64_t tx_bytes, rx_bytes, tx_packets, rx_packets, retrans;
};

struct group {
	struct group_key key;
	struct kept_totals kept;
	struct group_row out;
	uint32_t nrtt, rtt_at; /* its TCP flows' RTT samples, in rtt[rtt_at..] */
	uint64_t seen;         /* the generation of the last snapshot it had a row in */
};

struct group_order;

struct group_set {
	enum grouping grouping;
	const struct filter *filter;
	group_set_shows shows; /* NULL, or the reader's own test */
	const void *shows_arg;
	int sort_id;
	uint64_t generation;  /* of the snapshot learnt last */
	struct group *groups; /* live ones first: ngroups */
	size_t ngroups, room;
	struct open_index index; /* of the groups by key */
	uint32_t *rtt;           /* per group, grouped by group */
	size_t rtt_room;
	uint32_t *order;             /* places of groups, sorted */
	struct group_order *sorting; /* sort_groups() room */
	uint32_t *of_row;            /* each row's group, UINT32_MAX when filtered out */
	size_t rows_room;            /* of of_row and order */
	uint64_t *listeners;         /* netns << 16 | port of TCP listeners, sorted (GROUP_PORT) */
	size_t nlisteners, listeners_room;
	uint16_t ephemeral_lo, ephemeral_hi;
};

const char *grouping_name(enum grouping g)
{
	return g >= 0 && g < GROUP_COUNT ? grouping_names[g] : NULL;
}

int grouping_lookup(const char *name)
{
	for (int g = 0; g < GROUP_COUNT; g++)
		if (strcmp(name, grouping_names[g]) == 0)
			return g;
	return -1;
}

/* The columns that name a group, per grouping; a flow's other identity has no meaning. */
static bool is_identity_column(int id)
{
	switch (id) {
	case COL_PID:
	case COL_COMM:
	case COL_PROTO:
	case COL_LADDR:
	case COL_LPORT:
	case COL_RADDR:
	case COL_RPORT:
	case COL_STATE:
	case COL_NETNS:
	case COL_CGROUP:
	case COL_PORT:
		return true;
	}
	return false;
}

bool grouping_has_column(enum grouping g, int id)
{
	if (id < 0 || id > COL_RATE)
		return false;
	if (g == GROUP_FLOW)
		return id == COL_RATE || !column_table[id].group_only;
	if (!is_identity_column(id))
		return true;
	switch (g) {
	case GROUP_PROCESS:
		return id == COL_PID || id == COL_COMM || id == COL_NETNS || id == COL_CGROUP;
	case GROUP_REMOTE:
		return id == COL_RADDR;
	case GROUP_PORT:
		return id == COL_PROTO || id == COL_PORT;
	case GROUP_CGROUP:
		return id == COL_CGROUP;
	default:
		return false;
	}
}

void grouping_default_columns(enum grouping g, struct column_list *out)
{
	static const int sums[] = { COL_FLOWS,      COL_TX_BYTES,    COL_RX_BYTES, COL_TX_PACKETS,
				    COL_RX_PACKETS, COL_TX_RATE,     COL_RX_RATE,  COL_RTT_US,
				    COL_RETRANS,    COL_ESTABLISHED, COL_OPENING,  COL_CLOSING,
				    COL_LISTEN,     COL_CLOSED,      COL_UDP };

	if (g == GROUP_FLOW) {
		column_list_defaults(out);
		return;
	}
	out->count = 0;
	column_list_add(out, COL_TIME);
	for (int id = 0; id < COL_COUNT; id++)
		if (is_identity_column(id) && grouping_has_column(g, id) && id != COL_NETNS &&
		    (id != COL_CGROUP || g == GROUP_CGROUP))
			column_list_add(out, id);
	for (size_t i = 0; i < sizeof(sums) / sizeof(sums[0]); i++)
		column_list_add(out, sums[i]);
}

/* ---------------------------------------------------------------- the set */

/* /proc/sys/net/ipv4/ip_local_port_range: ports the kernel picks for sockets nobody bound. */
static void read_ephemeral_range(struct group_set *set)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	unsigned lo = 32768, hi = 60999;

	if (f) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2 || lo > hi || hi > 65535) {
			lo = 32768;
			hi = 60999;
		}
		fclose(f);
	}
	set->ephemeral_lo = (uint16_t)lo;
	set->ephemeral_hi = (uint16_t)hi;
}

struct group_set *group_set_new(enum grouping g, const struct filter *f, int sort_id)
{
	struct group_set *set = calloc(1, sizeof(*set));

	if (!set)
		return NULL;
	set->grouping = g;
	set->filter = f;
	set->sort_id = sort_id;
	read_ephemeral_range(set);
	return set;
}

void group_set_free(struct group_set *set)
{
	if (!set)
		return;
	free(set->groups);
	open_index_free(&set->index);
	free(set->rtt);
	free(set->order);
	free(set->sorting);
	free(set->of_row);
	free(set->listeners);
	free(set);
}

enum grouping group_set_grouping(const struct group_set *set)
{
	return set->grouping;
}

void group_set_also(struct group_set *set, group_set_shows shows, const void *arg)
{
	set->shows = shows;
	set->shows_arg = arg;
}

void group_set_sort_by(struct group_set *set, int sort_id)
{
	set->sort_id = sort_id;
}

size_t group_set_count(const struct group_set *set)
{
	return set->ngroups;
}

const struct group_row *group_set_row(const struct group_set *set, size_t i)
{
	return &set->groups[set->order[i]].out;
}

/* ---------------------------------------------------------------- service ports */

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t listener_key(const struct flow_row *row)
{
	return (uint64_t)row->id->netns << 16 | row->id->lport;
}

static int collect_listeners(struct group_set *set, const struct snapshot *s)
{
	set->nlisteners = 0;
	for (size_t i = 0; i < s->nrows; i++) {
		const struct flow_row *row = &s->rows[i];

		if (row->id->proto != TCPTOP_PROTO_TCP || row->state != TCPTOP_TCP_LISTEN)
			continue;
		if (set->nlisteners == set->listeners_room) {
			size_t room = set->listeners_room * 2 + 16;

			if (!array_grow((void **)&set->listeners, room, sizeof(uint64_t)))
				return -1;
			set->listeners_room = room;
		}
		set->listeners[set->nlisteners++] = listener_key(row);
	}
	if (set->nlisteners) /* listeners is NULL until the first one */
		qsort(set->listeners, set->nlisteners, sizeof(uint64_t), compare_u64);
	return 0;
}

/* The port a flow serves: the local one for a TCP connection a local listener accepted (or
 * the listener itself) and for a socket bound outside the ephemeral range; the remote one
 * for a connection this host opened from a port the kernel picked. */
static uint16_t service_port(const struct group_set *set, const struct flow_row *row)
{
	uint64_t key = listener_key(row);
	bool ephemeral = row->id->lport >= set->ephemeral_lo && row->id->lport <= set->ephemeral_hi;

	if (row->id->proto == TCPTOP_PROTO_TCP &&
	    (row->state == TCPTOP_TCP_LISTEN ||
	     (set->nlisteners &&
	      bsearch(&key, set->listeners, set->nlisteners, sizeof(uint64_t), compare_u64))))
		return row->id->lport;
	return ephemeral && row->id->rport ? row->id->rport : row->id->lport;
}

/* ---------------------------------------------------------------- keys */

static void group_key_of(const struct group_set *set, const struct flow_row *row,
			 struct group_key *key)
{
	static const uint8_t zero[16];

	memset(key, 0, sizeof(*key));
	switch (set->grouping) {
	case GROUP_PROCESS:
		key->pid = row->id->tgid;
		break;
	case GROUP_REMOTE:
		if (row->id->rport || memcmp(row->id->raddr, zero, sizeof(zero))) {
			key->family = row->id->family;
			memcpy(key->addr, row->id->raddr, sizeof(key->addr));
		}
		break;
	case GROUP_PORT:
		key->proto = row->id->proto;
		key->port = service_port(set, row);
		break;
	case GROUP_CGROUP:
		key->cgroup_id = row->id->cgroup_id;
		break;
	default:
		break;
	}
}

static uint64_t hash_key(const struct group_key *key)
{
	_Static_assert(sizeof(*key) % 8 == 0, "the key is whole words");
	return hash_words(key, sizeof(*key) / 8);
}

static int rebuild_index(struct group_set *set)
{
	if (open_index_reset(&set->index, set->ngroups) < 0)
		return -1;
	for (size_t g = 0; g < set->ngroups; g++)
		open_index_put(&set->index, hash_key(&set->groups[g].key), (uint32_t)g);
	return 0;
}

/* The group of key: found, or added (its kept totals zero). NULL when out of memory. */
static struct group *find_group(struct group_set *set, const struct group_key *key)
{
	size_t i;
	struct group *g;

	if (!open_index_fits(&set->index, set->ngroups + 1) && rebuild_index(set) < 0)
		return NULL;
	for (i = hash_key(key) & (set->index.n - 1); set->index.slot[i];
	     i = (i + 1) & (set->index.n - 1)) {
		g = &set->groups[set->index.slot[i] - 1];
		if (memcmp(&g->key, key, sizeof(*key)) == 0)
			return g;
	}
	if (set->ngroups == set->room) {
		size_t room = set->room * 2 + 16;

		if (!array_grow((void **)&set->groups, room, sizeof(*set->groups)))
			return NULL;
		set->room = room;
	}
	g = &set->groups[set->ngroups];
	memset(g, 0, sizeof(*g));
	g->key = *key;
	set->index.slot[i] = (uint32_t)++set->ngroups;
	return g;
}

/* ---------------------------------------------------------------- sums */

static enum group_state state_of(const struct flow_row *row)
{
	if (row->closed)
		return GROUP_CLOSED;
	if (row->id->proto == TCPTOP_PROTO_UDP)
		return GROUP_UDP;
	switch (row->state) {
	case TCPTOP_TCP_LISTEN:
		return GROUP_LISTEN;
	case 2:  /* SYN_SENT */
	case 3:  /* SYN_RECV */
	case 12: /* NEW_SYN_RECV */
		return GROUP_OPENING;
	case 1:
		return GROUP_ESTABLISHED;
	default:
		return GROUP_CLOSING;
	}
}

static bool has_rtt(const struct flow_row *row)
{
	return row->id->proto == TCPTOP_PROTO_TCP && row->state != TCPTOP_TCP_LISTEN &&
	       row->srtt_us;
}

/* The group's identity, from one of its rows (the first in the snapshot). */
static void take_identity(struct group *g, const struct flow_row *row, uint64_t generation)
{
	struct flow_row *out = &g->out.row;
	struct flow_identity *id = &g->out.ident;

	memset(&g->out, 0, sizeof(g->out));
	out->id = id;
	g->out.key = g->key;
	out->key.cookie = hash_key(&g->key); /* a stable tie break, and what a reader follows */
	out->version = generation;
	id->family = g->key.family;
	memcpy(id->raddr, g->key.addr, sizeof(id->raddr));
	id->proto = g->key.proto;
	id->tgid = g->key.pid;
	id->cgroup_id = g->key.cgroup_id;
	if (g->key.pid) {
		memcpy(id->comm, row->id->comm, sizeof(id->comm));
		id->netns = row->id->netns;
	}
	out->cgroup = row->cgroup;
	out->state = TCPTOP_STATE_NONE;
	out->first_seen_ns = id->first_seen_ns = row->first_seen_ns;
	g->out.port = g->key.port;
}

static void add_row(struct group *g, const struct flow_row *row)
{
	struct flow_row *out = &g->out.row;

	g->out.flows++;
	g->out.states[state_of(row)]++;
	if (row->closed) {
		g->kept.tx_bytes += row->tx_bytes;
		g->kept.rx_bytes += row->rx_bytes;
		g->kept.tx_packets += row->tx_packets;
		g->kept.rx_packets += row->rx_packets;
		g->kept.retrans += row->id->proto == TCPTOP_PROTO_UDP ? 0 : row->retrans;
	} else {
		out->tx_bytes += row->tx_bytes;
		out->rx_bytes += row->rx_bytes;
		out->tx_packets += row->tx_packets;
		out->rx_packets += row->rx_packets;
		out->retrans += row->id->proto == TCPTOP_PROTO_UDP ? 0 : row->retrans;
	}
	out->tx_rate += row->tx_rate;
	out->rx_rate += row->rx_rate;
	for (int w = 0; w < 3; w++) {
		out->tx_rate_win[w] += row->tx_rate_win[w];
		out->rx_rate_win[w] += row->rx_rate_win[w];
	}
	if (row->age_s > out->age_s) {
		out->age_s = row->age_s;
		out->first_seen_ns = g->out.ident.first_seen_ns = row->first_seen_ns;
	}
	g->nrtt += has_rtt(row);
}

/* Kept totals join the live sums once every row is in. */
static void finish_sums(struct group *g)
{
	struct flow_row *out = &g->out.row;

	out->tx_bytes += g->kept.tx_bytes;
	out->rx_bytes += g->kept.rx_bytes;
	out->tx_packets += g->kept.tx_packets;
	out->rx_packets += g->kept.rx_packets;
	out->retrans += (uint32_t)g->kept.retrans;
}

/* The k-th smallest of r[0..n) by Hoare's selection (linear on average), leaving the k
 * smallest in r[0..k]: sorting every group's samples was most of --group's time. */
static uint32_t select_kth(uint32_t *r, long n, long k)
{
	long lo = 0, hi = n - 1;

	while (lo < hi) {
		uint32_t pivot = r[lo + (hi - lo) / 2], t;
		long i = lo, j = hi;

		while (i <= j) {
			while (r[i] < pivot)
				i++;
			while (r[j] > pivot)
				j--;
			if (i <= j) {
				t = r[i];
				r[i++] = r[j];
				r[j--] = t;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break; /* r[k] is the pivot, in its place */
	}
	return r[k];
}

static uint32_t median(uint32_t *r, uint32_t n)
{
	uint32_t upper = select_kth(r, n, n / 2), lower = 0;

	if (n % 2)
		return upper;
	for (uint32_t i = 0; i < n / 2; i++) /* the largest of the smaller half */
		lower = r[i] > lower ? r[i] : lower;
	return (uint32_t)(((uint64_t)lower + upper) / 2);
}

/* Each group's RTT samples in a run of their own, then each run's median. */
static int median_rtts(struct group_set *set, const struct snapshot *s, const uint32_t *of_row)
{
	size_t total = 0;

	for (size_t g = 0; g < set->ngroups; g++) {
		set->groups[g].rtt_at = (uint32_t)total;
		total += set->groups[g].nrtt;
		set->groups[g].nrtt = 0;
	}
	if (total > set->rtt_room) {
		if (!array_grow((void **)&set->rtt, total, sizeof(uint32_t)))
			return -1;
		set->rtt_room = total;
	}
	for (size_t i = 0; i < s->nrows; i++) {
		struct group *g;

		if (of_row[i] == UINT32_MAX || !has_rtt(&s->rows[i]))
			continue;
		g = &set->groups[of_row[i]];
		set->rtt[g->rtt_at + g->nrtt++] = s->rows[i].srtt_us;
	}
	for (size_t g = 0; g < set->ngroups; g++) {
		struct group *gr = &set->groups[g];
		uint32_t *r = set->rtt + gr->rtt_at, n = gr->nrtt;

		if (!n)
			continue;
		gr->out.row.srtt_us = median(r, n);
	}
	return 0;
}

/* ---------------------------------------------------------------- update */

/* Groups that had no row in this snapshot are over, their kept totals with them. */
static int drop_ended(struct group_set *set, uint64_t generation)
{
	size_t kept = 0;

	for (size_t g = 0; g < set->ngroups; g++)
		if (set->groups[g].seen == generation && kept++ != g)
			set->groups[kept - 1] = set->groups[g];
	if (kept == set->ngroups)
		return 0; /* the index still holds */
	set->ngroups = kept;
	return rebuild_index(set);
}

/* Groups in --sort order by integer keys (column_sort_key's), made once per group: a
 * comparison that read both values cost most of a sort of 100k groups. */
struct group_order {
	struct column_sort_key key;
	uint32_t place;
};

static int compare_groups(const void *a, const void *b, void *arg)
{
	const struct group_set *set = arg;
	const struct group_order *x = a, *y = b;
	const struct group *gx = &set->groups[x->place], *gy = &set->groups[y->place];
	struct column_value vx, vy;
	int order = 0;

	if (x->key.hi != y->key.hi)
		return x->key.hi < y->key.hi ? -1 : 1;
	if (x->key.lo != y->key.lo)
		return x->key.lo < y->key.lo ? -1 : 1;
	if (!x->key.exact) {
		group_value(&gx->out, set->sort_id, &vx);
		group_value(&gy->out, set->sort_id, &vy);
		order = column_value_compare(&vx, &vy);
	}
	if (order)
		return order;
	/* Ties (idle groups all have rate 0) by the key's hash first, then the key. */
	if (gx->out.row.key.cookie != gy->out.row.key.cookie)
		return gx->out.row.key.cookie < gy->out.row.key.cookie ? -1 : 1;
	return memcmp(&gx->key, &gy->key, sizeof(gx->key));
}

static void sort_groups(struct group_set *set)
{
	struct group_order *o = set->sorting;
	struct column_value v;

	for (size_t g = 0; g < set->ngroups; g++) {
		group_value(&set->groups[g].out, set->sort_id, &v);
		column_value_sort_key(&v, &o[g].key);
		o[g].place = (uint32_t)g;
	}
	if (set->ngroups) /* sorting is NULL until the first group */
		qsort_r(o, set->ngroups, sizeof(*o), compare_groups, set);
	for (size_t g = 0; g < set->ngroups; g++)
		set->order[g] = o[g].place;
}

static bool row_wanted(const struct group_set *set, const struct flow_row *row)
{
	return filter_match(set->filter, row) && (!set->shows || set->shows(row, set->shows_arg));
}

static int sum_rows(struct group_set *set, const struct snapshot *s)
{
	struct group_key key;

	for (size_t i = 0; i < s->nrows; i++) {
		const struct flow_row *row = &s->rows[i];
		struct group *g;

		set->of_row[i] = UINT32_MAX;
		if (!row_wanted(set, row))
			continue;
		group_key_of(set, row, &key);
		g = find_group(set, &key);
		if (!g)
			return -1;
		if (g->seen != s->generation) {
			take_identity(g, row, s->generation);
			g->nrtt = 0;
			g->seen = s->generation;
		}
		add_row(g, row);
		set->of_row[i] = (uint32_t)(g - set->groups);
	}
	return 0;
}

static int update(struct group_set *set, const struct snapshot *s)
{
	size_t room = s->nrows + 1;

	if (room > set->rows_room) {
		if (!array_grow((void **)&set->of_row, room, sizeof(uint32_t)) ||
		    !array_grow((void **)&set->order, room, sizeof(uint32_t)) ||
		    !array_grow((void **)&set->sorting, room, sizeof(struct group_order)))
			return -1;
		set->rows_room = room;
	}
	if (set->grouping == GROUP_PORT && collect_listeners(set, s) < 0)
		return -1;
	if (sum_rows(set, s) < 0 || median_rtts(set, s, set->of_row) < 0)
		return -1;
	for (size_t g = 0; g < set->ngroups; g++)
		if (set->groups[g].seen == s->generation)
			finish_sums(&set->groups[g]);
	if (drop_ended(set, s->generation) < 0)
		return -1;
	for (size_t g = 0; g < set->ngroups; g++) /* the groups may have moved */
		set->groups[g].out.row.id = &set->groups[g].out.ident;
	sort_groups(set);
	return 0;
}

int group_set_update(struct group_set *set, const struct snapshot *s)
{
	if (s->generation && s->generation == set->generation) {
		sort_groups(set); /* a new order of what it holds: closed rows count once */
		return 0;
	}
	set->generation = s->generation;
	if (update(set, s) == 0)
		return 0;
	set->ngroups = 0;
	set->generation = 0;
	return -1;
}

bool group_set_holds(const struct group_set *set, const struct group_key *key,
		     const struct flow_row *row)
{
	struct group_key of;

	group_key_of(set, row, &of);
	return row_wanted(set, row) && memcmp(&of, key, sizeof(of)) == 0;
}

/* ---------------------------------------------------------------- values */

void group_value(const struct group_row *g, int id, struct column_value *out)
{
	if (id < 0 || id >= COL_COUNT || !column_table[id].group_only) {
		column_value(&g->row, id, out);
		if (id == COL_RTT_US)
			out->is_null = g->row.srtt_us == 0; /* no TCP flow with a sample */
		return;
	}
	out->kind = COLUMN_INTEGER;
	out->is_null = false;
	out->real = 0;
	out->len = 0;
	out->text[0] = '\0';
	if (id == COL_FLOWS)
		out->integer = g->flows;
	else if (id == COL_PORT)
		out->integer = g->port;
	else
		out->integer = g->states[GROUP_ESTABLISHED + (id - COL_ESTABLISHED)];
}

void group_values(const struct group_row *g, struct column_value values[COL_COUNT])
{
	for (int id = 0; id < COL_COUNT; id++)
		group_value(g, id, &values[id]);
}
