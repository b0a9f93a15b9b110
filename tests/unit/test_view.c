/* The live view's logic: row order, filters, column layout and human units. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "view/columns.h"
#include "snapshot.h"
#include "ui/ui_alert.h"
#include "ui/ui_help.h"
#include "ui/ui_state.h"
#include "ui/ui_view.h"
#include "time_limit.h"
#include "view/alert.h"
#include "identities.h"

TestSuite(help, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(view, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(alert, .timeout = UNIT_TIME_LIMIT_S);

#define NROWS 4

/* Four flows that differ in every column, so that each sort has one right answer. */
static struct snapshot *make_snapshot(void)
{
	static const char *comms[NROWS] = { "curl", "Nginx", "sshd", "dnsmasq" };
	struct snapshot *s = snapshot_alloc(NROWS);

	cr_assert_not_null(s);
	s->nrows = NROWS;
	for (int i = 0; i < NROWS; i++) {
		struct flow_row *r = &s->rows[i];

		memset(r, 0, sizeof(*r));
		r->key.cookie = 100 + i;
		test_id(r)->family = TCPTOP_AF_INET;
		test_id(r)->proto = i == 3 ? TCPTOP_PROTO_UDP : TCPTOP_PROTO_TCP;
		test_id(r)->laddr[0] = 10;
		test_id(r)->laddr[3] = (uint8_t)(1 + i);
		test_id(r)->raddr[0] = 192;
		test_id(r)->raddr[1] = 168;
		test_id(r)->raddr[3] = (uint8_t)(50 - i);
		test_id(r)->lport = (uint16_t)(40000 + 7 * i);
		test_id(r)->rport = (uint16_t)(443 - i);
		test_id(r)->tgid = (uint32_t)(300 + 11 * ((i + 2) % NROWS));
		memcpy(test_id(r)->comm, comms[i], strlen(comms[i]));
		r->state = i == 3 ? TCPTOP_STATE_NONE : TCPTOP_TCP_ESTABLISHED;
		r->tx_bytes = 1000u * (uint64_t)(i + 1);
		r->rx_bytes = 5000u - 1000u * (uint64_t)i;
		r->tx_packets = (uint64_t)(3 + (i * 5) % NROWS);
		r->rx_packets = (uint64_t)(10 - i);
		r->tx_rate = 100.0 * (i + 1);
		r->rx_rate = 50.0 * ((i + 1) % NROWS);
		r->srtt_us = (uint32_t)(900 - 100 * i);
		r->age_s = 10.0 + (i * 3) % NROWS;
	}
	return s;
}

static struct filter no_filter;

/* The live view's rows of s for o, from a view that starts afresh: a copy to free(). */
static const struct flow_row **view_rows(const struct snapshot *s,
					 const struct ui_view_options *o, size_t *n)
{
	struct ui_rows r = { 0 };
	const struct flow_row **copy;

	cr_assert_eq(ui_rows_update(&r, s, o), 0);
	*n = r.nrows;
	copy = malloc((r.nrows ? r.nrows : 1) * sizeof(*copy));
	cr_assert_not_null(copy);
	if (r.nrows)
		memcpy(copy, r.rows, r.nrows * sizeof(*copy));
	ui_rows_free(&r);
	return copy;
}

static struct ui_view_options options(int sort_id)
{
	filter_init(&no_filter);
	return (struct ui_view_options){ .filter = &no_filter, .text = "", .sort_id = sort_id };
}

/* Checks that each neighbouring pair is in column_compare order for sort_id. */
static void assert_sorted(const struct flow_row **rows, size_t n, int sort_id, bool reverse)
{
	for (size_t i = 1; i < n; i++) {
		int order = column_compare(rows[i - 1], rows[i], sort_id);

		cr_assert(reverse ? order > 0 : order < 0, "%s: rows %zu and %zu out of order",
			  column_name(sort_id), i - 1, i);
	}
}

Test(view, sorts_by_every_screen_column_both_ways)
{
	struct snapshot *s = make_snapshot();

	for (int c = 0; c < COLUMN_VIEW_COUNT; c++) {
		if (column_table[column_view_order[c]].group_only)
			continue;
		for (int reverse = 0; reverse < 2; reverse++) {
			struct ui_view_options o = options(column_view_order[c]);
			const struct flow_row **rows;
			size_t n;

			o.reverse = reverse;
			rows = view_rows(s, &o, &n);
			cr_assert_eq(n, NROWS);
			assert_sorted(rows, n, o.sort_id, reverse);
			free(rows);
		}
	}
	free(s);
}

Test(view, default_sort_is_total_rate_descending)
{
	struct snapshot *s = make_snapshot();
	struct ui_view_options o = options(COL_RATE);
	const struct flow_row **rows;
	size_t n;

	rows = view_rows(s, &o, &n);
	cr_assert_eq(n, NROWS);
	for (size_t i = 1; i < n; i++)
		cr_assert_geq(rows[i - 1]->tx_rate + rows[i - 1]->rx_rate,
			      rows[i]->tx_rate + rows[i]->rx_rate);
	free(rows);
	free(s);
}

Test(view, equal_values_keep_one_order_whatever_the_input_order)
{
	struct snapshot *s = make_snapshot();
	struct ui_view_options o = options(COL_STATE); /* three rows are ESTABLISHED */
	const struct flow_row **first, **second;
	struct flow_row swap;
	size_t n;

	first = view_rows(s, &o, &n);
	uint64_t cookies[NROWS];
	for (size_t i = 0; i < n; i++)
		cookies[i] = first[i]->key.cookie;
	swap = s->rows[0];
	s->rows[0] = s->rows[2];
	s->rows[2] = swap;
	second = view_rows(s, &o, &n);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(second[i]->key.cookie, cookies[i], "row %zu moved", i);
	free(first);
	free(second);
	free(s);
}

static size_t count_matching(const char *text)
{
	struct snapshot *s = make_snapshot();
	struct ui_view_options o = options(COL_RATE);
	const struct flow_row **rows;
	size_t n;

	o.text = text;
	rows = view_rows(s, &o, &n);
	free(rows);
	free(s);
	return n;
}

Test(view, text_filter_matches_name_any_case_pid_port_and_address)
{
	cr_assert_eq(count_matching("nginx"), 1);
	cr_assert_eq(count_matching("NGI"), 1);
	cr_assert_eq(count_matching("322"), 1, "pid of row 0");
	cr_assert_eq(count_matching("443"), 1, "remote port of row 0");
	cr_assert_eq(count_matching("40007"), 1, "local port of row 1");
	cr_assert_eq(count_matching("192.168"), NROWS);
	cr_assert_eq(count_matching("10.0.0.3"), 1);
	cr_assert_eq(count_matching("nothing-like-it"), 0);
	cr_assert_eq(count_matching(""), NROWS);
}

Test(view, text_filter_prefixes_narrow_a_word)
{
	cr_assert_eq(count_matching("port:443"), 1);
	cr_assert_eq(count_matching("port:44"), 0, "ports match whole");
	cr_assert_eq(count_matching("pid:311"), 1);
	cr_assert_eq(count_matching("pid:31"), 0);
	cr_assert_eq(count_matching("proc:ssh"), 1);
	cr_assert_eq(count_matching("proc:443"), 0, "proc: looks at names only");
}

Test(view, text_filter_words_must_all_match)
{
	cr_assert_eq(count_matching("curl 443"), 1);
	cr_assert_eq(count_matching("curl  sshd"), 0);
}

Test(view, text_filter_rejects_prefix_without_number)
{
	cr_assert(ui_text_valid("port:80 curl"));
	cr_assert(!ui_text_valid("port:http"));
	cr_assert(!ui_text_valid("pid:"));
}

Test(view, hide_keys_drop_idle_listen_and_time_wait_rows)
{
	struct snapshot *s = make_snapshot();
	struct ui_view_options o = options(COL_RATE);
	const struct flow_row **rows;
	size_t n;

	s->rows[0].tx_rate = s->rows[0].rx_rate = 0;
	s->rows[1].state = TCPTOP_TCP_LISTEN;
	s->rows[2].state = 6; /* TIME_WAIT */
	o.hide_idle = true;
	free(view_rows(s, &o, &n));
	cr_assert_eq(n, NROWS - 1);
	o.hide_listen = o.hide_time_wait = true;
	rows = view_rows(s, &o, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(rows[0]->key.cookie, 103);
	free(rows);
	free(s);
}

Test(view, command_line_filter_still_applies)
{
	struct snapshot *s = make_snapshot();
	struct ui_view_options o = options(COL_RATE);
	size_t n;

	no_filter.udp = true;
	free(view_rows(s, &o, &n));
	cr_assert_eq(n, 1);
	free(s);
}

/* s's successor as the snapshot builder makes it: row 1 busier, the rest unchanged. */
static struct snapshot *next_snapshot(const struct snapshot *s)
{
	struct snapshot *t = snapshot_alloc(NROWS);

	cr_assert_not_null(t);
	memcpy(t->rows, s->rows, NROWS * sizeof(*t->rows));
	t->nrows = NROWS;
	t->generation = s->generation + 1;
	t->changed_since = s->generation;
	t->rows[1].tx_rate = 1e9;
	t->rows[1].version = t->generation;
	t->changed[t->nchanged++] = 1;
	return t;
}

Test(view, kept_rows_follow_a_changed_snapshot_as_a_fresh_view_orders_it)
{
	struct snapshot *s = make_snapshot(), *t;
	struct ui_view_options o = options(COL_RATE);
	struct ui_rows kept = { 0 };
	const struct flow_row **fresh;
	size_t n;

	s->generation = 1;
	cr_assert_eq(ui_rows_update(&kept, s, &o), 0);
	t = next_snapshot(s);
	cr_assert_eq(ui_rows_update(&kept, t, &o), 0);
	fresh = view_rows(t, &o, &n);
	cr_assert_eq(kept.nrows, n);
	cr_assert_eq(kept.rows[0], &t->rows[1], "the busier row leads");
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(kept.rows[i], fresh[i], "row %zu", i);
	free(fresh);
	/* A new choice (a filter typed) is applied to the kept rows at once. */
	o.text = "curl";
	cr_assert_eq(ui_rows_update(&kept, t, &o), 0);
	cr_assert_eq(kept.nrows, 1);
	cr_assert_eq(kept.rows[0]->key.cookie, 100);
	ui_rows_free(&kept);
	free(s);
	free(t);
}

/* ---------------------------------------------------------------- layout */

static bool has_column(const struct ui_layout *l, int c)
{
	for (int i = 0; i < l->ncolumns; i++)
		if (l->column[i] == c)
			return true;
	return false;
}

static int view_position(int id)
{
	for (int i = 0; i < COLUMN_VIEW_COUNT; i++)
		if (column_view_order[i] == id)
			return i;
	return -1;
}

static void assert_layout_fits(const struct ui_layout *l, int width)
{
	int end = 0;

	for (int i = 0; i < l->ncolumns; i++) {
		cr_assert_geq(l->x[i], end, "column %d overlaps the one before", i);
		cr_assert_geq(l->width[i], 1);
		end = l->x[i] + l->width[i] + 1;
		if (i > 0)
			cr_assert_gt(view_position(l->column[i]), view_position(l->column[i - 1]),
				     "display order kept");
	}
	cr_assert_leq(end - 1, width, "row is %d cells wide, terminal %d", end - 1, width);
}

static void layout_default(int width, struct ui_layout *l)
{
	struct column_list shown;

	column_list_view(&shown);
	ui_layout_compute(width, &shown, l);
}

Test(view, layout_at_40_columns_keeps_process_rates_and_peer)
{
	struct ui_layout l;

	layout_default(40, &l);
	assert_layout_fits(&l, 40);
	cr_assert(has_column(&l, COL_COMM) && has_column(&l, COL_RADDR));
	cr_assert(has_column(&l, COL_RX_RATE) && has_column(&l, COL_TX_RATE));
	cr_assert(!has_column(&l, COL_AGE_S));
}

Test(view, layout_at_80_columns_adds_pid_and_local_end)
{
	struct ui_layout l;

	layout_default(80, &l);
	assert_layout_fits(&l, 80);
	cr_assert(has_column(&l, COL_PID) && has_column(&l, COL_LADDR));
	cr_assert(has_column(&l, COL_RADDR) && has_column(&l, COL_RX_RATE));
	cr_assert(!has_column(&l, COL_AGE_S), "age goes first");
}

Test(view, layout_at_200_columns_shows_every_column)
{
	struct ui_layout l;

	struct column_list shown;

	layout_default(200, &l);
	assert_layout_fits(&l, 200);
	column_list_view(&shown);
	cr_assert_eq(l.ncolumns, shown.count);
}

Test(view, layout_never_exceeds_any_width)
{
	struct ui_layout l;

	for (int w = 1; w <= 260; w++) {
		layout_default(w, &l);
		assert_layout_fits(&l, w);
		cr_assert_geq(l.ncolumns, 1, "width %d shows nothing", w);
	}
}

Test(view, layout_shows_only_the_chosen_columns)
{
	struct column_list shown = { 3, { COL_AGE_S, COL_PID, COL_RTT_US } };
	struct ui_layout l;

	ui_layout_compute(200, &shown, &l);
	assert_layout_fits(&l, 200);
	cr_assert_eq(l.ncolumns, 3);
	cr_assert(has_column(&l, COL_PID) && has_column(&l, COL_RTT_US) &&
		  has_column(&l, COL_AGE_S));
	cr_assert_eq(l.column[0], COL_PID, "the live view's order, not the list's");
	for (int w = 1; w <= 40; w++) {
		ui_layout_compute(w, &shown, &l);
		assert_layout_fits(&l, w);
		cr_assert_geq(l.ncolumns, 1, "width %d shows nothing", w);
	}
	shown.count = 0;
	ui_layout_compute(80, &shown, &l);
	cr_assert_eq(l.ncolumns, 0);
}

/* ---------------------------------------------------------------- units */

static void assert_rate(double bytes_per_s, bool bits, const char *want)
{
	char text[32];

	ui_format_rate(bytes_per_s, bits, text, sizeof(text));
	cr_assert_str_eq(text, want, "%g B/s", bytes_per_s);
	cr_assert_leq(ui_text_cells(text), column_table[COL_RX_RATE].view.min_width);
}

Test(view, rates_read_in_binary_byte_units)
{
	assert_rate(0, false, "0 B/s");
	assert_rate(999, false, "999 B/s");
	assert_rate(1000, false, "0.98 KiB/s");
	assert_rate(1536, false, "1.50 KiB/s");
	assert_rate(20480, false, "20.0 KiB/s");
	assert_rate(1048576, false, "1.00 MiB/s");
	assert_rate(3.5 * 1073741824.0, false, "3.50 GiB/s");
	assert_rate(-1, false, "0 B/s");
}

Test(view, rates_read_in_decimal_bit_units)
{
	assert_rate(125, true, "1.00 kb/s");
	assert_rate(125000000, true, "1.00 Gb/s");
	assert_rate(12, true, "96 b/s");
}

Test(view, sizes_counts_rtt_and_age_read_humanly)
{
	char t[32];

	ui_format_size(512, t, sizeof(t));
	cr_assert_str_eq(t, "512 B");
	ui_format_size(5u << 20, t, sizeof(t));
	cr_assert_str_eq(t, "5.00 MiB");
	ui_format_count(123456, t, sizeof(t));
	cr_assert_str_eq(t, "123k");
	ui_format_count(42, t, sizeof(t));
	cr_assert_str_eq(t, "42");
	ui_format_rtt(250, false, t, sizeof(t));
	cr_assert_str_eq(t, "250us");
	ui_format_rtt(250, true, t, sizeof(t));
	cr_assert_str_eq(t, "250\u00b5s");
	ui_format_rtt(12345, false, t, sizeof(t));
	cr_assert_str_eq(t, "12.3ms");
	ui_format_age(42.9, t, sizeof(t));
	cr_assert_str_eq(t, "42s");
	ui_format_age(3725, t, sizeof(t));
	cr_assert_str_eq(t, "1h02m");
}

Test(view, endpoints_bracket_ipv6_and_star_a_missing_peer)
{
	struct snapshot *s = make_snapshot();
	struct flow_row *r = &s->rows[0];
	char t[80];

	ui_format_endpoint(r, true, NULL, t, sizeof(t));
	cr_assert_str_eq(t, "192.168.0.50:443");
	ui_format_endpoint(r, true, "example.org", t, sizeof(t));
	cr_assert_str_eq(t, "example.org:443");
	test_id(r)->family = TCPTOP_AF_INET6;
	memset(test_id(r)->laddr, 0, 16);
	test_id(r)->laddr[15] = 1;
	ui_format_endpoint(r, false, NULL, t, sizeof(t));
	cr_assert_str_eq(t, "[::1]:40000");
	memset(test_id(r)->raddr, 0, 16);
	test_id(r)->rport = 0;
	ui_format_endpoint(r, true, NULL, t, sizeof(t));
	cr_assert_str_eq(t, "*:*");
	free(s);
}

Test(view, long_text_is_cut_to_its_cells_keeping_the_port)
{
	char t[64] = "192.168.100.200:54321";
	char u[64] = "250\u00b5s";

	ui_text_fit(t, 10, true);
	cr_assert_str_eq(t, "~200:54321");
	ui_text_fit(u, 4, false);
	cr_assert_str_eq(u, "250\u00b5");
	cr_assert_eq(ui_text_cells(u), 4);
}

/* ---------------------------------------------------------------- help */

/* Whether a help line names key in its key column (up to two spaces in a row), where
 * names are separated by spaces, commas after them and "or". */
static bool help_names(const char *name)
{
	for (int i = 0; ui_help_keys[i]; i++) {
		const char *line = ui_help_keys[i] + 2, *end = strstr(line, "  ");
		char column[64], *save = NULL;

		snprintf(column, sizeof(column), "%.*s", end ? (int)(end - line) : 0, line);
		for (char *t = strtok_r(column, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
			size_t n = strlen(t);

			if (n > 1 && t[n - 1] == ',')
				t[n - 1] = '\0';
			if (strcmp(t, name) == 0)
				return true;
		}
	}
	return false;
}

Test(help, names_every_printable_key_the_view_binds_and_no_other)
{
	for (int key = ' '; key < 127; key++) {
		char name[8];

		snprintf(name, sizeof(name), "%c", key);
		if (key == ' ')
			snprintf(name, sizeof(name), "Space");
		cr_assert_eq(help_names(name), ui_keys_bound(key), "key '%s' %s", name,
			     ui_keys_bound(key) ? "is bound but not in the help"
						: "is in the help but does nothing");
	}
}

/* The bell is due when a flow goes above, not while it stays there; after it fell below,
 * again when it crosses again; a second flow crossing rings too. */
Test(alert, bell_once_per_crossing)
{
	struct flow_row rows[2];
	const struct flow_row *shown[2] = { &rows[0], &rows[1] };
	struct ui_alert a = { 0 };

	memset(rows, 0, sizeof(rows));
	rows[0].key.cookie = 1;
	rows[1].key.cookie = 2;
	alert_set_threshold(1000.0);
	rows[0].rx_rate = 1000.0; /* at the threshold is not above it */
	cr_assert_not(ui_alert_crossed(&a, shown, 2));
	rows[0].rx_rate = 1000.5;
	cr_assert(ui_alert_crossed(&a, shown, 2));
	cr_assert_not(ui_alert_crossed(&a, shown, 2));
	cr_assert_eq(a.shown_above, 1);
	rows[1].tx_rate = 5000.0;
	cr_assert(ui_alert_crossed(&a, shown, 2), "a second flow crossed");
	cr_assert_not(ui_alert_crossed(&a, shown, 2));
	rows[0].rx_rate = 10.0;
	cr_assert_not(ui_alert_crossed(&a, shown, 2), "one fell below");
	rows[0].tx_rate = 2000.0;
	cr_assert(ui_alert_crossed(&a, shown, 2), "it crossed again");
	cr_assert_not(ui_alert_crossed(&a, shown, 1), "fewer rows shown: nothing crossed");
	cr_assert(ui_alert_crossed(&a, shown, 2), "shown again: crossed again");
	ui_alert_free(&a);
}

Test(view, a_lead_column_moves_left_and_the_others_keep_their_widths)
{
	struct column_list shown;
	struct ui_layout l;
	int widths[COL_COUNT] = { 0 }, total = 0;

	column_list_view(&shown);
	column_list_add(&shown, COL_CGROUP);
	ui_layout_compute(300, &shown, &l);
	for (int i = 0; i < l.ncolumns; i++) {
		widths[l.column[i]] = l.width[i];
		total += l.width[i] + 1;
	}
	cr_assert(has_column(&l, COL_CGROUP));
	ui_layout_lead(&l, COL_CGROUP);
	cr_assert_eq(l.column[0], COL_CGROUP);
	cr_assert_eq(l.x[0], 0);
	for (int i = 0; i < l.ncolumns; i++) {
		cr_assert_eq(l.width[i], widths[l.column[i]]);
		if (i)
			cr_assert_eq(l.x[i], l.x[i - 1] + l.width[i - 1] + 1);
	}
	cr_assert_eq(l.x[l.ncolumns - 1] + l.width[l.ncolumns - 1] + 1, total);
}
