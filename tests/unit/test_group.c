/* Grouped views (view/group.h): a group's columns are the sums of its flows', over random
 * flow sets; closed flows' bytes stay in their group; service ports. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view/group.h"
#include "time_limit.h"
#include "identities.h"

static struct filter no_filter;

static void init_filter(void)
{
	filter_init(&no_filter);
}

TestSuite(group, .init = init_filter, .timeout = UNIT_TIME_LIMIT_S);

static uint32_t next_random(uint64_t *state)
{
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(*state >> 33);
}

/* A flow drawn from few pids, peers, ports and cgroups, so that groups have many flows. */
static void random_row(struct flow_row *r, uint64_t *rng, uint64_t cookie)
{
	static const uint8_t states[] = {
		TCPTOP_TCP_ESTABLISHED, 2, 3, 4, 6, 8, TCPTOP_TCP_LISTEN
	};

	memset(r, 0, sizeof(*r));
	r->key.cookie = cookie;
	test_id(r)->family = TCPTOP_AF_INET;
	test_id(r)->proto = next_random(rng) % 3 ? TCPTOP_PROTO_TCP : TCPTOP_PROTO_UDP;
	test_id(r)->laddr[0] = 127;
	test_id(r)->laddr[3] = 1;
	test_id(r)->raddr[0] = 10;
	test_id(r)->raddr[3] = (uint8_t)(next_random(rng) % 4);
	test_id(r)->lport = next_random(rng) % 2 ? 8080 : (uint16_t)(40000 + next_random(rng) % 50);
	test_id(r)->rport = (uint16_t)(next_random(rng) % 2 ? 443 : 53);
	test_id(r)->tgid = 100 + next_random(rng) % 5;
	snprintf(test_id(r)->comm, sizeof(test_id(r)->comm), "proc%u", test_id(r)->tgid);
	test_id(r)->cgroup_id = 7 + next_random(rng) % 3;
	r->state = r->id->proto == TCPTOP_PROTO_UDP ? TCPTOP_STATE_NONE
						    : states[next_random(rng) % sizeof(states)];
	if (r->state == TCPTOP_TCP_LISTEN) {
		memset(test_id(r)->raddr, 0, sizeof(test_id(r)->raddr));
		test_id(r)->rport = 0;
	}
	r->closed = next_random(rng) % 6 == 0;
	r->tx_bytes = next_random(rng) % 1000000;
	r->rx_bytes = next_random(rng) % 1000000;
	r->tx_packets = next_random(rng) % 1000;
	r->rx_packets = next_random(rng) % 1000;
	r->tx_rate = next_random(rng) % 100000 / 3.0;
	r->rx_rate = next_random(rng) % 100000 / 7.0;
	for (int w = 0; w < 3; w++) {
		r->tx_rate_win[w] = (float)(next_random(rng) % 10000);
		r->rx_rate_win[w] = (float)(next_random(rng) % 10000);
	}
	r->srtt_us = next_random(rng) % 4 ? next_random(rng) % 5000 : 0;
	r->retrans = next_random(rng) % 10;
	r->age_s = next_random(rng) % 1000 / 10.0;
}

static struct snapshot *random_snapshot(uint64_t *rng, uint64_t generation)
{
	size_t n = 1 + next_random(rng) % 80;
	struct snapshot *s = snapshot_alloc(n);

	cr_assert_not_null(s);
	s->nrows = n;
	s->generation = generation;
	for (size_t i = 0; i < n; i++)
		random_row(&s->rows[i], rng, generation * 1000 + i);
	return s;
}

/* What one column of a group is, summed from its flows the plain way. */
struct plain_sums {
	uint64_t tx_bytes, rx_bytes, tx_packets, rx_packets, retrans, flows;
	uint64_t states[GROUP_STATES];
	double tx_rate, rx_rate, win[6];
	uint32_t rtt[100];
	size_t nrtt;
};

static int compare_rtt(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int plain_state(const struct flow_row *r)
{
	if (r->closed)
		return GROUP_CLOSED;
	if (r->id->proto == TCPTOP_PROTO_UDP)
		return GROUP_UDP;
	if (r->state == TCPTOP_TCP_LISTEN)
		return GROUP_LISTEN;
	if (r->state == TCPTOP_TCP_ESTABLISHED)
		return GROUP_ESTABLISHED;
	return r->state == 2 || r->state == 3 ? GROUP_OPENING : GROUP_CLOSING;
}

static void plain_sum(const struct group_set *set, const struct group_row *g,
		      const struct snapshot *s, struct plain_sums *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < s->nrows; i++) {
		const struct flow_row *r = &s->rows[i];

		if (!group_set_holds(set, &g->key, r))
			continue;
		p->flows++;
		p->states[plain_state(r)]++;
		p->tx_bytes += r->tx_bytes;
		p->rx_bytes += r->rx_bytes;
		p->tx_packets += r->tx_packets;
		p->rx_packets += r->rx_packets;
		p->retrans += r->id->proto == TCPTOP_PROTO_UDP ? 0 : r->retrans;
		p->tx_rate += r->tx_rate;
		p->rx_rate += r->rx_rate;
		for (int w = 0; w < 3; w++) {
			p->win[w] += r->tx_rate_win[w];
			p->win[3 + w] += r->rx_rate_win[w];
		}
		if (r->id->proto == TCPTOP_PROTO_TCP && r->state != TCPTOP_TCP_LISTEN && r->srtt_us)
			p->rtt[p->nrtt++] = r->srtt_us;
	}
}

static uint64_t integer_of(const struct group_row *g, int id)
{
	struct column_value v;

	group_value(g, id, &v);
	cr_assert(!v.is_null, "%s is null", column_name(id));
	return v.integer;
}

static double real_of(const struct group_row *g, int id)
{
	struct column_value v;

	group_value(g, id, &v);
	return v.real;
}

static void check_close(double got, double want, const char *what)
{
	cr_assert(fabs(got - want) <= 1e-3 * (1 + fabs(want)), "%s: %f, want %f", what, got, want);
}

static void check_group(const struct group_set *set, const struct group_row *g,
			const struct snapshot *s)
{
	static const int windows[6] = { COL_TX_RATE_2S, COL_TX_RATE_10S, COL_TX_RATE_40S,
					COL_RX_RATE_2S, COL_RX_RATE_10S, COL_RX_RATE_40S };
	struct plain_sums p;
	uint64_t states = 0;
	struct column_value rtt;

	plain_sum(set, g, s, &p);
	cr_assert_gt(p.flows, 0, "a group without flows is shown");
	cr_assert_eq(integer_of(g, COL_FLOWS), p.flows);
	cr_assert_eq(integer_of(g, COL_TX_BYTES), p.tx_bytes);
	cr_assert_eq(integer_of(g, COL_RX_BYTES), p.rx_bytes);
	cr_assert_eq(integer_of(g, COL_TX_PACKETS), p.tx_packets);
	cr_assert_eq(integer_of(g, COL_RX_PACKETS), p.rx_packets);
	cr_assert_eq(integer_of(g, COL_RETRANS), p.retrans);
	check_close(real_of(g, COL_TX_RATE), p.tx_rate, "tx_rate");
	check_close(real_of(g, COL_RX_RATE), p.rx_rate, "rx_rate");
	for (int w = 0; w < 6; w++)
		check_close(real_of(g, windows[w]), p.win[w], column_name(windows[w]));
	for (int id = COL_ESTABLISHED; id <= COL_UDP; id++) {
		cr_assert_eq(integer_of(g, id), p.states[GROUP_ESTABLISHED + id - COL_ESTABLISHED],
			     "%s", column_name(id));
		states += integer_of(g, id);
	}
	cr_assert_eq(states, p.flows, "every flow is counted in one state");
	group_value(g, COL_RTT_US, &rtt);
	cr_assert_eq(rtt.is_null, p.nrtt == 0);
	if (p.nrtt) {
		qsort(p.rtt, p.nrtt, sizeof(p.rtt[0]), compare_rtt);
		cr_assert_eq(rtt.integer,
			     p.nrtt % 2 ? p.rtt[p.nrtt / 2]
					: (p.rtt[p.nrtt / 2 - 1] + p.rtt[p.nrtt / 2]) / 2);
	}
}

/* Each snapshot alone (a fresh set: no closed flows of before), every grouping. */
Test(group, sums_of_a_group_equal_the_sums_of_its_flows)
{
	uint64_t rng = 42;

	for (int g = GROUP_PROCESS; g < GROUP_COUNT; g++) {
		for (int round = 0; round < 300; round++) {
			struct group_set *set = group_set_new(g, &no_filter, COL_RATE);
			struct snapshot *s = random_snapshot(&rng, 1);
			size_t flows = 0;

			cr_assert_eq(group_set_update(set, s), 0);
			for (size_t i = 0; i < group_set_count(set); i++) {
				check_group(set, group_set_row(set, i), s);
				if (i)
					cr_assert_geq(real_of(group_set_row(set, i - 1), COL_RATE),
						      real_of(group_set_row(set, i), COL_RATE),
						      "groups in --sort order");
				flows += integer_of(group_set_row(set, i), COL_FLOWS);
			}
			cr_assert_eq(flows, s->nrows, "%s: every flow is in one group",
				     grouping_name(g));
			snapshot_release(s);
			group_set_free(set);
		}
	}
}

static struct snapshot *one_process(uint64_t generation, size_t n, const bool *closed,
				    const uint64_t *tx)
{
	struct snapshot *s = snapshot_alloc(n ? n : 1);

	s->nrows = n;
	s->generation = generation;
	for (size_t i = 0; i < n; i++) {
		struct flow_row *r = &s->rows[i];

		memset(r, 0, sizeof(*r));
		r->key.cookie = tx[i];
		test_id(r)->proto = TCPTOP_PROTO_TCP;
		test_id(r)->tgid = 77;
		r->state = TCPTOP_TCP_ESTABLISHED;
		r->closed = closed[i];
		r->tx_bytes = tx[i];
	}
	return s;
}

static uint64_t process_tx(struct group_set *set, struct snapshot *s)
{
	cr_assert_eq(group_set_update(set, s), 0);
	snapshot_release(s);
	return group_set_count(set) ? integer_of(group_set_row(set, 0), COL_TX_BYTES) : 0;
}

Test(group, closed_flows_bytes_stay_while_the_group_has_flows)
{
	struct group_set *set = group_set_new(GROUP_PROCESS, &no_filter, COL_RATE);
	const bool open2[2] = { false, true }, open1[1] = { false };
	const uint64_t tx2[2] = { 100, 50 }, tx1[1] = { 130 }, tx_new[1] = { 7 };

	cr_assert_eq(process_tx(set, one_process(1, 2, open2, tx2)), 150);
	cr_assert_eq(process_tx(set, one_process(2, 1, open1, tx1)), 180, "50 closed stay");
	cr_assert_eq(process_tx(set, one_process(3, 0, open1, tx1)), 0);
	cr_assert_eq(group_set_count(set), 0, "a group without flows is over");
	cr_assert_eq(process_tx(set, one_process(4, 1, open1, tx_new)), 7,
		     "a new group starts at 0");
	group_set_free(set);
}

/* The live view learns its snapshot again when the user sorts anew: nothing adds twice. */
Test(group, the_same_snapshot_again_counts_its_closed_rows_once)
{
	struct group_set *set = group_set_new(GROUP_PROCESS, &no_filter, COL_RATE);
	const bool open2[2] = { false, true };
	const uint64_t tx2[2] = { 100, 50 };
	struct snapshot *s = one_process(1, 2, open2, tx2);

	cr_assert_eq(group_set_update(set, s), 0);
	group_set_sort_by(set, COL_TX_BYTES);
	cr_assert_eq(group_set_update(set, s), 0);
	cr_assert_eq(integer_of(group_set_row(set, 0), COL_TX_BYTES), 150);
	snapshot_release(s);
	group_set_free(set);
}

static bool tx_above_60(const struct flow_row *row, const void *arg)
{
	(void)arg;
	return row->tx_bytes > 60;
}

Test(group, a_readers_own_test_chooses_the_rows_grouped_and_held)
{
	struct group_set *set = group_set_new(GROUP_PROCESS, &no_filter, COL_RATE);
	const bool open2[2] = { false, false };
	const uint64_t tx2[2] = { 100, 50 };
	struct snapshot *s = one_process(1, 2, open2, tx2);
	struct group_key key;

	group_set_also(set, tx_above_60, NULL);
	cr_assert_eq(group_set_update(set, s), 0);
	cr_assert_eq(integer_of(group_set_row(set, 0), COL_TX_BYTES), 100);
	cr_assert_eq(integer_of(group_set_row(set, 0), COL_FLOWS), 1);
	key = group_set_row(set, 0)->key; /* a copy holds as the row does */
	cr_assert(group_set_holds(set, &key, &s->rows[0]));
	cr_assert_not(group_set_holds(set, &key, &s->rows[1]));
	snapshot_release(s);
	group_set_free(set);
}

Test(group, port_is_the_listeners_or_the_one_connected_to)
{
	struct group_set *set = group_set_new(GROUP_PORT, &no_filter, COL_PORT);
	struct snapshot *s = snapshot_alloc(3);
	uint64_t ports[3];

	s->nrows = 3;
	s->generation = 1;
	memset(s->rows, 0, 3 * sizeof(s->rows[0]));
	for (int i = 0; i < 3; i++) {
		s->rows[i].key.cookie = (uint64_t)i + 1;
		test_id(&s->rows[i])->proto = TCPTOP_PROTO_TCP;
		s->rows[i].state = TCPTOP_TCP_ESTABLISHED;
	}
	s->rows[0].state = TCPTOP_TCP_LISTEN; /* a server on 50123, inside the ephemeral range */
	test_id(&s->rows[0])->lport = 50123;
	test_id(&s->rows[1])->lport = 50123; /* a connection it accepted */
	test_id(&s->rows[1])->rport = 41000;
	test_id(&s->rows[2])->lport = 41001; /* a connection this host opened to port 443 */
	test_id(&s->rows[2])->rport = 443;
	cr_assert_eq(group_set_update(set, s), 0);
	cr_assert_eq(group_set_count(set), 2);
	for (int i = 0; i < 2; i++)
		ports[i] = integer_of(group_set_row(set, i), COL_PORT);
	cr_assert_eq(ports[0], 50123); /* --sort port: high to low */
	cr_assert_eq(ports[1], 443);
	cr_assert_eq(integer_of(group_set_row(set, 0), COL_FLOWS), 2);
	cr_assert_eq(integer_of(group_set_row(set, 0), COL_LISTEN), 1);
	snapshot_release(s);
	group_set_free(set);
}
