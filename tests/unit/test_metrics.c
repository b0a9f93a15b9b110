/* The --metrics ledger, exposition text and listen address: pure logic, no sockets. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics/exposition.h"
#include "metrics/listen_addr.h"
#include "metrics/metrics_state.h"
#include "time_limit.h"
#include "identities.h"

TestSuite(exposition, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(listen_addr, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(metrics_state, .timeout = UNIT_TIME_LIMIT_S);

#define SECOND 1000000000ULL

struct row_spec {
	uint64_t cookie;
	const char *comm;
	uint8_t proto, state;
	bool closed;
	uint64_t tx, rx;
	uint32_t srtt_us;
	uint64_t first_seen_ns;
};

static struct snapshot *snap(uint64_t now_ns, const struct row_spec *specs, size_t n)
{
	struct snapshot *s = snapshot_alloc(n);

	cr_assert_not_null(s);
	s->mono_ns = now_ns;
	s->nrows = n;
	for (size_t i = 0; i < n; i++) {
		struct flow_row *r = &s->rows[i];

		r->key.cookie = specs[i].cookie;
		strncpy(test_id(r)->comm, specs[i].comm, TCPTOP_COMM_LEN - 1);
		test_id(r)->proto = specs[i].proto ? specs[i].proto : TCPTOP_PROTO_TCP;
		r->state = specs[i].state;
		r->closed = specs[i].closed;
		r->tx_bytes = specs[i].tx;
		r->rx_bytes = specs[i].rx;
		r->srtt_us = specs[i].srtt_us;
		r->first_seen_ns = specs[i].first_seen_ns ? specs[i].first_seen_ns : 1;
		test_id(r)->first_seen_ns = r->first_seen_ns;
	}
	return s;
}

static void fold(struct metrics_state *m, uint64_t now_ns, const struct row_spec *specs, size_t n)
{
	struct snapshot *s = snap(now_ns, specs, n);

	cr_assert_eq(metrics_state_fold(m, s), 0);
	free(s);
}

static const struct process_series *series(const struct metrics_state *m, const char *comm)
{
	for (size_t i = 0; i < m->nprocs; i++)
		if (strcmp(m->procs[i].comm, comm) == 0)
			return &m->procs[i];
	return NULL;
}

static uint64_t tcp_tx(const struct metrics_state *m, const char *comm)
{
	const struct process_series *p = series(m, comm);

	cr_assert_not_null(p, "no series for %s", comm);
	return p->traffic.bytes[PROTO_TCP_INDEX][DIR_TX];
}

Test(metrics_state, closed_flow_keeps_its_final_counts_in_its_process)
{
	struct metrics_state m;
	struct row_spec open = { 1, "web", 0, TCPTOP_TCP_ESTABLISHED, false, 100, 10, 0, 0 };
	struct row_spec closed = { 1, "web", 0, TCPTOP_TCP_CLOSE, true, 150, 20, 0, 0 };
	struct row_spec other = { 2, "web", 0, TCPTOP_TCP_ESTABLISHED, false, 5, 0, 0, 0 };

	metrics_state_init(&m, 300 * SECOND);
	fold(&m, 1 * SECOND, &open, 1);
	cr_assert_eq(tcp_tx(&m, "web"), 100);
	fold(&m, 2 * SECOND, &closed, 1);
	cr_assert_eq(tcp_tx(&m, "web"), 150);
	fold(&m, 3 * SECOND, &other, 1); /* the closed one is gone from the snapshot */
	cr_assert_eq(tcp_tx(&m, "web"), 155);
	cr_assert_eq(m.host.bytes[PROTO_TCP_INDEX][DIR_TX], 155);
	metrics_state_free(&m);
}

Test(metrics_state, flow_that_vanishes_unseen_keeps_what_was_credited)
{
	struct metrics_state m;
	struct row_spec a = { 1, "db", 0, TCPTOP_TCP_ESTABLISHED, false, 70, 0, 0, 0 };

	metrics_state_init(&m, 300 * SECOND);
	fold(&m, 1 * SECOND, &a, 1);
	fold(&m, 2 * SECOND, NULL, 0);
	cr_assert_eq(tcp_tx(&m, "db"), 70);
	metrics_state_free(&m);
}

Test(metrics_state, key_that_comes_back_with_a_new_first_sight_counts_from_zero)
{
	struct metrics_state m;
	struct row_spec first = { 7, "dns", TCPTOP_PROTO_UDP, 0, false, 500, 0, 0, 10 };
	struct row_spec again = { 7, "dns", TCPTOP_PROTO_UDP, 0, false, 40, 0, 0, 20 };

	metrics_state_init(&m, 300 * SECOND);
	fold(&m, 1 * SECOND, &first, 1);
	fold(&m, 2 * SECOND, &again, 1);
	cr_assert_eq(series(&m, "dns")->traffic.bytes[PROTO_UDP_INDEX][DIR_TX], 540);
	metrics_state_free(&m);
}

Test(metrics_state, flow_that_changes_process_leaves_earlier_bytes_with_the_first)
{
	struct metrics_state m;
	struct row_spec before = { 3, "parent", 0, TCPTOP_TCP_ESTABLISHED, false, 10, 0, 0, 0 };
	struct row_spec after = { 3, "child", 0, TCPTOP_TCP_ESTABLISHED, false, 25, 0, 0, 0 };

	metrics_state_init(&m, 300 * SECOND);
	fold(&m, 1 * SECOND, &before, 1);
	fold(&m, 2 * SECOND, &after, 1);
	cr_assert_eq(tcp_tx(&m, "parent"), 10);
	cr_assert_eq(tcp_tx(&m, "child"), 15);
	metrics_state_free(&m);
}

Test(metrics_state, gauges_and_rtt_come_from_the_last_snapshot_only)
{
	struct metrics_state m;
	struct row_spec rows[] = {
		{ 1, "srv", 0, TCPTOP_TCP_LISTEN, false, 0, 0, 0, 0 },
		{ 2, "srv", 0, TCPTOP_TCP_ESTABLISHED, false, 0, 0, 80, 0 },
		{ 3, "srv", 0, TCPTOP_TCP_ESTABLISHED, false, 0, 0, 3000000, 0 },
	};
	const struct process_series *p;

	metrics_state_init(&m, 300 * SECOND);
	fold(&m, 1 * SECOND, rows, 3);
	fold(&m, 2 * SECOND, rows, 1);
	p = series(&m, "srv");
	cr_assert_eq(p->connections[TCPTOP_TCP_LISTEN], 1);
	cr_assert_eq(p->connections[TCPTOP_TCP_ESTABLISHED], 0);
	cr_assert(p->states_seen & (1u << TCPTOP_TCP_ESTABLISHED));
	cr_assert_eq(p->rtt_count, 2);
	cr_assert_eq(p->rtt_buckets[rtt_bucket(80)], 1);
	cr_assert_eq(rtt_bucket(80), 1);              /* 80 µs: above 50 µs, within 100 µs */
	cr_assert_eq(p->rtt_buckets[RTT_BUCKETS], 1); /* 3 s: +Inf */
	metrics_state_free(&m);
}

Test(metrics_state, process_goes_after_the_grace_period_not_before)
{
	struct metrics_state m;
	struct row_spec a = { 1, "gone", 0, TCPTOP_TCP_ESTABLISHED, false, 1, 0, 0, 0 };

	metrics_state_init(&m, 300 * SECOND);
	fold(&m, 1 * SECOND, &a, 1);
	fold(&m, 301 * SECOND, NULL, 0);
	cr_assert_not_null(series(&m, "gone"));
	fold(&m, 302 * SECOND, NULL, 0);
	cr_assert_null(series(&m, "gone"));
	cr_assert_eq(m.expired, 1);
	metrics_state_free(&m);
}

Test(metrics_state, names_past_the_bound_count_as_other)
{
	struct metrics_state m;
	size_t n = METRICS_MAX_PROCESSES + 10;
	struct row_spec *rows = calloc(n, sizeof(*rows));
	char(*names)[TCPTOP_COMM_LEN] = calloc(n, TCPTOP_COMM_LEN);

	metrics_state_init(&m, 300 * SECOND);
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], TCPTOP_COMM_LEN, "p%zu", i);
		rows[i] = (struct row_spec){ i + 1, names[i], 0, TCPTOP_TCP_ESTABLISHED, false, 1,
					     0,     0,        0 };
	}
	fold(&m, 1 * SECOND, rows, n);
	cr_assert_eq(m.nprocs, METRICS_MAX_PROCESSES + 1);
	cr_assert_eq(tcp_tx(&m, METRICS_OTHER_COMM), n - METRICS_MAX_PROCESSES);
	free(rows);
	free(names);
	metrics_state_free(&m);
}

Test(exposition, label_values_are_escaped_and_made_valid_utf8)
{
	char out[64];

	exposition_label_value("a\"b\\c\nd", out);
	cr_assert_str_eq(out, "a\\\"b\\\\c\\nd");
	exposition_label_value("caf\xc3\xa9\x01\xff", out);
	cr_assert_str_eq(out, "caf\xc3\xa9??");
}

Test(exposition, counter_families_are_named_per_format)
{
	struct exposition e;
	size_t len;
	char *text;

	exposition_init(&e, EXPOSITION_TEXT);
	exposition_family(&e, "x_bytes", METRIC_COUNTER, "h");
	text = exposition_finish(&e, &len);
	cr_assert_str_eq(text, "# HELP x_bytes_total h\n# TYPE x_bytes_total counter\n");
	free(text);
	exposition_init(&e, EXPOSITION_OPENMETRICS);
	exposition_family(&e, "x_bytes", METRIC_COUNTER, "h");
	text = exposition_finish(&e, &len);
	cr_assert_str_eq(text, "# HELP x_bytes h\n# TYPE x_bytes counter\n# EOF\n");
	free(text);
	cr_assert_eq(exposition_negotiate(NULL), EXPOSITION_TEXT);
	cr_assert_eq(exposition_negotiate("text/plain"), EXPOSITION_TEXT);
	cr_assert_eq(exposition_negotiate("application/openmetrics-text;version=1.0.0"),
		     EXPOSITION_OPENMETRICS);
}

static void check_listen(const char *text, const char *shown, bool beyond)
{
	struct listen_addr a;
	const char *why = NULL;
	char out[80];

	cr_assert_eq(listen_addr_parse(text, &a, &why), 0, "%s: %s", text, why);
	listen_addr_text(&a, out, sizeof(out));
	cr_assert_str_eq(out, shown);
	cr_assert_eq(a.beyond_loopback, beyond, "%s", text);
}

Test(listen_addr, port_alone_is_loopback_and_addresses_are_opt_ins)
{
	struct listen_addr a;
	const char *why;

	check_listen("9977", "127.0.0.1:9977", false);
	check_listen(":9977", "0.0.0.0:9977", true);
	check_listen("0.0.0.0:9977", "0.0.0.0:9977", true);
	check_listen("127.0.0.2:1", "127.0.0.2:1", false);
	check_listen("[::]:9977", "[::]:9977", true);
	check_listen("[::1]:9977", "[::1]:9977", false);
	cr_assert_eq(listen_addr_parse("0", &a, &why), -1);
	cr_assert_eq(listen_addr_parse("::1:80", &a, &why), -1);
	cr_assert_eq(listen_addr_parse("localhost:80", &a, &why), -1);
	cr_assert_eq(listen_addr_parse("[::1]", &a, &why), -1);
	cr_assert_eq(listen_addr_parse("1.2.3.4:", &a, &why), -1);
}
