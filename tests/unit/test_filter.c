/* Row filters, the address formatter and TCP state names. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "util/addr.h"
#include "view/filter.h"
#include "time_limit.h"
#include "identities.h"

TestSuite(addr, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(describe, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(filter, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(tcp_state, .timeout = UNIT_TIME_LIMIT_S);

static const uint8_t mapped_192_0_2_7[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 7 };
static const uint8_t v6_2001_db8_1[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

/* curl (pid 1234) on if 2, TCP 10.0.0.1:43210 -> 93.184.216.34:443. */
static struct flow_row tcp_row(void)
{
	struct flow_row row;

	memset(&row, 0, sizeof(row));
	row.key.cookie = 1;
	test_id(&row)->laddr[0] = 10;
	test_id(&row)->laddr[3] = 1;
	test_id(&row)->raddr[0] = 93;
	test_id(&row)->raddr[1] = 184;
	test_id(&row)->raddr[2] = 216;
	test_id(&row)->raddr[3] = 34;
	test_id(&row)->lport = 43210;
	test_id(&row)->rport = 443;
	test_id(&row)->family = TCPTOP_AF_INET;
	test_id(&row)->proto = TCPTOP_PROTO_TCP;
	test_id(&row)->tgid = 1234;
	test_id(&row)->ifindex = 2;
	strcpy(test_id(&row)->comm, "curl");
	row.state = TCPTOP_TCP_ESTABLISHED;
	return row;
}

static struct flow_row udp_row(void)
{
	struct flow_row row = tcp_row();

	test_id(&row)->proto = TCPTOP_PROTO_UDP;
	test_id(&row)->rport = 53;
	row.state = TCPTOP_STATE_NONE;
	return row;
}

static struct flow_row ipv6_row(void)
{
	struct flow_row row = tcp_row();

	test_id(&row)->family = TCPTOP_AF_INET6;
	memcpy(test_id(&row)->laddr, v6_2001_db8_1, 16);
	memcpy(test_id(&row)->raddr, v6_2001_db8_1, 16);
	test_id(&row)->raddr[15] = 2;
	return row;
}

/* A dual-stack socket the backend did not normalise: IPv6 family, v4-mapped bytes. */
static struct flow_row mapped_row(void)
{
	struct flow_row row = tcp_row();

	test_id(&row)->family = TCPTOP_AF_INET6;
	memcpy(test_id(&row)->laddr, mapped_192_0_2_7, 16);
	memcpy(test_id(&row)->raddr, mapped_192_0_2_7, 16);
	test_id(&row)->raddr[15] = 8;
	return row;
}

static void set_pids(struct filter *f, size_t n, const pid_t *pids)
{
	f->pids = malloc(n * sizeof(*pids));
	cr_assert_not_null(f->pids);
	memcpy(f->pids, pids, n * sizeof(*pids));
	f->npids = n;
}

static void set_comm(struct filter *f, const char *substring)
{
	f->comm_substring = strdup(substring);
	cr_assert_not_null(f->comm_substring);
}

static void assert_description(const struct filter *f, const char *expected)
{
	char text[256];

	filter_describe(f, text, sizeof(text));
	cr_assert_str_eq(text, expected);
}

/* ---------------------------------------------------------------- filter */

Test(filter, init_sets_every_criterion_to_any)
{
	struct filter f;

	memset(&f, 0xa5, sizeof(f));
	filter_init(&f);
	cr_assert_null(f.pids);
	cr_assert_eq(f.npids, 0);
	cr_assert_null(f.comm_substring);
	cr_assert_eq(f.port, -1);
	cr_assert_eq(f.sport, -1);
	cr_assert_eq(f.dport, -1);
	cr_assert_not(f.tcp || f.udp || f.ipv4 || f.ipv6);
	cr_assert_eq(f.ifindex, 0);
}

Test(filter, empty_filter_matches_every_row)
{
	struct flow_row rows[4] = { tcp_row(), udp_row(), ipv6_row(), mapped_row() };
	struct filter f;

	filter_init(&f);
	for (size_t i = 0; i < 4; i++)
		cr_assert(filter_match(&f, &rows[i]), "row %zu", i);
	test_id(&rows[0])->tgid = 0;
	memset(test_id(&rows[0])->comm, 0, sizeof(test_id(&rows[0])->comm));
	test_id(&rows[0])->ifindex = 0;
	cr_assert(filter_match(&f, &rows[0]));
}

Test(filter, free_releases_everything_and_is_safe_twice)
{
	static const pid_t pids[] = { 1, 2 };
	struct filter f;

	filter_init(&f);
	set_pids(&f, 2, pids);
	set_comm(&f, "curl");
	filter_free(&f);
	cr_assert_null(f.pids);
	cr_assert_eq(f.npids, 0);
	cr_assert_null(f.comm_substring);
	filter_free(&f);
}

Test(filter, matches_any_listed_pid)
{
	static const pid_t pids[] = { 12, 1234, 99 };
	struct flow_row row = tcp_row();
	struct filter f;

	filter_init(&f);
	set_pids(&f, 3, pids);
	cr_assert(filter_match(&f, &row));
	test_id(&row)->tgid = 13;
	cr_assert_not(filter_match(&f, &row));
	test_id(&row)->tgid = 99;
	cr_assert(filter_match(&f, &row));
	filter_free(&f);
}

Test(filter, pid_list_rejects_rows_without_owner)
{
	static const pid_t pids[] = { 1234 };
	struct flow_row row = tcp_row();
	struct filter f;

	filter_init(&f);
	set_pids(&f, 1, pids);
	test_id(&row)->tgid = 0;
	cr_assert_not(filter_match(&f, &row));
	filter_free(&f);
}

Test(filter, matches_comm_substring)
{
	struct flow_row row = tcp_row();
	struct filter f;

	filter_init(&f);
	strcpy(test_id(&row)->comm, "nginx: worker");
	set_comm(&f, "work");
	cr_assert(filter_match(&f, &row));
	strcpy(test_id(&row)->comm, "curl");
	cr_assert_not(filter_match(&f, &row));
	filter_free(&f);
}

Test(filter, comm_substring_is_case_sensitive)
{
	struct flow_row row = tcp_row();
	struct filter f;

	filter_init(&f);
	set_comm(&f, "Curl");
	cr_assert_not(filter_match(&f, &row));
	filter_free(&f);
}

Test(filter, reads_comm_that_fills_every_byte)
{
	struct flow_row row = tcp_row();
	struct filter f;

	filter_init(&f);
	memcpy(test_id(&row)->comm, "abcdefghijklmnop", TCPTOP_COMM_LEN);
	set_comm(&f, "mnop");
	cr_assert(filter_match(&f, &row));
	free(f.comm_substring);
	/* The byte after comm must not count as part of the name. */
	cr_assert_eq(offsetof(struct flow_identity, pad2),
		     offsetof(struct flow_identity, comm) + TCPTOP_COMM_LEN);
	memset(&test_id(&row)->pad2, 'q', 1); /* the byte that follows id->comm in memory */
	set_comm(&f, "pq");
	cr_assert_not(filter_match(&f, &row));
	filter_free(&f);
}

Test(filter, port_matches_either_side)
{
	struct flow_row row = tcp_row();
	struct filter f;

	filter_init(&f);
	f.port = 443;
	cr_assert(filter_match(&f, &row));
	f.port = 43210;
	cr_assert(filter_match(&f, &row));
	f.port = 80;
	cr_assert_not(filter_match(&f, &row));
}

Test(filter, sport_matches_local_port_only)
{
	struct flow_row row = tcp_row();
	struct filter f;

	filter_init(&f);
	f.sport = 43210;
	cr_assert(filter_match(&f, &row));
	f.sport = 443;
	cr_assert_not(filter_match(&f, &row));
}

Test(filter, dport_matches_remote_port_only)
{
	struct flow_row row = tcp_row();
	struct filter f;

	filter_init(&f);
	f.dport = 443;
	cr_assert(filter_match(&f, &row));
	f.dport = 43210;
	cr_assert_not(filter_match(&f, &row));
}

Test(filter, tcp_only_rejects_udp)
{
	struct flow_row tcp = tcp_row(), udp = udp_row();
	struct filter f;

	filter_init(&f);
	f.tcp = true;
	cr_assert(filter_match(&f, &tcp));
	cr_assert_not(filter_match(&f, &udp));
}

Test(filter, udp_only_rejects_tcp)
{
	struct flow_row tcp = tcp_row(), udp = udp_row();
	struct filter f;

	filter_init(&f);
	f.udp = true;
	cr_assert_not(filter_match(&f, &tcp));
	cr_assert(filter_match(&f, &udp));
}

Test(filter, tcp_and_udp_together_allow_both)
{
	struct flow_row tcp = tcp_row(), udp = udp_row();
	struct filter f;

	filter_init(&f);
	f.tcp = true;
	f.udp = true;
	cr_assert(filter_match(&f, &tcp));
	cr_assert(filter_match(&f, &udp));
}

Test(filter, ipv4_only_rejects_ipv6)
{
	struct flow_row v4 = tcp_row(), v6 = ipv6_row();
	struct filter f;

	filter_init(&f);
	f.ipv4 = true;
	cr_assert(filter_match(&f, &v4));
	cr_assert_not(filter_match(&f, &v6));
}

Test(filter, ipv6_only_rejects_ipv4)
{
	struct flow_row v4 = tcp_row(), v6 = ipv6_row();
	struct filter f;

	filter_init(&f);
	f.ipv6 = true;
	cr_assert_not(filter_match(&f, &v4));
	cr_assert(filter_match(&f, &v6));
}

Test(filter, v4_mapped_counts_as_ipv4)
{
	struct flow_row mapped = mapped_row();
	struct filter f;

	filter_init(&f);
	f.ipv4 = true;
	cr_assert(filter_match(&f, &mapped));
	f.ipv4 = false;
	f.ipv6 = true;
	cr_assert_not(filter_match(&f, &mapped));
}

Test(filter, unbound_ipv6_socket_talking_to_mapped_peer_counts_as_ipv4)
{
	struct flow_row row = mapped_row();
	struct filter f;

	memset(test_id(&row)->laddr, 0, sizeof(test_id(&row)->laddr));
	filter_init(&f);
	f.ipv4 = true;
	cr_assert(filter_match(&f, &row));
}

Test(filter, ipv4_and_ipv6_together_allow_both)
{
	struct flow_row v4 = tcp_row(), v6 = ipv6_row(), mapped = mapped_row();
	struct filter f;

	filter_init(&f);
	f.ipv4 = true;
	f.ipv6 = true;
	cr_assert(filter_match(&f, &v4));
	cr_assert(filter_match(&f, &v6));
	cr_assert(filter_match(&f, &mapped));
}

Test(filter, ifindex_matches_equal_index_only)
{
	struct flow_row row = tcp_row();
	struct filter f;

	filter_init(&f);
	f.ifindex = 2;
	cr_assert(filter_match(&f, &row));
	f.ifindex = 3;
	cr_assert_not(filter_match(&f, &row));
	test_id(&row)->ifindex = 0;
	f.ifindex = 2;
	cr_assert_not(filter_match(&f, &row));
}

Test(filter, requires_every_set_criterion)
{
	static const pid_t pids[] = { 1234 };
	struct flow_row row = tcp_row();
	struct filter f;

	filter_init(&f);
	set_pids(&f, 1, pids);
	set_comm(&f, "cur");
	f.port = 443;
	f.sport = 43210;
	f.dport = 443;
	f.tcp = true;
	f.ipv4 = true;
	f.ifindex = 2;
	cr_assert(filter_match(&f, &row));
	f.dport = 80;
	cr_assert_not(filter_match(&f, &row));
	f.dport = 443;
	test_id(&row)->ifindex = 5;
	cr_assert_not(filter_match(&f, &row));
	test_id(&row)->ifindex = 2;
	test_id(&row)->tgid = 1;
	cr_assert_not(filter_match(&f, &row));
	filter_free(&f);
}

/* ---------------------------------------------------------------- describe */

Test(describe, is_empty_for_empty_filter)
{
	struct filter f;

	filter_init(&f);
	assert_description(&f, "");
}

Test(describe, lists_every_criterion)
{
	static const pid_t pids[] = { 12, 13 };
	struct filter f;

	filter_init(&f);
	set_pids(&f, 2, pids);
	set_comm(&f, "curl");
	f.port = 443;
	f.sport = 1;
	f.dport = 2;
	f.tcp = f.udp = f.ipv4 = f.ipv6 = true;
	f.ifindex = 2;
	assert_description(&f,
			   "pid=12,13 proc=curl port=443 sport=1 dport=2 tcp udp ipv4 ipv6 if=2");
	filter_free(&f);
}

Test(describe, starts_without_separator_whatever_comes_first)
{
	struct filter f;

	filter_init(&f);
	f.udp = true;
	assert_description(&f, "udp");
	f.dport = 53;
	assert_description(&f, "dport=53 udp");
}

Test(describe, truncates_and_terminates_in_a_small_buffer)
{
	static const pid_t pids[] = { 12, 13 };
	char text[8];
	struct filter f;

	filter_init(&f);
	set_pids(&f, 2, pids);
	f.tcp = true;
	memset(text, 'x', sizeof(text));
	filter_describe(&f, text, sizeof(text));
	cr_assert_str_eq(text, "pid=12,");
	text[0] = 'x';
	filter_describe(&f, text, 1);
	cr_assert_str_eq(text, "");
	filter_free(&f);
}

/* ---------------------------------------------------------------- addr */

static void assert_formatted(uint8_t family, const uint8_t addr[16], const char *expected)
{
	char text[ADDR_TEXT_LEN];

	memset(text, 'x', sizeof(text));
	addr_format(family, addr, text, sizeof(text));
	cr_assert_str_eq(text, expected);
}

Test(addr, formats_ipv4_from_first_four_bytes)
{
	uint8_t addr[16] = { 192, 168, 1, 20 };

	memset(addr + 4, 0xee, 12);
	assert_formatted(TCPTOP_AF_INET, addr, "192.168.1.20");
}

Test(addr, formats_ipv6_in_compressed_form)
{
	static const uint8_t loopback[16] = { [15] = 1 };
	static const uint8_t full[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2,
					  0, 3, 0, 4, 0, 5, 0, 6 };

	assert_formatted(TCPTOP_AF_INET6, v6_2001_db8_1, "2001:db8::1");
	assert_formatted(TCPTOP_AF_INET6, loopback, "::1");
	assert_formatted(TCPTOP_AF_INET6, full, "2001:db8:1:2:3:4:5:6");
}

Test(addr, prints_v4_mapped_as_ipv4)
{
	assert_formatted(TCPTOP_AF_INET6, mapped_192_0_2_7, "192.0.2.7");
}

Test(addr, writes_empty_text_without_family)
{
	static const uint8_t addr[16] = { 10, 0, 0, 1 };

	assert_formatted(0, addr, "");
	assert_formatted(99, addr, "");
}

Test(addr, truncates_to_the_buffer)
{
	char text[4] = "xxx";

	addr_format(TCPTOP_AF_INET6, v6_2001_db8_1, text, sizeof(text));
	cr_assert_str_eq(text, "200");
}

Test(addr, recognises_only_the_v4_mapped_prefix)
{
	static const uint8_t compat[16] = { [12] = 192, 0, 2, 7 };
	static const uint8_t any[16];

	cr_assert(addr_is_v4_mapped(mapped_192_0_2_7));
	cr_assert_not(addr_is_v4_mapped(compat));
	cr_assert_not(addr_is_v4_mapped(any));
	cr_assert_not(addr_is_v4_mapped(v6_2001_db8_1));
}

/* ---------------------------------------------------------------- tcp states */

Test(tcp_state, names_every_kernel_state)
{
	static const char *const names[] = {
		"-", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
		"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
		"NEW_SYN_RECV", "BOUND_INACTIVE",
	};

	for (uint8_t s = 0; s < sizeof(names) / sizeof(names[0]); s++)
		cr_assert_str_eq(tcp_state_name(s), names[s], "state %u", s);
	cr_assert_str_eq(tcp_state_name(TCPTOP_TCP_LISTEN), "LISTEN");
	cr_assert_str_eq(tcp_state_name(TCPTOP_TCP_CLOSE), "CLOSE");
}

Test(tcp_state, names_unknown_states_unknown)
{
	cr_assert_str_eq(tcp_state_name(TCPTOP_TCP_MAX_STATES), "UNKNOWN");
	cr_assert_str_eq(tcp_state_name(200), "UNKNOWN");
	cr_assert_str_eq(tcp_state_name(255), "UNKNOWN");
}
