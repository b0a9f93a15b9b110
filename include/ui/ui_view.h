/* The live view's logic without curses: which rows it shows in which order, which columns
 * fit the terminal, and how numbers read (human units). The UI thread draws what this
 * decides; the unit tests check it without a terminal. */
#ifndef TCPTOP_UI_VIEW_H
#define TCPTOP_UI_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "view/columns.h"
#include "view/filter.h"
#include "flow_row.h"
#include "view/group.h"
#include "view/row_view.h"
#include "snapshot.h"

#define UI_FILTER_MAX 64

/* Which of the shown columns the live view can show (column_view_order) fit in width
 * cells and where: in that order, one space between. column[] holds column ids. */
struct ui_layout {
	int ncolumns;
	int column[COLUMN_VIEW_COUNT];
	int x[COLUMN_VIEW_COUNT];
	int width[COLUMN_VIEW_COUNT];
};

void ui_layout_compute(int width, const struct column_list *shown, struct ui_layout *out);
/* Column id, when the layout has it, moves to the left of the others (what names the rows
 * of a grouping comes first). */
void ui_layout_lead(struct ui_layout *lay, int id);

/* What the user chose to see: applied on top of the command-line filter. */
struct ui_view_options {
	const struct filter *filter; /* the command line's */
	const char *text;            /* the "/" filter; "" for none */
	int sort_id;                 /* enum column_id, or COL_RATE */
	bool reverse;
	bool hide_idle;              /* no bytes either way in the last interval */
	bool hide_listen;
	bool hide_time_wait;
	/* An opened group (ui_groups.h): only its flows, as its set tells; NULL for all. */
	const struct group_set *group_set;
	const struct group_key *group;
};

/* Whether row passes the options (the command line's filter aside). */
bool ui_row_shown(const struct ui_view_options *o, const struct flow_row *row);

/* The rows the live view shows of each snapshot, kept from one to the next (row_view.h):
 * a new snapshot costs what changed in it, a new choice of options a full sort. */
struct ui_rows {
	struct row_view *view;
	struct ui_view_options applied; /* the options the view holds, text in applied_text */
	char applied_text[UI_FILTER_MAX];
	struct group_key applied_group; /* applied.group points here, or is NULL */
	const struct flow_row **rows; /* pointers into the snapshot last given */
	size_t nrows, room;
};

/* Rows of s the options let through, in their order, into r->rows and r->nrows (a zeroed
 * r to start with); -1 when out of memory (then no rows). */
int ui_rows_update(struct ui_rows *r, const struct snapshot *s, const struct ui_view_options *o);
void ui_rows_free(struct ui_rows *r);
/* The rows in the other order (r: the sort reversed). */
void ui_rows_reverse(const struct flow_row **rows, size_t n);
/* The "/" filter: words that must all match. "port:N" either port, "pid:N", "proc:TEXT"
 * process name; a bare word matches a process name (any case), a pid, a port or part of
 * an address. */
bool ui_text_match(const char *text, const struct flow_row *row);
/* True when text is a filter ui_text_match understands ("port:abc" is not). */
bool ui_text_valid(const char *text);
/* The sort marker is "down" when the first row holds the largest value. */
bool ui_sort_descending(int sort_id, bool reverse);

/* Human units, right for a column of the width the column table gives it. */
void ui_format_rate(double bytes_per_s, bool bits, char *out, size_t len);
void ui_format_size(uint64_t bytes, char *out, size_t len);
void ui_format_count(uint64_t n, char *out, size_t len);
void ui_format_rtt(uint32_t us, bool utf8, char *out, size_t len);
void ui_format_age(double seconds, char *out, size_t len);
/* "10.0.0.1:443", "[::1]:22", "*:*" for no peer; name (from DNS) replaces the address. */
void ui_format_endpoint(const struct flow_row *row, bool remote, const char *name,
			char *out, size_t len);

/* How cells read: set by the user's keys and the terminal. */
struct ui_cell_style {
	bool bits;               /* rates in bits/s instead of bytes/s */
	bool utf8;               /* the terminal shows "\u00b5" */
	const char *remote_name; /* the peer's DNS name, NULL to show its address */
	int window;              /* rate columns show: 0 the last interval, 1..3 2/10/40 s */
	bool group;              /* the row is a struct group_row's (view/group.h) */
	const double *history;   /* the row's rates, oldest first (view/rate_history.h) */
	size_t history_len;
	int history_cells; /* the history column's width */
};

/* The last rates (at most cells of them) as a sparkline, newest at the right, scaled to
 * their peak: block characters, or ".:-=+*#@" without UTF-8; a zero is a blank. */
void ui_format_sparkline(const double *rates, size_t n, int cells, bool utf8, char *out,
			 size_t len);

/* The live view's rate windows (the w key): the last interval, then 2 s, 10 s, 40 s. */
#define UI_RATE_WINDOWS 4
extern const char *const ui_rate_window_names[UI_RATE_WINDOWS];
/* The column a rate column (COL_TX_RATE, COL_RX_RATE) shows for window; any other id as it is. */
int ui_rate_column(int id, int window);

/* The text of one cell of a row (column id, one the live view shows), in its column's
 * unit, before it is fitted to its width. */
void ui_format_cell(const struct flow_row *row, int id, const struct ui_cell_style *st,
		    char *out, size_t len);

/* Display cells of UTF-8 text (every character is one cell wide here). */
int ui_text_cells(const char *text);
/* Cut text to at most cells cells in place; keep_tail keeps the end (addresses: the port). */
void ui_text_fit(char *text, int cells, bool keep_tail);

#endif
