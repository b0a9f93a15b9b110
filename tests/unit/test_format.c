/* The output contract: the column table, CSV and JSONL text, time stamps and --sort order,
 * and the stdio-free number and address text they are written with. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/addr.h"
#include "view/alert.h"
#include "view/columns.h"
#include "view/filter.h"
#include "output/format.h"
#include "util/numtext.h"
#include "output/output.h"
#include "snapshot.h"
#include "plain_view.h"
#include "time_limit.h"
#include "identities.h"

TestSuite(addr_text, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(columns, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(csv, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(format, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(jsonl, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(numtext, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(plain_view, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(sort, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(time, .timeout = UNIT_TIME_LIMIT_S);

#define TIME_TEXT "2026-11-23T14:05:01.250Z"
#define CSV_HEADER                                                                          \
	"time,pid,comm,proto,laddr,lport,raddr,rport,state,tx_bytes,rx_bytes,tx_packets,"   \
	"rx_packets,tx_rate,rx_rate,rtt_us,retrans,age_s,netns\n"

static void set_v4(uint8_t addr[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	memset(addr, 0, 16);
	addr[0] = a;
	addr[1] = b;
	addr[2] = c;
	addr[3] = d;
}

/* curl, 10.0.0.1:43210 -> 93.184.216.34:443, ESTABLISHED. */
static struct flow_row tcp_row(void)
{
	struct flow_row row;

	memset(&row, 0, sizeof(row));
	row.key.cookie = 7;
	set_v4(test_id(&row)->laddr, 10, 0, 0, 1);
	set_v4(test_id(&row)->raddr, 93, 184, 216, 34);
	test_id(&row)->lport = 43210;
	test_id(&row)->rport = 443;
	test_id(&row)->family = TCPTOP_AF_INET;
	test_id(&row)->proto = TCPTOP_PROTO_TCP;
	test_id(&row)->tgid = 1234;
	test_id(&row)->netns = 4026531840u;
	test_id(&row)->ifindex = 2;
	strcpy(test_id(&row)->comm, "curl");
	row.state = TCPTOP_TCP_ESTABLISHED;
	row.tx_bytes = 10000;
	row.rx_bytes = 2000;
	row.tx_packets = 10;
	row.rx_packets = 5;
	row.tx_rate = 1500.4;
	row.rx_rate = 250.6;
	row.srtt_us = 12345;
	row.retrans = 2;
	row.age_s = 1.5;
	return row;
}

/* nginx listening on 0.0.0.0:80: no peer, no RTT. */
static struct flow_row listen_row(void)
{
	struct flow_row row = tcp_row();

	strcpy(test_id(&row)->comm, "nginx");
	test_id(&row)->tgid = 80;
	set_v4(test_id(&row)->laddr, 0, 0, 0, 0);
	memset(test_id(&row)->raddr, 0, sizeof(test_id(&row)->raddr));
	test_id(&row)->lport = 80;
	test_id(&row)->rport = 0;
	row.state = TCPTOP_TCP_LISTEN;
	row.tx_bytes = row.rx_bytes = row.tx_packets = row.rx_packets = 0;
	row.tx_rate = row.rx_rate = 0;
	row.srtt_us = 0;
	row.retrans = 0;
	return row;
}

/* A DNS query: UDP, with a peer. The retrans and srtt fields hold junk a UDP row ignores. */
static struct flow_row udp_row(void)
{
	struct flow_row row = tcp_row();

	strcpy(test_id(&row)->comm, "dig");
	set_v4(test_id(&row)->raddr, 9, 9, 9, 9);
	test_id(&row)->lport = 5353;
	test_id(&row)->rport = 53;
	test_id(&row)->proto = TCPTOP_PROTO_UDP;
	row.state = TCPTOP_STATE_NONE;
	row.srtt_us = 99;
	row.retrans = 3;
	return row;
}

/* Caller frees. */
static char *format_to_string(enum output_format fmt, const char *time_text,
			      const struct flow_row *row)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	cr_assert_not_null(out);
	if (row)
		cr_assert_eq(format_row(out, fmt, time_text, row), 0);
	else
		cr_assert_eq(format_header(out, fmt), 0);
	cr_assert_eq(fclose(out), 0);
	return text;
}

static void assert_row_text(enum output_format fmt, const struct flow_row *row,
			    const char *expected)
{
	char *text = format_to_string(fmt, TIME_TEXT, row);

	cr_assert_str_eq(text, expected);
	free(text);
}

static void assert_comm_csv(const char *comm, const char *expected_field)
{
	struct flow_row row = tcp_row();
	char expected[256];

	strcpy(test_id(&row)->comm, comm);
	snprintf(expected, sizeof(expected),
		 TIME_TEXT ",1234,%s,TCP,10.0.0.1,43210,93.184.216.34,443,ESTABLISHED,"
			   "10000,2000,10,5,1500,251,12345,2,1.500,4026531840\n",
		 expected_field);
	assert_row_text(FORMAT_CSV, &row, expected);
}

static void assert_comm_json(const char *comm, const char *expected_value)
{
	struct flow_row row = tcp_row();
	char *text, needle[128];

	memcpy(test_id(&row)->comm, comm, strnlen(comm, TCPTOP_COMM_LEN));
	test_id(&row)->comm[strnlen(comm, TCPTOP_COMM_LEN - 1)] = '\0';
	text = format_to_string(FORMAT_JSONL, TIME_TEXT, &row);
	snprintf(needle, sizeof(needle), ",\"comm\":%s,\"proto\":", expected_value);
	cr_assert_not_null(strstr(text, needle), "no %s in %s", needle, text);
	free(text);
}

/* ---------------------------------------------------------------- time */

Test(time, formats_iso8601_with_milliseconds)
{
	struct timespec when = { .tv_sec = 1795442701, .tv_nsec = 250000000 };
	char text[32];

	format_time_iso8601(&when, text, sizeof(text));
	cr_assert_str_eq(text, "2026-11-23T14:05:01.250Z");
}

Test(time, truncates_milliseconds_instead_of_rounding)
{
	struct timespec when = { .tv_sec = 1795442701, .tv_nsec = 999999999 };
	char text[32];

	format_time_iso8601(&when, text, sizeof(text));
	cr_assert_str_eq(text, "2026-11-23T14:05:01.999Z");
}

Test(time, pads_milliseconds_and_formats_the_epoch)
{
	struct timespec when = { .tv_sec = 0, .tv_nsec = 7000000 };
	char text[32];

	format_time_iso8601(&when, text, sizeof(text));
	cr_assert_str_eq(text, "1970-01-01T00:00:00.007Z");
}

/* ---------------------------------------------------------------- columns */

Test(columns, lookup_accepts_every_column_name_and_rate)
{
	static const char *const names[COL_COUNT] = {
		"time",        "pid",        "comm",        "proto",       "laddr",
		"lport",       "raddr",      "rport",       "state",       "tx_bytes",
		"rx_bytes",    "tx_packets", "rx_packets",  "tx_rate",     "rx_rate",
		"rtt_us",      "retrans",    "age_s",       "netns",       "cgroup",
		"tx_rate_2s",  "rx_rate_2s", "tx_rate_10s", "rx_rate_10s", "tx_rate_40s",
		"rx_rate_40s", "history",    "backlog",     "backlog_max", "drops",
		"drop_rate",   "sendq",      "recvq",       "cwnd",        "delivery_rate",
		"limited",     "alert",      "flows",       "established", "opening",
		"closing",     "listen",     "closed",      "udp",         "port",
	};

	for (int id = 0; id < COL_COUNT; id++) {
		cr_assert_str_eq(column_table[id].name, names[id]);
		cr_assert_eq(column_lookup(names[id]), id, "%s", names[id]);
		cr_assert_str_eq(column_name(id), names[id]);
	}
	cr_assert_eq(column_lookup("rate"), COL_RATE);
	cr_assert_str_eq(column_name(COL_RATE), "rate");
}

/* The -o list as text, names comma-separated. */
static void assert_chosen(const char *text, const struct column_list *defaults, const char *want)
{
	struct column_list out;
	const char *bad = NULL;
	size_t bad_len = 0;
	char got[512] = "";

	cr_assert_eq(column_list_choose(text, defaults, &out, &bad, &bad_len), 0, "%s", text);
	for (int i = 0; i < out.count; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? "," : "",
			 column_name(out.id[i]));
	cr_assert_str_eq(got, want, "-o %s", text);
}

Test(columns, choice_replaces_adds_and_removes)
{
	struct column_list defaults = { 3, { COL_PID, COL_COMM, COL_TX_RATE } };

	assert_chosen("rx_rate,pid", &defaults, "rx_rate,pid");
	assert_chosen("+netns", &defaults, "pid,comm,tx_rate,netns");
	assert_chosen("-comm", &defaults, "pid,tx_rate");
	assert_chosen("+netns,-pid,+pid", &defaults, "comm,tx_rate,netns,pid");
	assert_chosen("pid,pid,+comm,-rx_rate", &defaults, "pid,comm");
	assert_chosen("-pid,-comm,-tx_rate", &defaults, "");
}

Test(columns, choice_names_the_first_unknown_or_empty_name)
{
	struct column_list defaults, out;
	const char *bad = NULL, *text = "pid,+bogus,-nope";
	size_t bad_len = 99;

	column_list_defaults(&defaults);
	cr_assert_eq(column_list_choose(text, &defaults, &out, &bad, &bad_len), -1);
	cr_assert_eq(bad, text + 5);
	cr_assert_eq(bad_len, 5);
	text = "pid,,comm";
	cr_assert_eq(column_list_choose(text, &defaults, &out, &bad, &bad_len), -1);
	cr_assert_eq(bad_len, 0);
	cr_assert_eq(column_list_choose("", &defaults, &out, &bad, &bad_len), -1);
	cr_assert_eq(column_list_choose("rate", &defaults, &out, &bad, &bad_len), -1,
		     "rate is a sort key, not a column");
	cr_assert_eq(column_list_choose("PID", &defaults, &out, &bad, &bad_len), -1);
}

Test(format, chosen_columns_write_only_those_in_their_order)
{
	struct column_list list = { 4, { COL_TIME, COL_RPORT, COL_COMM, COL_AGE_S } };
	struct flow_row row = tcp_row();
	struct format_snapshot fs;
	char line[FORMAT_LINE_MAX];
	size_t len;

	row.age_s = 2.5;
	cr_assert_eq(format_snapshot_init(&fs, FORMAT_CSV, &list, TIME_TEXT), 0);
	len = format_line(&fs, &row, line);
	line[len] = '\0';
	cr_assert_str_eq(line, TIME_TEXT ",443,curl,2.500\n");
	cr_assert_eq(format_header_text(FORMAT_CSV, &list, line), 22);
	line[22] = '\0';
	cr_assert_str_eq(line, "time,rport,comm,age_s\n");
	cr_assert_eq(format_snapshot_init(&fs, FORMAT_JSONL, &list, TIME_TEXT), 0);
	len = format_line(&fs, &row, line);
	line[len] = '\0';
	cr_assert_str_eq(line, "{\"time\":\"" TIME_TEXT "\",\"rport\":443,\"comm\":\"curl\","
			       "\"age_s\":2.500}\n");
	list.id[0] = COL_PID;
	cr_assert_lt(format_snapshot_init(&fs, FORMAT_CSV, &list, TIME_TEXT), 0,
		     "time comes first");
}

/* One line of row in the health columns. */
static const char *health_line(const struct flow_row *row, enum output_format fmt)
{
	static const struct column_list list = {
		6, { COL_TIME, COL_SENDQ, COL_RECVQ, COL_CWND, COL_DELIVERY_RATE, COL_LIMITED }
	};
	static char line[FORMAT_LINE_MAX];
	struct format_snapshot fs;

	cr_assert_eq(format_snapshot_init(&fs, fmt, &list, TIME_TEXT), 0);
	line[format_line(&fs, row, line)] = '\0';
	return line;
}

Test(format, health_columns_write_the_sample_and_the_main_limit_or_all_shares)
{
	struct flow_row row = tcp_row();

	cr_assert_str_eq(health_line(&row, FORMAT_CSV), TIME_TEXT ",,,,,\n", "no sample yet");
	row.health.known = TCPTOP_HEALTH_CWND; /* the compat set's */
	row.health.cwnd = 10;
	row.health.delivery_rate = 1000.0f;
	cr_assert_str_eq(health_line(&row, FORMAT_CSV), TIME_TEXT ",,,10,1000.0,\n");
	row.health.known |= TCPTOP_HEALTH_QUEUES | FLOW_HEALTH_LIMITED;
	row.health.sendq = 4096;
	row.health.recvq = 0;
	row.health.limited[0] = 20; /* cwnd */
	row.health.limited[1] = 70; /* rwnd; app is the 10 left */
	cr_assert_str_eq(health_line(&row, FORMAT_CSV), TIME_TEXT ",4096,0,10,1000.0,rwnd\n");
	cr_assert_str_eq(health_line(&row, FORMAT_JSONL),
			 "{\"time\":\"" TIME_TEXT "\",\"sendq\":4096,\"recvq\":0,\"cwnd\":10,"
			 "\"delivery_rate\":1000.0,\"limited\":{\"app\":0.10,\"cwnd\":0.20,"
			 "\"rwnd\":0.70,\"sndbuf\":0.00}}\n");
}

Test(format, a_listeners_queues_are_its_backlog_limit_and_accept_queue)
{
	struct flow_row row = tcp_row();

	row.state = TCPTOP_TCP_LISTEN;
	row.listen_known = true;
	row.backlog = 3;
	row.backlog_max = 128;
	cr_assert_str_eq(health_line(&row, FORMAT_CSV), TIME_TEXT ",128,3,,,\n");
}

Test(columns, lookup_refuses_unknown_names)
{
	cr_assert_eq(column_lookup("bogus"), -1);
	cr_assert_eq(column_lookup(""), -1);
	cr_assert_eq(column_lookup("PID"), -1);
	cr_assert_eq(column_lookup("tx_rate "), -1);
	cr_assert_null(column_name(-1));
	cr_assert_null(column_name(COL_RATE + 1));
}

Test(columns, kinds_and_decimals_follow_the_contract)
{
	static const enum column_kind kinds[COL_COUNT] = {
		COLUMN_TEXT,    COLUMN_INTEGER, COLUMN_TEXT,    COLUMN_TEXT,    COLUMN_TEXT,
		COLUMN_INTEGER, COLUMN_TEXT,    COLUMN_INTEGER, COLUMN_TEXT,    COLUMN_INTEGER,
		COLUMN_INTEGER, COLUMN_INTEGER, COLUMN_INTEGER, COLUMN_REAL,    COLUMN_REAL,
		COLUMN_INTEGER, COLUMN_INTEGER, COLUMN_REAL,    COLUMN_INTEGER, COLUMN_TEXT,
		COLUMN_REAL,    COLUMN_REAL,    COLUMN_REAL,    COLUMN_REAL,    COLUMN_REAL,
		COLUMN_REAL,    COLUMN_TEXT,    COLUMN_INTEGER, COLUMN_INTEGER, COLUMN_INTEGER,
		COLUMN_REAL,    COLUMN_INTEGER, COLUMN_INTEGER, COLUMN_INTEGER, COLUMN_REAL,
		COLUMN_TEXT,    COLUMN_INTEGER, COLUMN_INTEGER, COLUMN_INTEGER, COLUMN_INTEGER,
		COLUMN_INTEGER, COLUMN_INTEGER, COLUMN_INTEGER, COLUMN_INTEGER, COLUMN_INTEGER,
	};

	for (int id = 0; id < COL_COUNT; id++)
		cr_assert_eq(column_table[id].kind, kinds[id], "%s", column_table[id].name);
	cr_assert_eq(column_table[COL_TX_RATE].decimals, 0);
	cr_assert_eq(column_table[COL_RX_RATE].decimals, 0);
	cr_assert_eq(column_table[COL_AGE_S].decimals, 3);
}

/* The names on the .B/.BR line after each .TP of the man page's OUTPUT section, in order. */
static size_t man_page_columns(char names[][32], size_t room)
{
	const char *srcdir = getenv("TCPTOP_SRCDIR");
	char path[4096], line[512], previous[512] = "";
	bool in_output = false;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/doc/tcptop.8", srcdir ? srcdir : "..");
	f = fopen(path, "r");
	cr_assert_not_null(f, "cannot read %s (set TCPTOP_SRCDIR)", path);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, ".SH ", 4) == 0)
			in_output = strcmp(line, ".SH OUTPUT\n") == 0;
		else if (in_output && strcmp(previous, ".TP\n") == 0 &&
			 (strncmp(line, ".B ", 3) == 0 || strncmp(line, ".BR ", 4) == 0))
			/* Words outside quotes: ".BR laddr \", \" lport" names two. */
			for (char *p = strchr(line, ' '), *end; p && *p; p = end) {
				p += strspn(p, " \n");
				if (*p == '"') {
					end = strchr(p + 1, '"');
					end = end ? end + 1 : p + strlen(p);
					continue;
				}
				end = p + strcspn(p, " \n");
				if (end > p && n < room)
					snprintf(names[n++], 32, "%.*s", (int)(end - p), p);
			}
		snprintf(previous, sizeof(previous), "%s", line);
	}
	fclose(f);
	return n;
}

Test(columns, man_page_lists_every_column_in_table_order)
{
	char names[2 * COL_COUNT][32];
	size_t n = man_page_columns(names, 2 * COL_COUNT);

	cr_assert_eq(n, COL_COUNT, "the man page's OUTPUT lists %zu columns, the table %d", n,
		     COL_COUNT);
	for (int id = 0; id < COL_COUNT; id++)
		cr_assert_str_eq(names[id], column_table[id].name, "column %d", id);
}

Test(columns, line_room_holds_the_longest_line)
{
	struct format_snapshot fs;

	cr_assert_leq(FORMAT_TIME_CELL_SIZE + column_line_max(), FORMAT_LINE_MAX);
	cr_assert_eq(format_snapshot_init(&fs, FORMAT_JSONL, NULL, TIME_TEXT), 0);
}

Test(columns, leaves_time_null_for_the_caller)
{
	struct flow_row row = tcp_row();
	struct column_value v;

	column_value(&row, COL_TIME, &v);
	cr_assert(v.is_null);
	cr_assert_eq(v.kind, COLUMN_TEXT);
}

Test(columns, rate_is_the_sum_of_both_directions)
{
	struct flow_row row = tcp_row();
	struct column_value v;

	column_value(&row, COL_RATE, &v);
	cr_assert_eq(v.kind, COLUMN_REAL);
	cr_assert_not(v.is_null);
	cr_assert_float_eq(v.real, 1751.0, 1e-9);
}

Test(columns, keeps_a_peer_at_the_zero_address_that_has_a_port)
{
	struct flow_row row = tcp_row();
	struct column_value v;

	memset(test_id(&row)->raddr, 0, sizeof(test_id(&row)->raddr));
	column_value(&row, COL_RADDR, &v);
	cr_assert_not(v.is_null);
	cr_assert_str_eq(v.text, "0.0.0.0");
}

Test(columns, reads_a_comm_that_fills_every_byte)
{
	struct flow_row row = tcp_row();
	struct column_value v;

	memcpy(test_id(&row)->comm, "abcdefghijklmnop", TCPTOP_COMM_LEN);
	column_value(&row, COL_COMM, &v);
	cr_assert_str_eq(v.text, "abcdefghijklmnop");
}

/* ---------------------------------------------------------------- csv */

Test(csv, header_lists_every_column_in_order)
{
	char *text = format_to_string(FORMAT_CSV, NULL, NULL);

	cr_assert_str_eq(text, CSV_HEADER);
	free(text);
}

Test(csv, formats_established_tcp_row)
{
	struct flow_row row = tcp_row();

	assert_row_text(FORMAT_CSV, &row,
			TIME_TEXT ",1234,curl,TCP,10.0.0.1,43210,93.184.216.34,443,ESTABLISHED,"
				  "10000,2000,10,5,1500,251,12345,2,1.500,4026531840\n");
}

Test(csv, leaves_raddr_empty_for_listen_row)
{
	struct flow_row row = listen_row();

	assert_row_text(FORMAT_CSV, &row,
			TIME_TEXT ",80,nginx,TCP,0.0.0.0,80,,,LISTEN,0,0,0,0,0,0,,0,1.500,"
				  "4026531840\n");
}

Test(csv, leaves_rtt_empty_and_retrans_zero_for_udp_row)
{
	struct flow_row row = udp_row();

	assert_row_text(FORMAT_CSV, &row,
			TIME_TEXT ",1234,dig,UDP,10.0.0.1,5353,9.9.9.9,53,-,10000,2000,10,5,1500,"
				  "251,,0,1.500,4026531840\n");
}

Test(csv, leaves_peer_empty_for_udp_unknown_peer_row)
{
	struct flow_row row = udp_row();

	memset(test_id(&row)->raddr, 0, sizeof(test_id(&row)->raddr));
	test_id(&row)->rport = 0;
	assert_row_text(FORMAT_CSV, &row,
			TIME_TEXT ",1234,dig,UDP,10.0.0.1,5353,,,-,10000,2000,10,5,1500,251,,0,"
				  "1.500,4026531840\n");
}

Test(csv, leaves_pid_and_comm_empty_for_unknown_owner)
{
	struct flow_row row = tcp_row();

	test_id(&row)->tgid = 0;
	memset(test_id(&row)->comm, 0, sizeof(test_id(&row)->comm));
	assert_row_text(FORMAT_CSV, &row,
			TIME_TEXT ",,,TCP,10.0.0.1,43210,93.184.216.34,443,ESTABLISHED,"
				  "10000,2000,10,5,1500,251,12345,2,1.500,4026531840\n");
}

Test(csv, quotes_comm_with_comma)
{
	assert_comm_csv("a,b", "\"a,b\"");
}

Test(csv, doubles_quotes_inside_quoted_comm)
{
	assert_comm_csv("say \"hi\"", "\"say \"\"hi\"\"\"");
}

Test(csv, escapes_line_breaks_and_tabs_instead_of_quoting_them)
{
	assert_comm_csv("a\nb", "a\\x0ab");
	assert_comm_csv("a\rb", "a\\x0db");
	assert_comm_csv("\tlead", "\\x09lead");
}

/* What a terminal would act on, in a name any user can give a process (issue 16). */
Test(csv, escapes_terminal_controls_c1_and_bytes_that_are_not_utf8)
{
	assert_comm_csv("ev\x1b]0;own\x07\x9b"
			"1m",
			"ev\\x1b]0;own\\x07\\x9b1m");
	assert_comm_csv("del\x7f", "del\\x7f");
	assert_comm_csv("csi\xc2\x9b"
			"1m",
			"csi\\xc2\\x9b1m");              /* U+009B, valid UTF-8 */
	assert_comm_csv("abc\xe2\x82", "abc\\xe2\\x82"); /* a character cut short */
}

Test(csv, escapes_backslash_so_that_no_escape_can_be_forged)
{
	assert_comm_csv("a\\x1b", "a\\\\x1b");
}

Test(csv, escapes_inside_quotes_when_both_are_needed)
{
	assert_comm_csv("a,\x1b\"", "\"a,\\x1b\"\"\"");
}

Test(csv, quotes_comm_with_leading_or_trailing_space)
{
	assert_comm_csv(" lead", "\" lead\"");
	assert_comm_csv("trail ", "\"trail \"");
}

Test(csv, leaves_inner_spaces_and_utf8_text_as_they_are)
{
	assert_comm_csv("my app", "my app");
	assert_comm_csv("caf\xc3\xa9", "caf\xc3\xa9");
	assert_comm_csv("\xe2\x82\xac \xc2\xa0\xf0\x9f\x90\xa7",
			"\xe2\x82\xac \xc2\xa0\xf0\x9f\x90\xa7");
}

Test(csv, prints_v4_mapped_address_as_ipv4)
{
	static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 7 };
	struct flow_row row = tcp_row();
	char *text;

	test_id(&row)->family = TCPTOP_AF_INET6;
	memcpy(test_id(&row)->laddr, mapped, 16);
	memcpy(test_id(&row)->raddr, mapped, 16);
	test_id(&row)->raddr[15] = 8;
	text = format_to_string(FORMAT_CSV, TIME_TEXT, &row);
	cr_assert_not_null(strstr(text, ",TCP,192.0.2.7,43210,192.0.2.8,443,"), "%s", text);
	free(text);
}

Test(csv, prints_ipv6_addresses_in_compressed_form)
{
	static const uint8_t local[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t remote[16] = { 0xfe, 0x80, [14] = 0xab, [15] = 0xcd };
	struct flow_row row = tcp_row();
	char *text;

	test_id(&row)->family = TCPTOP_AF_INET6;
	memcpy(test_id(&row)->laddr, local, 16);
	memcpy(test_id(&row)->raddr, remote, 16);
	text = format_to_string(FORMAT_CSV, TIME_TEXT, &row);
	cr_assert_not_null(strstr(text, ",TCP,2001:db8::1,43210,fe80::abcd,443,"), "%s", text);
	free(text);
}

Test(csv, rounds_rates_to_whole_bytes_per_second)
{
	struct flow_row row = tcp_row();
	char *text;

	row.tx_rate = 0.4;
	row.rx_rate = 2.6;
	row.age_s = 0.0004;
	text = format_to_string(FORMAT_CSV, TIME_TEXT, &row);
	cr_assert_not_null(strstr(text, ",10,5,0,3,12345,2,0.000,"), "%s", text);
	free(text);
}

Test(csv, prints_full_64_bit_counters)
{
	struct flow_row row = tcp_row();
	char *text;

	row.tx_bytes = UINT64_MAX;
	text = format_to_string(FORMAT_CSV, TIME_TEXT, &row);
	cr_assert_not_null(strstr(text, ",ESTABLISHED,18446744073709551615,2000,"), "%s", text);
	free(text);
}

/* ---------------------------------------------------------------- jsonl */

Test(jsonl, header_is_empty)
{
	char *text = format_to_string(FORMAT_JSONL, NULL, NULL);

	cr_assert_str_eq(text, "");
	free(text);
}

Test(jsonl, formats_established_tcp_row)
{
	struct flow_row row = tcp_row();

	assert_row_text(FORMAT_JSONL, &row,
			"{\"time\":\"" TIME_TEXT "\",\"pid\":1234,\"comm\":\"curl\","
			"\"proto\":\"TCP\",\"laddr\":\"10.0.0.1\",\"lport\":43210,"
			"\"raddr\":\"93.184.216.34\","
			"\"rport\":443,\"state\":\"ESTABLISHED\",\"tx_bytes\":10000,"
			"\"rx_bytes\":2000,\"tx_packets\":10,\"rx_packets\":5,\"tx_rate\":1500,"
			"\"rx_rate\":251,\"rtt_us\":12345,\"retrans\":2,\"age_s\":1.500,"
			"\"netns\":4026531840}\n");
}

Test(jsonl, prints_null_for_udp_rtt)
{
	struct flow_row row = udp_row();
	char *text = format_to_string(FORMAT_JSONL, TIME_TEXT, &row);

	cr_assert_not_null(strstr(text, ",\"state\":\"-\","), "%s", text);
	cr_assert_not_null(strstr(text, ",\"rtt_us\":null,\"retrans\":0,"), "%s", text);
	free(text);
}

Test(jsonl, prints_null_peer_and_rtt_for_listen_row)
{
	struct flow_row row = listen_row();
	char *text = format_to_string(FORMAT_JSONL, TIME_TEXT, &row);

	cr_assert_not_null(strstr(text, ",\"raddr\":null,\"rport\":null,\"state\":\"LISTEN\","),
			   "%s", text);
	cr_assert_not_null(strstr(text, ",\"rtt_us\":null,"), "%s", text);
	free(text);
}

Test(jsonl, prints_null_for_unknown_owner)
{
	struct flow_row row = tcp_row();
	char *text;

	test_id(&row)->tgid = 0;
	memset(test_id(&row)->comm, 0, sizeof(test_id(&row)->comm));
	text = format_to_string(FORMAT_JSONL, TIME_TEXT, &row);
	cr_assert_not_null(strstr(text, "\",\"pid\":null,\"comm\":null,\"proto\":"), "%s", text);
	free(text);
}

Test(jsonl, prints_null_time_without_caller_time)
{
	struct flow_row row = tcp_row();
	char *text = format_to_string(FORMAT_JSONL, NULL, &row);

	cr_assert_eq(strncmp(text, "{\"time\":null,\"pid\":1234,", 24), 0, "%s", text);
	free(text);
}

Test(jsonl, escapes_quotes_backslashes_and_control_chars)
{
	assert_comm_json("a\"b\\c\x01\n\x1f", "\"a\\\"b\\\\c\\u0001\\u000a\\u001f\"");
}

Test(jsonl, passes_valid_utf8_through)
{
	assert_comm_json("caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"");
}

Test(jsonl, replaces_bytes_that_are_not_utf8)
{
	/* "€" is e2 82 ac: the kernel's 15-byte cut left the first two bytes. */
	assert_comm_json("abc\xe2\x82", "\"abc\\ufffd\\ufffd\"");
	assert_comm_json("\xff\xc0\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
}

/* What a terminal would act on, in a name any user can give a process (issue 16). */
Test(jsonl, escapes_del_and_c1_controls)
{
	assert_comm_json("ev\x1b]0;own\x07\x9b"
			 "1m",
			 "\"ev\\u001b]0;own\\u0007\\ufffd1m\"");
	assert_comm_json("del\x7f", "\"del\\u007f\"");
	assert_comm_json("csi\xc2\x9b\xc2\x80\xc2\x9f", "\"csi\\u009b\\u0080\\u009f\"");
	assert_comm_json("nbsp\xc2\xa0", "\"nbsp\xc2\xa0\"");
}

Test(jsonl, prints_null_for_non_finite_rate)
{
	struct flow_row row = tcp_row();
	char *text;

	row.tx_rate = NAN;
	row.rx_rate = INFINITY;
	text = format_to_string(FORMAT_JSONL, TIME_TEXT, &row);
	cr_assert_not_null(strstr(text, ",\"tx_rate\":null,\"rx_rate\":null,"), "%s", text);
	free(text);
}

/* A small JSON checker: enough of RFC 8259 for one flat object per line. */
struct json_cursor {
	const unsigned char *p;
};

static bool json_string(struct json_cursor *c, char *copy, size_t len)
{
	size_t n = 0;

	if (*c->p++ != '"')
		return false;
	while (*c->p != '"') {
		unsigned char ch = *c->p++;

		if (ch < 0x20)
			return false;
		if (ch == '\\') {
			if (*c->p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", c->p[i]) || !c->p[i])
						return false;
				c->p += 5;
			} else if (*c->p && strchr("\"\\/bfnrt", *c->p)) {
				c->p++;
			} else {
				return false;
			}
		} else if (ch >= 0x80) {
			int extra = ch >= 0xf0 ? 3 : ch >= 0xe0 ? 2 : ch >= 0xc2 ? 1 : -1;

			if (extra < 0 || ch > 0xf4)
				return false;
			for (int i = 0; i < extra; i++)
				if ((*c->p++ & 0xc0) != 0x80)
					return false;
		}
		if (copy && n + 1 < len)
			copy[n++] = (char)ch;
	}
	c->p++;
	if (copy)
		copy[n] = '\0';
	return true;
}

static bool json_number(struct json_cursor *c)
{
	const unsigned char *start = c->p;

	if (*c->p == '-')
		c->p++;
	if (*c->p == '0')
		c->p++;
	else if (*c->p >= '1' && *c->p <= '9')
		while (*c->p >= '0' && *c->p <= '9')
			c->p++;
	else
		return false;
	if (*c->p == '.') {
		c->p++;
		if (!(*c->p >= '0' && *c->p <= '9'))
			return false;
		while (*c->p >= '0' && *c->p <= '9')
			c->p++;
	}
	return c->p > start;
}

static bool json_value(struct json_cursor *c)
{
	if (*c->p == '"')
		return json_string(c, NULL, 0);
	if (strncmp((const char *)c->p, "null", 4) == 0) {
		c->p += 4;
		return true;
	}
	return json_number(c);
}

/* True when line is exactly one object with the column names as keys, in order. */
static bool json_line_is_row_object(const char *line)
{
	struct json_cursor c = { (const unsigned char *)line };
	struct column_list shown;
	char key[32];

	column_list_defaults(&shown);
	if (*c.p++ != '{')
		return false;
	for (int i = 0; i < shown.count; i++) {
		int id = shown.id[i];

		if (id > 0 && *c.p++ != ',')
			return false;
		if (!json_string(&c, key, sizeof(key)) || strcmp(key, column_table[id].name) != 0)
			return false;
		if (*c.p++ != ':' || !json_value(&c))
			return false;
	}
	return c.p[0] == '}' && c.p[1] == '\n' && c.p[2] == '\0';
}

Test(jsonl, every_line_is_a_well_formed_object)
{
	struct flow_row rows[6] = { tcp_row(), listen_row(), udp_row(), tcp_row(), tcp_row(),
				    tcp_row() };

	memcpy(test_id(&rows[3])->comm, "\"\\\x01\x7f\xff{},:[]\xe2\x82\xac\xc3", TCPTOP_COMM_LEN);
	test_id(&rows[4])->tgid = 0;
	test_id(&rows[4])->comm[0] = '\0';
	rows[5].tx_rate = NAN;
	rows[5].tx_bytes = UINT64_MAX;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *text = format_to_string(FORMAT_JSONL, TIME_TEXT, &rows[i]);

		cr_assert(json_line_is_row_object(text), "row %zu: %s", i, text);
		free(text);
	}
}

Test(jsonl, checker_refuses_malformed_lines)
{
	cr_assert_not(json_line_is_row_object("{\"time\":nul}\n"));
	cr_assert_not(json_line_is_row_object("{\"time\":\"a\nb\"}\n"));
	cr_assert_not(json_line_is_row_object("{\"time\":\"x\"}\n"));
}

/* ---------------------------------------------------------------- write errors */

static void assert_write_fails(enum output_format fmt, bool header)
{
	struct flow_row row = tcp_row();
	FILE *full = fopen("/dev/full", "w");

	cr_assert_not_null(full);
	setvbuf(full, NULL, _IONBF, 0);
	if (header)
		cr_assert_lt(format_header(full, fmt), 0);
	else
		cr_assert_lt(format_row(full, fmt, TIME_TEXT, &row), 0);
	fclose(full);
}

Test(format, reports_failed_writes)
{
	assert_write_fails(FORMAT_CSV, true);
	assert_write_fails(FORMAT_CSV, false);
	assert_write_fails(FORMAT_JSONL, false);
}

/* Every write that reaches the file, as the kernel would see it with an unbuffered stream. */
struct write_log {
	int writes;
	char last[512];
};

static ssize_t log_write(void *cookie, const char *buf, size_t size)
{
	struct write_log *log = cookie;
	size_t n = size < sizeof(log->last) - 1 ? size : sizeof(log->last) - 1;

	log->writes++;
	memcpy(log->last, buf, n);
	log->last[n] = '\0';
	return (ssize_t)size;
}

Test(format, writes_each_line_with_a_single_write)
{
	cookie_io_functions_t io = { .write = log_write };
	struct write_log log = { 0 };
	struct flow_row row = tcp_row();
	FILE *out = fopencookie(&log, "w", io);

	/* Unbuffered: a writer that builds the line piecewise would show several writes. */
	cr_assert_not_null(out);
	setvbuf(out, NULL, _IONBF, 0);
	cr_assert_eq(format_header(out, FORMAT_CSV), 0);
	cr_assert_eq(log.writes, 1);
	cr_assert_str_eq(log.last, CSV_HEADER);
	cr_assert_eq(format_row(out, FORMAT_JSONL, TIME_TEXT, &row), 0);
	cr_assert_eq(log.writes, 2);
	cr_assert_eq(strncmp(log.last, "{\"time\":", 8), 0, "%s", log.last);
	cr_assert_str_eq(strchr(log.last, '}'), "}\n");
	fclose(out);
}

/* ---------------------------------------------------------------- sort */

static int sort_column;

static int compare_for_qsort(const void *a, const void *b)
{
	return column_compare(a, b, sort_column);
}

/* Gives the row the smaller (rank 0) or larger (rank 1) value of one column, or of the
 * sort key "rate". */
static void set_rank(struct flow_row *row, int id, int rank)
{
	switch (id) {
	case COL_PID:
		test_id(row)->tgid = 100 + rank;
		break;
	case COL_COMM:
		strcpy(test_id(row)->comm, rank ? "beta" : "alpha");
		break;
	case COL_PROTO:
		test_id(row)->proto = rank ? TCPTOP_PROTO_UDP : TCPTOP_PROTO_TCP;
		break;
	case COL_LADDR:
		test_id(row)->laddr[3] = (uint8_t)(1 + rank);
		break;
	case COL_LPORT:
		test_id(row)->lport = (uint16_t)(1000 + rank);
		break;
	case COL_RADDR:
		test_id(row)->raddr[3] = (uint8_t)(1 + rank);
		break;
	case COL_RPORT:
		test_id(row)->rport = (uint16_t)(80 + rank);
		break;
	case COL_STATE:
		row->state = rank ? 2 : TCPTOP_TCP_ESTABLISHED;
		break;
	case COL_TX_BYTES:
		row->tx_bytes = 10 + rank;
		break;
	case COL_RX_BYTES:
		row->rx_bytes = 10 + rank;
		break;
	case COL_TX_PACKETS:
		row->tx_packets = 10 + rank;
		break;
	case COL_RX_PACKETS:
		row->rx_packets = 10 + rank;
		break;
	case COL_TX_RATE:
		row->tx_rate = 10.25 + rank;
		break;
	case COL_RX_RATE:
		row->rx_rate = 10.25 + rank;
		break;
	case COL_RTT_US:
		row->srtt_us = 10u + (unsigned int)rank;
		break;
	case COL_RETRANS:
		row->retrans = 10u + (unsigned int)rank;
		break;
	case COL_AGE_S:
		row->age_s = 0.5 + rank;
		break;
	case COL_NETNS:
		test_id(row)->netns = 10u + (unsigned int)rank;
		break;
	case COL_CGROUP:
		row->cgroup = cgroup_name_intern(rank ? "/b.service" : "/a.service");
		break;
	case COL_TX_RATE_2S:
	case COL_RX_RATE_2S:
	case COL_TX_RATE_10S:
	case COL_RX_RATE_10S:
	case COL_TX_RATE_40S:
	case COL_RX_RATE_40S:
		/* tx_rate_2s, rx_rate_2s, tx_rate_10s, ...: the window's in one array each */
		((id - COL_TX_RATE_2S) % 2
			 ? row->rx_rate_win
			 : row->tx_rate_win)[(id - COL_TX_RATE_2S) / 2] = 10.25f + (float)rank;
		break;
	case COL_BACKLOG:
	case COL_BACKLOG_MAX:
	case COL_DROPS:
	case COL_DROP_RATE:
		/* a listener's queue columns, all four from one rank */
		row->listen_known = true;
		row->backlog = row->backlog_max = row->drops = 10 + (uint32_t)rank;
		row->drop_rate = 10.25f + (float)rank;
		break;
	case COL_SENDQ:
	case COL_RECVQ:
	case COL_CWND:
	case COL_DELIVERY_RATE:
		/* a connection's health: all four numbers from one rank */
		row->health.known = TCPTOP_HEALTH_QUEUES | TCPTOP_HEALTH_CWND;
		row->health.sendq = row->health.recvq = row->health.cwnd = 10 + (uint32_t)rank;
		row->health.delivery_rate = 10.25f + (float)rank;
		break;
	case COL_LIMITED:
		/* "app" sorts before "cwnd" */
		row->health.known = FLOW_HEALTH_LIMITED;
		row->health.limited[0] = rank ? 90 : 10;
		break;
	case COL_ALERT:
		/* above a 100 B/s --alert or not: the higher rank is above */
		alert_set_threshold(100.0);
		row->tx_rate = rank ? 1000.0 : 10.0;
		row->rx_rate = 0.0;
		break;
	case COL_RATE:
		row->tx_rate = 10.25 + rank;
		break;
	default:
		cr_assert_fail("no rank for column %d", id);
		break;
	}
}

static int expected_first_rank(int id)
{
	return id != COL_RATE && column_table[id].kind == COLUMN_TEXT ? 0 : 1;
}

Test(sort, orders_by_every_column_in_its_direction)
{
	int ids[COL_COUNT];
	int n = 0;

	/* Group columns have values in group rows only (test_group.c sorts those); a history
	 * is no sort key. */
	for (int id = COL_PID; id < COL_COUNT; id++)
		if (!column_table[id].group_only && column_sorts(id))
			ids[n++] = id;
	ids[n++] = COL_RATE;
	for (int i = 0; i < n; i++) {
		struct flow_row rows[2] = { tcp_row(), tcp_row() };
		int first = expected_first_rank(ids[i]);

		set_rank(&rows[0], ids[i], first);
		set_rank(&rows[1], ids[i], !first);
		/* The tie-break alone would put them the other way round. */
		rows[0].key.cookie = 2;
		rows[1].key.cookie = 1;
		cr_assert_lt(column_compare(&rows[0], &rows[1], ids[i]), 0, "%s",
			     column_name(ids[i]));
		cr_assert_gt(column_compare(&rows[1], &rows[0], ids[i]), 0, "%s",
			     column_name(ids[i]));
		sort_column = ids[i];
		qsort(rows, 2, sizeof(rows[0]), compare_for_qsort);
		cr_assert_eq(rows[0].key.cookie, 2, "%s", column_name(ids[i]));
	}
}

Test(sort, orders_numbers_descending)
{
	struct flow_row rows[3] = { tcp_row(), tcp_row(), tcp_row() };

	rows[0].tx_bytes = 5;
	rows[1].tx_bytes = UINT64_MAX;
	rows[2].tx_bytes = 0;
	rows[0].key.cookie = 1;
	rows[1].key.cookie = 2;
	rows[2].key.cookie = 3;
	sort_column = COL_TX_BYTES;
	qsort(rows, 3, sizeof(rows[0]), compare_for_qsort);
	cr_assert_eq(rows[0].tx_bytes, UINT64_MAX);
	cr_assert_eq(rows[1].tx_bytes, 5);
	cr_assert_eq(rows[2].tx_bytes, 0);
}

Test(sort, orders_text_ascending)
{
	struct flow_row rows[3] = { tcp_row(), tcp_row(), tcp_row() };

	strcpy(test_id(&rows[0])->comm, "sshd");
	strcpy(test_id(&rows[1])->comm, "curl");
	strcpy(test_id(&rows[2])->comm, "nginx");
	rows[0].key.cookie = 1;
	rows[1].key.cookie = 2;
	rows[2].key.cookie = 3;
	sort_column = COL_COMM;
	qsort(rows, 3, sizeof(rows[0]), compare_for_qsort);
	cr_assert_str_eq(rows[0].id->comm, "curl");
	cr_assert_str_eq(rows[1].id->comm, "nginx");
	cr_assert_str_eq(rows[2].id->comm, "sshd");
}

Test(sort, puts_null_last_in_both_directions)
{
	struct flow_row known = tcp_row(), unknown = tcp_row();

	known.key.cookie = 2;
	unknown.key.cookie = 1;
	test_id(&unknown)->tgid = 0;
	memset(test_id(&unknown)->comm, 0, sizeof(test_id(&unknown)->comm));
	cr_assert_lt(column_compare(&known, &unknown, COL_PID), 0);
	cr_assert_gt(column_compare(&unknown, &known, COL_PID), 0);
	cr_assert_lt(column_compare(&known, &unknown, COL_COMM), 0);
	cr_assert_gt(column_compare(&unknown, &known, COL_COMM), 0);
}

Test(sort, puts_non_finite_rates_last)
{
	struct flow_row finite = tcp_row(), broken = tcp_row();

	finite.key.cookie = 2;
	broken.key.cookie = 1;
	finite.tx_rate = 0;
	finite.rx_rate = 0;
	broken.tx_rate = NAN;
	cr_assert_lt(column_compare(&finite, &broken, COL_RATE), 0);
	cr_assert_gt(column_compare(&broken, &finite, COL_RATE), 0);
}

Test(sort, breaks_ties_by_cookie)
{
	struct flow_row a = tcp_row(), b = tcp_row();

	a.key.cookie = 1;
	b.key.cookie = UINT64_MAX;
	for (int id = 0; id <= COL_RATE; id++) {
		cr_assert_lt(column_compare(&a, &b, id), 0, "%s", column_name(id));
		cr_assert_gt(column_compare(&b, &a, id), 0, "%s", column_name(id));
	}
}

Test(sort, breaks_cookie_ties_by_the_rest_of_the_key)
{
	struct flow_row a = udp_row(), b = udp_row();

	a.key.peer_port = 53;
	b.key.peer_port = 53;
	a.key.peer_addr[0] = 1;
	b.key.peer_addr[0] = 2;
	cr_assert_lt(column_compare(&a, &b, COL_RATE), 0);
	cr_assert_gt(column_compare(&b, &a, COL_RATE), 0);
	cr_assert_eq(column_compare(&a, &a, COL_RATE), 0);
}

Test(csv, leaves_rtt_empty_for_tcp_row_without_rtt_sample)
{
	struct flow_row row = tcp_row();
	char *text;

	row.srtt_us = 0;
	text = format_to_string(FORMAT_CSV, TIME_TEXT, &row);
	cr_assert_not_null(strstr(text, ",ESTABLISHED,"), "%s", text);
	cr_assert_not_null(strstr(text, ",1500,251,,2,"), "rtt_us empty: %s", text);
	free(text);
}

/* ---------------------------------------------------------------- numbers and addresses */

static uint64_t test_random_state = 0x9e3779b97f4a7c15u;

static uint64_t test_random(void)
{
	test_random_state ^= test_random_state << 13;
	test_random_state ^= test_random_state >> 7;
	test_random_state ^= test_random_state << 17;
	return test_random_state;
}

static void assert_u64_text(uint64_t v)
{
	char expected[32], got[32];

	snprintf(expected, sizeof(expected), "%" PRIu64, v);
	*numtext_u64(got, v) = '\0';
	cr_assert_str_eq(got, expected);
}

Test(numtext, writes_integers_as_printf_does)
{
	uint64_t power = 1;

	assert_u64_text(0);
	assert_u64_text(UINT64_MAX);
	for (int i = 0; i < 20; i++, power *= 10) {
		assert_u64_text(power);
		assert_u64_text(power - 1);
		assert_u64_text(power + 1);
	}
	for (int i = 0; i < 200000; i++)
		assert_u64_text(test_random() >> (test_random() % 64));
}

static void assert_fixed_text(double v, int decimals)
{
	char expected[NUMTEXT_MAX + 1], got[NUMTEXT_MAX + 1];

	snprintf(expected, sizeof(expected), "%.*f", decimals, v);
	*numtext_fixed(got, v, decimals) = '\0';
	cr_assert_str_eq(got, expected, "%a with %d decimals", v, decimals);
}

/* Ties go to even on the exact binary value (0.125 -> "0.12", 2.5 -> "2"); values that
 * only look like ties (0.0005) round as their binary value says. */
Test(numtext, rounds_reals_as_printf_does)
{
	static const double edges[] = {
		0.0, -0.0, 0.5, 1.5, 2.5, -0.5, -2.5, 0.125, 0.375, 0.0005, 0.0015, 1.0005,
		0.9995, 9.9995, 99.5, 1e-300, 4.9e-324, -4.9e-324, 0x1p52, 0x1p53 - 1, 0x1p62,
		1e15, 1e19, 1e300, -1e300, 1.7976931348623157e308, INFINITY, -INFINITY, NAN,
	};

	for (int d = 0; d <= 9; d++)
		for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
			assert_fixed_text(edges[i], d);
	for (int i = 0; i < 100000; i++) {
		uint64_t bits = test_random();
		double any, scaled;
		int d = (int)(test_random() % 10);

		memcpy(&any, &bits, sizeof(any));
		scaled = ldexp((double)(test_random() >> 11), (int)(test_random() % 120) - 90);
		assert_fixed_text(any, d);
		assert_fixed_text(scaled, d);
		assert_fixed_text((double)(test_random() % 2000000) / 2000.0, d); /* near ties */
		assert_fixed_text((double)(test_random() % 100000) + 0.5, 0);
	}
}

/* inet_ntop is the oracle: v4-mapped addresses as the IPv4 address they carry. */
static void assert_addr_text(uint8_t family, const uint8_t addr[16])
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	char expected[ADDR_TEXT_LEN] = "", got[ADDR_TEXT_LEN + 1], formatted[ADDR_TEXT_LEN];

	if (family == TCPTOP_AF_INET)
		inet_ntop(AF_INET, addr, expected, sizeof(expected));
	else if (family == TCPTOP_AF_INET6 && memcmp(addr, mapped, sizeof(mapped)) == 0)
		inet_ntop(AF_INET, addr + 12, expected, sizeof(expected));
	else if (family == TCPTOP_AF_INET6)
		inet_ntop(AF_INET6, addr, expected, sizeof(expected));
	*addr_text(family, addr, got) = '\0';
	cr_assert_str_eq(got, expected);
	addr_format(family, addr, formatted, sizeof(formatted));
	cr_assert_str_eq(formatted, expected);
}

static void random_ipv6(uint8_t addr[16])
{
	for (int w = 0; w < 8; w++) {
		uint16_t word = test_random() % 3 ? 0 : (uint16_t)(test_random() >> (test_random() % 64));

		addr[2 * w] = (uint8_t)(word >> 8);
		addr[2 * w + 1] = (uint8_t)word;
	}
}

/* inet_ntop's spelling: the first longest run of zero words as ::, none for a single zero
 * word, ::a.b.c.d for IPv4-compatible addresses; v4-mapped ones as plain IPv4. */
Test(addr_text, spells_addresses_as_inet_ntop_does)
{
	static const uint8_t edges[][16] = {
		{ 0 },
		{ [15] = 1 },
		{ [15] = 2 },
		{ [12] = 1, [13] = 2, [14] = 3, [15] = 4 },
		{ [10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1 },
		{ [10] = 0xff, [11] = 0xff },
		{ [11] = 1, [15] = 1 },
		{ 0xfe, 0x80, [8] = 1, [15] = 1 },
		{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1 },
		{ 0x20, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 },
		{ 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
		{ 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0 },
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		  0xff, 0xff },
	};
	uint8_t addr[16];

	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		assert_addr_text(TCPTOP_AF_INET6, edges[i]);
		assert_addr_text(TCPTOP_AF_INET, edges[i]);
		assert_addr_text(0, edges[i]);
	}
	for (int i = 0; i < 100000; i++) {
		random_ipv6(addr);
		assert_addr_text(TCPTOP_AF_INET6, addr);
		for (int b = 0; b < 4; b++)
			addr[b] = test_random() % 4 ? (uint8_t)test_random() : 0;
		assert_addr_text(TCPTOP_AF_INET, addr);
	}
}

/* ---------------------------------------------------------------- sort keys and views */

static void random_row(struct flow_row *row)
{
	static const char comms[][TCPTOP_COMM_LEN] = {
		"", "a", "ab", "curl", "abcdefghijklmno", "abcdefghijklmnop", "abcdefghijklmnoq",
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
	};
	static const double reals[] = { 0.0, -0.0, 1.5, -1.5, 1e300, NAN, INFINITY, 2.25 };

	*row = tcp_row();
	row->key.cookie = test_random() % 4;
	row->key.peer_port = (uint16_t)(test_random() % 3);
	test_id(row)->proto = test_random() % 2 ? TCPTOP_PROTO_TCP : TCPTOP_PROTO_UDP;
	test_id(row)->family = test_random() % 2 ? TCPTOP_AF_INET : TCPTOP_AF_INET6;
	random_ipv6(test_id(row)->laddr);
	random_ipv6(test_id(row)->raddr);
	test_id(row)->rport = (uint16_t)(test_random() % 2);
	test_id(row)->tgid = (uint32_t)(test_random() % 3);
	memcpy(test_id(row)->comm, comms[test_random() % 8], TCPTOP_COMM_LEN);
	row->state = (uint8_t)(test_random() % 12);
	row->tx_bytes = test_random() % 2 ? UINT64_MAX : test_random() % 3;
	row->tx_rate = reals[test_random() % 8];
	row->rx_rate = reals[test_random() % 8];
	row->srtt_us = (uint32_t)(test_random() % 3);
	row->age_s = reals[test_random() % 8];
}

static int compare_sort_keys(const struct column_sort_key *a, const struct column_sort_key *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

/* Keys that differ order rows as column_compare() does; equal exact keys mean the order
 * comes from the flow key alone. */
Test(sort, keys_agree_with_column_compare)
{
	for (int i = 0; i < 20000; i++) {
		struct flow_row a, b;
		struct column_sort_key ka, kb;
		int id = (int)(test_random() % (COL_RATE + 1)), by_key, by_value;

		random_row(&a);
		random_row(&b);
		column_sort_key(&a, id, &ka);
		column_sort_key(&b, id, &kb);
		by_key = compare_sort_keys(&ka, &kb);
		by_value = column_compare(&a, &b, id);
		if (by_key != 0)
			cr_assert_eq(by_key < 0, by_value < 0, "%s", column_name(id));
		else if (ka.exact && kb.exact)
			cr_assert_eq(by_value, column_compare_flows(&a, &b), "%s", column_name(id));
	}
}

Test(plain_view, sorts_every_column_as_column_compare_does)
{
	enum { ROWS = 3000 };
	struct snapshot *s = snapshot_alloc(ROWS);
	struct filter f;

	filter_init(&f);
	s->nrows = ROWS;
	for (size_t i = 0; i < ROWS; i++)
		random_row(&s->rows[i]);
	for (int id = 0; id <= COL_RATE; id++) {
		size_t n;
		const struct flow_row **view = plain_view(s, &f, id, &n);

		cr_assert_eq(n, ROWS);
		for (size_t i = 1; i < n; i++)
			cr_assert_leq(column_compare(view[i - 1], view[i], id), 0, "%s at %zu",
				      column_name(id), i);
		free(view);
	}
	snapshot_release(s);
}

/* The longest row there can be: huge reals, an escaped comm, IPv6 addresses. */
Test(format, longest_line_fits_format_line_max)
{
	struct flow_row row = tcp_row();
	struct format_snapshot fs;
	char line[FORMAT_LINE_MAX];

	memset(test_id(&row)->comm, 0xff, sizeof(test_id(&row)->comm));
	memset(test_id(&row)->laddr, 0x11, sizeof(test_id(&row)->laddr));
	memset(test_id(&row)->raddr, 0x11, sizeof(test_id(&row)->raddr));
	test_id(&row)->family = TCPTOP_AF_INET6;
	row.tx_bytes = row.rx_bytes = row.tx_packets = row.rx_packets = UINT64_MAX;
	row.tx_rate = row.rx_rate = row.age_s = -1.7976931348623157e308;
	cr_assert_eq(format_snapshot_init(&fs, FORMAT_JSONL, NULL, TIME_TEXT), 0);
	cr_assert_lt(format_line(&fs, &row, line), FORMAT_LINE_MAX / 2);
}

/* The line cache writes ages from nanoseconds; they must read as the rows' own age_s. */
static void assert_age_text_alike(uint64_t now_ns, uint64_t first_seen_ns)
{
	struct format_snapshot fs;
	char fast[NUMTEXT_MAX + 1], exact[NUMTEXT_MAX + 1];

	cr_assert_eq(format_snapshot_init(&fs, FORMAT_CSV, NULL, NULL), 0);
	*format_age_between(&fs, now_ns, first_seen_ns, fast) = '\0';
	*format_age(&fs, flow_age_s(now_ns, first_seen_ns), exact) = '\0';
	cr_assert_str_eq(fast, exact, "age of %" PRIu64 " ns", now_ns - first_seen_ns);
}

Test(format, ages_from_nanoseconds_read_as_the_rows_age_s)
{
	static const uint64_t edges[] = { 0, 1, 499999, 500000, 500001, 999999, 1000000,
					  1500000, 2500000, 499500000, 499499999, 12345500000,
					  UINT64_C(86400000000000) + 500000,
					  UINT64_C(9007199254740993), UINT64_C(999999999999999999),
					  UINT64_C(1000000000000000000) };
	uint64_t x = 88172645463325252ULL;

	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		assert_age_text_alike(edges[i] + 5, 5);
	assert_age_text_alike(10, 20); /* first seen after the snapshot's clock: 0.000 */
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		assert_age_text_alike(x % (i & 1 ? UINT64_C(100000000000000) : 4000000000), 0);
	}
}
