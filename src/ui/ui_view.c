/* The live view's logic without curses: rows, order, column layout and human units. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/addr.h"
#include "util/array_grow.h"
#include "view/columns.h"
#include "ui/ui_view.h"

/* The screen keeps the columns of lowest rank; these are kept even in a narrow terminal,
 * shrunk to their minimum, before anything is dropped. */
#define UI_CORE_COLUMNS 4

/* ---------------------------------------------------------------- column layout */

static const struct column_view *view_of(int id)
{
	return &column_table[id].view;
}

/* The shown columns the live view can show, lowest rank first, into ranked; how many. */
static int rank_columns(const struct column_list *shown, int *ranked)
{
	int n = 0;

	for (int rank = 0; rank < COLUMN_VIEW_COUNT; rank++)
		for (int i = 0; i < COLUMN_VIEW_COUNT; i++) {
			int id = column_view_order[i];

			if (view_of(id)->rank == rank && column_list_has(shown, id))
				ranked[n++] = id;
		}
	return n;
}

/* How many of the ranked columns, first to last, fit at their minimum or wanted widths. */
static int columns_fitting(const int *ranked, int count, int width, bool at_min)
{
	int used = 0, n;

	for (n = 0; n < count; n++) {
		const struct column_view *v = view_of(ranked[n]);

		used += (at_min ? v->min_width : v->want_width) + (n > 0);
		if (used > width)
			break;
	}
	return n;
}

/* Spare cells go to the first n ranked columns, up to the width each may reach. */
static int grow_columns(const int *ranked, int *w, int n, int spare, bool to_max)
{
	for (int r = 0; r < n && spare > 0; r++) {
		int id = ranked[r];
		int limit = to_max ? view_of(id)->max_width : view_of(id)->want_width;
		int add = limit - w[id] < spare ? limit - w[id] : spare;

		if (add > 0) {
			w[id] += add;
			spare -= add;
		}
	}
	return spare;
}

static void place_columns(const int *w, struct ui_layout *out)
{
	int x = 0;

	out->ncolumns = 0;
	for (int i = 0; i < COLUMN_VIEW_COUNT; i++) {
		int id = column_view_order[i];

		if (!w[id])
			continue;
		out->column[out->ncolumns] = id;
		out->x[out->ncolumns] = x;
		out->width[out->ncolumns++] = w[id];
		x += w[id] + 1;
	}
}

/* w is indexed by column id. */
void ui_layout_compute(int width, const struct column_list *shown, struct ui_layout *out)
{
	int w[COL_COUNT] = { 0 }, ranked[COLUMN_VIEW_COUNT];
	int count = rank_columns(shown, ranked);
	int n = columns_fitting(ranked, count, width, false), used = 0, r;
	bool at_min = n < UI_CORE_COLUMNS && n < count;

	if (at_min) {
		n = columns_fitting(ranked, count, width, true);
		n = n < UI_CORE_COLUMNS ? n : UI_CORE_COLUMNS;
	}
	for (r = 0; r < n; r++) {
		int id = ranked[r];

		w[id] = at_min ? view_of(id)->min_width : view_of(id)->want_width;
		used += w[id] + (r > 0);
	}
	if (n == 0 && count > 0 && width > 0)
		w[ranked[0]] = width; /* a sliver of a terminal: one cut column */
	else
		grow_columns(ranked, w, n, grow_columns(ranked, w, n, width - used, false), true);
	place_columns(w, out);
}

void ui_layout_lead(struct ui_layout *lay, int id)
{
	int k = 0, x = lay->ncolumns ? lay->x[0] : 0, width;

	while (k < lay->ncolumns && lay->column[k] != id)
		k++;
	if (k == lay->ncolumns)
		return;
	width = lay->width[k];
	for (int i = k; i > 0; i--) {
		lay->column[i] = lay->column[i - 1];
		lay->width[i] = lay->width[i - 1];
	}
	lay->column[0] = id;
	lay->width[0] = width;
	for (int i = 0; i < lay->ncolumns; i++) {
		lay->x[i] = x;
		x += lay->width[i] + 1;
	}
}

/* ---------------------------------------------------------------- rows */

static bool word_equals_number(const char *word, uint64_t value)
{
	char *end;
	unsigned long long n;

	if (!isdigit((unsigned char)word[0]))
		return false;
	n = strtoull(word, &end, 10);
	return *end == '\0' && n == value;
}

static bool comm_contains(const struct flow_row *row, const char *word)
{
	struct column_value v;

	column_value(row, COL_COMM, &v);
	return strcasestr(v.text, word) != NULL;
}

static bool addr_contains(const struct flow_row *row, const char *word)
{
	struct column_value l, r;

	column_value(row, COL_LADDR, &l);
	column_value(row, COL_RADDR, &r);
	return strstr(l.text, word) || (!r.is_null && strstr(r.text, word));
}

static bool port_is(const struct flow_row *row, const char *word)
{
	return word_equals_number(word, row->id->lport) ||
	       (row->id->rport && word_equals_number(word, row->id->rport));
}

static bool word_match(const char *word, const struct flow_row *row)
{
	if (strncmp(word, "port:", 5) == 0)
		return port_is(row, word + 5);
	if (strncmp(word, "pid:", 4) == 0)
		return row->id->tgid && word_equals_number(word + 4, row->id->tgid);
	if (strncmp(word, "proc:", 5) == 0)
		return comm_contains(row, word + 5);
	return comm_contains(row, word) || addr_contains(row, word) || port_is(row, word) ||
	       (row->id->tgid && word_equals_number(word, row->id->tgid));
}

/* Calls fn on each space-separated word until it returns false. */
static bool each_word(const char *text, bool (*fn)(const char *, const void *), const void *arg)
{
	char word[UI_FILTER_MAX];

	while (*text) {
		size_t len = strcspn(text, " ");

		if (len > 0) {
			snprintf(word, sizeof(word), "%.*s", (int)len, text);
			if (!fn(word, arg))
				return false;
		}
		text += len + (text[len] == ' ');
	}
	return true;
}

static bool word_matches_row(const char *word, const void *row)
{
	return word_match(word, row);
}

bool ui_text_match(const char *text, const struct flow_row *row)
{
	return each_word(text, word_matches_row, row);
}

static bool word_valid(const char *word, const void *unused)
{
	const char *number = NULL;

	(void)unused;
	if (strncmp(word, "port:", 5) == 0)
		number = word + 5;
	else if (strncmp(word, "pid:", 4) == 0)
		number = word + 4;
	if (!number)
		return true;
	return *number && strspn(number, "0123456789") == strlen(number);
}

bool ui_text_valid(const char *text)
{
	return each_word(text, word_valid, NULL);
}

static bool row_is_state(const struct flow_row *row, const char *state)
{
	return row->id->proto == TCPTOP_PROTO_TCP && strcmp(tcp_state_name(row->state), state) == 0;
}

bool ui_row_shown(const struct ui_view_options *o, const struct flow_row *row)
{
	if (o->group && !group_set_holds(o->group_set, o->group, row))
		return false;
	if (o->hide_idle && row->tx_rate <= 0 && row->rx_rate <= 0)
		return false;
	if (o->hide_listen && row_is_state(row, "LISTEN"))
		return false;
	if (o->hide_time_wait && row_is_state(row, "TIME_WAIT"))
		return false;
	return !o->text[0] || ui_text_match(o->text, row);
}

void ui_rows_reverse(const struct flow_row **rows, size_t n)
{
	for (size_t i = 0; i < n / 2; i++) {
		const struct flow_row *t = rows[i];

		rows[i] = rows[n - 1 - i];
		rows[n - 1 - i] = t;
	}
}

static bool row_shown_by(const struct flow_row *row, const void *arg)
{
	return ui_row_shown(arg, row);
}

static bool same_choice(const struct ui_rows *r, const struct ui_view_options *o)
{
	const struct ui_view_options *a = &r->applied;

	return r->view && a->filter == o->filter && a->sort_id == o->sort_id &&
	       a->hide_idle == o->hide_idle && a->hide_listen == o->hide_listen &&
	       a->hide_time_wait == o->hide_time_wait && strcmp(r->applied_text, o->text) == 0 &&
	       a->group_set == o->group_set && !a->group == !o->group &&
	       (!o->group || memcmp(&r->applied_group, o->group, sizeof(*o->group)) == 0);
}

/* A new choice of what to show or in what order: the view starts afresh. */
static int choose(struct ui_rows *r, const struct ui_view_options *o)
{
	if (!r->view)
		r->view = row_view_new(o->filter, o->sort_id);
	if (!r->view)
		return -1;
	r->applied = *o;
	snprintf(r->applied_text, sizeof(r->applied_text), "%s", o->text);
	r->applied.text = r->applied_text;
	if (o->group) {
		r->applied_group = *o->group;
		r->applied.group = &r->applied_group;
	}
	row_view_choose(r->view, o->sort_id, row_shown_by, &r->applied);
	return 0;
}

int ui_rows_update(struct ui_rows *r, const struct snapshot *s, const struct ui_view_options *o)
{
	size_t n;

	r->nrows = 0;
	if ((!same_choice(r, o) && choose(r, o) < 0) || row_view_update(r->view, s) < 0)
		return -1;
	n = row_view_count(r->view);
	if (n > r->room) {
		if (!array_grow((void **)&r->rows, n, sizeof(*r->rows)))
			return -1;
		r->room = n;
	}
	for (size_t i = 0; i < n; i++)
		r->rows[i] = &s->rows[row_view_item(r->view, i)->pos];
	r->nrows = n;
	if (o->reverse)
		ui_rows_reverse(r->rows, n);
	return 0;
}

void ui_rows_free(struct ui_rows *r)
{
	row_view_free(r->view);
	free(r->rows);
	memset(r, 0, sizeof(*r));
}

bool ui_sort_descending(int sort_id, bool reverse)
{
	bool text = sort_id >= 0 && sort_id < COL_COUNT && column_table[sort_id].kind == COLUMN_TEXT;

	return text == reverse;
}

/* ---------------------------------------------------------------- human units */

/* Three significant digits, stepping to the next unit at 1000 so that widths stay fixed
 * ("999 KiB", then "0.98 MiB"). */
static void format_scaled(double value, double base, const char *const *units, const char *sep,
			  char *out, size_t len)
{
	int i = 0;

	while (value >= 999.5 && units[i + 1]) {
		value /= base;
		i++;
	}
	if (i == 0 || value >= 99.95)
		snprintf(out, len, "%.0f%s%s", value, sep, units[i]);
	else if (value >= 9.995)
		snprintf(out, len, "%.1f%s%s", value, sep, units[i]);
	else
		snprintf(out, len, "%.2f%s%s", value, sep, units[i]);
}

void ui_format_rate(double bytes_per_s, bool bits, char *out, size_t len)
{
	static const char *const byte_units[] = { "B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s",
						  NULL };
	static const char *const bit_units[] = { "b/s", "kb/s", "Mb/s", "Gb/s", "Tb/s", NULL };

	if (!(bytes_per_s > 0))
		bytes_per_s = 0; /* also NaN */
	if (bits)
		format_scaled(bytes_per_s * 8, 1000, bit_units, " ", out, len);
	else
		format_scaled(bytes_per_s, 1024, byte_units, " ", out, len);
}

void ui_format_size(uint64_t bytes, char *out, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", NULL };

	format_scaled((double)bytes, 1024, units, " ", out, len);
}

void ui_format_count(uint64_t n, char *out, size_t len)
{
	static const char *const units[] = { "", "k", "M", "G", "T", NULL };

	format_scaled((double)n, 1000, units, "", out, len);
}

void ui_format_rtt(uint32_t us, bool utf8, char *out, size_t len)
{
	if (us < 1000)
		snprintf(out, len, "%u%s", us, utf8 ? "\u00b5s" : "us");
	else if (us < 100000)
		snprintf(out, len, "%.1fms", us / 1000.0);
	else if (us < 999500)
		snprintf(out, len, "%.0fms", us / 1000.0);
	else
		snprintf(out, len, "%.2fs", us / 1e6);
}

void ui_format_age(double seconds, char *out, size_t len)
{
	unsigned long s = seconds > 0 ? (unsigned long)seconds : 0;

	if (s < 60)
		snprintf(out, len, "%lus", s);
	else if (s < 3600)
		snprintf(out, len, "%lum%02lus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, len, "%luh%02lum", s / 3600, s % 3600 / 60);
	else
		snprintf(out, len, "%lud%02luh", s / 86400, s % 86400 / 3600);
}

void ui_format_endpoint(const struct flow_row *row, bool remote, const char *name,
			char *out, size_t len)
{
	struct column_value addr, port;

	column_value(row, remote ? COL_RADDR : COL_LADDR, &addr);
	column_value(row, remote ? COL_RPORT : COL_LPORT, &port);
	if (addr.is_null)
		snprintf(out, len, "*:*");
	else if (name)
		snprintf(out, len, "%s:%llu", name, (unsigned long long)port.integer);
	else if (strchr(addr.text, ':'))
		snprintf(out, len, "[%s]:%llu", addr.text, (unsigned long long)port.integer);
	else
		snprintf(out, len, "%s:%llu", addr.text, (unsigned long long)port.integer);
}

/* ---------------------------------------------------------------- text cells */

static bool is_continuation(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

int ui_text_cells(const char *text)
{
	int cells = 0;

	for (; *text; text++)
		cells += !is_continuation(*text);
	return cells;
}

/* Byte offset where the cell-th character starts (or the end). */
static size_t cell_offset(const char *text, int cell)
{
	size_t i = 0;

	for (int seen = -1; text[i]; i++) {
		if (!is_continuation(text[i]) && ++seen == cell)
			break;
	}
	return i;
}

void ui_text_fit(char *text, int cells, bool keep_tail)
{
	int have = ui_text_cells(text);
	size_t from;

	if (have <= cells)
		return;
	if (cells <= 0) {
		text[0] = '\0';
		return;
	}
	if (!keep_tail) {
		text[cell_offset(text, cells)] = '\0';
		return;
	}
	/* "~" marks the cut, then the last cells - 1 characters. */
	from = cell_offset(text, have - (cells - 1));
	text[0] = '~';
	memmove(text + 1, text + from, strlen(text + from) + 1);
}

/* ---------------------------------------------------------------- cells */

static void format_as_is(const struct column_value *v, char *out, size_t len)
{
	if (v->kind == COLUMN_TEXT)
		snprintf(out, len, "%s", v->text);
	else
		snprintf(out, len, "%llu", (unsigned long long)v->integer);
}

const char *const ui_rate_window_names[UI_RATE_WINDOWS] = { "last interval", "2s avg", "10s avg",
							    "40s avg" };

int ui_rate_column(int id, int window)
{
	if (window <= 0 || window >= UI_RATE_WINDOWS || (id != COL_TX_RATE && id != COL_RX_RATE))
		return id;
	return COL_TX_RATE_2S + 2 * (window - 1) + (id == COL_RX_RATE);
}

void ui_format_sparkline(const double *rates, size_t n, int cells, bool utf8, char *out, size_t len)
{
	static const char *const blocks[8] = { "\u2581", "\u2582", "\u2583", "\u2584",
					       "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[8] = { '.', ':', '-', '=', '+', '*', '#', '@' };
	size_t from = cells > 0 && n > (size_t)cells ? n - (size_t)cells : 0, used = 0;
	double peak = 0;

	for (size_t i = from; i < n; i++)
		peak = rates[i] > peak ? rates[i] : peak;
	for (size_t i = from; i < n && used + 4 < len; i++) {
		int level = peak > 0 && rates[i] > 0 ? (int)(rates[i] / peak * 8.0 - 1e-9) : -1;

		level = level > 7 ? 7 : level;
		if (rates[i] > 0 && level < 0)
			level = 0; /* anything at all shows */
		if (level < 0)
			out[used++] = ' ';
		else if (utf8)
			used += (size_t)snprintf(out + used, len - used, "%s", blocks[level]);
		else
			out[used++] = ascii[level];
	}
	if (len)
		out[used < len ? used : len - 1] = '\0';
}

/* A group's address has no port: "10.0.0.1", or its name. */
static void format_group_address(const struct flow_row *row, const char *name, char *out,
				 size_t len)
{
	struct column_value addr;

	column_value(row, COL_RADDR, &addr);
	snprintf(out, len, "%s", addr.is_null ? "*" : name ? name : addr.text);
}

void ui_format_cell(const struct flow_row *row, int id, const struct ui_cell_style *st,
		    char *out, size_t len)
{
	enum column_unit unit = column_table[id].view.unit;
	struct column_value v;

	if (unit == UNIT_HISTORY) {
		ui_format_sparkline(st->history, st->history ? st->history_len : 0,
				    st->history_cells, st->utf8, out, len);
		return;
	}
	if (unit == UNIT_ENDPOINT && st->group) {
		format_group_address(row, st->remote_name, out, len);
		return;
	}
	if (unit == UNIT_ENDPOINT) {
		ui_format_endpoint(row, id == COL_RADDR, id == COL_RADDR ? st->remote_name : NULL,
				   out, len);
		return;
	}
	if (st->group)
		group_value(group_row_of(row), ui_rate_column(id, st->window), &v);
	else
		column_value(row, ui_rate_column(id, st->window), &v);
	if (v.is_null) {
		snprintf(out, len, "-");
		return;
	}
	switch (unit) {
	case UNIT_RATE:
		ui_format_rate(v.real, st->bits, out, len);
		break;
	case UNIT_BYTES:
		ui_format_size(v.integer, out, len);
		break;
	case UNIT_COUNT:
		ui_format_count(v.integer, out, len);
		break;
	case UNIT_USEC:
		ui_format_rtt((uint32_t)v.integer, st->utf8, out, len);
		break;
	case UNIT_SECONDS:
		ui_format_age(v.real, out, len);
		break;
	default:
		format_as_is(&v, out, len);
		break;
	}
}
