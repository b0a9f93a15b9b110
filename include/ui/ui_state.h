/* What the UI thread knows between two frames, shared by its parts: ui.c (the loop and
 * the terminal), ui_keys.c (what keys do) and ui_draw.c (what the screen shows). */
#ifndef TCPTOP_UI_STATE_H
#define TCPTOP_UI_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include "output/log_file.h"
#include "options.h"
#include "output/closed_log.h"
#include "ui/resolver.h"
#include "record/replay_live.h"
#include "snapshot.h"
#include "ui/ui_alert.h"
#include "ui/ui_cost.h"
#include "ui/ui_groups.h"
#include "ui/ui_view.h"
#include "view/rate_history.h"

enum ui_mode {
	UI_MODE_ROWS,
	UI_MODE_HELP,
	UI_MODE_FILTER, /* typing a "/" filter */
	UI_MODE_SORT,   /* picking a sort key from a list */
	UI_MODE_COLUMNS, /* choosing the columns shown from a list */
	UI_MODE_JUMP,    /* typing a time to jump to in a recording */
	UI_MODE_DETAIL,  /* one flow's every field (ui_detail.c) */
};

/* What a key or an event asks of the loop; actions never draw themselves. */
enum ui_flags {
	UI_REDRAW = 1,  /* the screen changed */
	UI_REBUILD = 2, /* the rows to show changed (filter, sort, snapshot) */
	UI_QUIT = 4,
	UI_REFRESH = 8, /* show the newest snapshot now (paused no more) */
};

/* Colour pairs; each also has a look for terminals without colour. */
enum ui_pair {
	UI_PAIR_TITLE = 1, /* the column titles */
	UI_PAIR_COOL,      /* rate cells by bandwidth, see ui_draw.c */
	UI_PAIR_WARM,
	UI_PAIR_HOT,
	UI_PAIR_ALERT,  /* PAUSED, dropped flows, a bad filter */
	UI_PAIR_SELECT, /* the highlighted row */
};

struct ui {
	const struct options *opt;
	enum ui_mode mode;
	struct ui_view_options view; /* view.text is filter_text */
	char filter_text[UI_FILTER_MAX];
	char edit_text[UI_FILTER_MAX];
	bool edit_invalid;
	int sort_pick; /* index into the sort list while picking */
	struct column_list shown_columns; /* the columns shown (-o, then the chooser) */
	int column_pick;                  /* index into ui_column_choices() while choosing */
	/* Grouped views (g, --group): the groups, each grouping's columns, and the group
	 * opened (Enter) to show its flows. */
	struct ui_groups groups;
	struct column_list group_columns[GROUP_COUNT];
	bool group_open;
	struct group_row open_group; /* a copy: its key chooses the flows */
	/* Rate histories (the history column, the detail pane) of every flow and, while
	 * grouped, of every group of history_grouping; NULL when out of memory. */
	struct rate_history *flow_history, *group_history;
	enum grouping history_grouping;
	bool paused;
	bool bits;
	bool show_cost;             /* the header's cost line (key o) */
	struct ui_cost cost;        /* sampled at each new snapshot, paused or not */
	struct ui_alert alert;      /* --alert: the rows above at the last snapshot shown */
	int rate_window;            /* what the rate columns show: ui_rate_window_names */
	bool resolve;               /* peer names instead of addresses */
	struct resolver *resolver; /* started the first time names are wanted */
	bool utf8;
	bool colour;
	struct snapshot *shown; /* a reference held: the rows point into it */
	struct ui_rows kept;    /* the rows of shown, kept in order between snapshots */
	const struct flow_row **rows; /* kept.rows, or NULL */
	size_t nrows;
	double shown_rx_rate, shown_tx_rate;
	double total_rx, total_tx; /* bytes moved by every flow since start */
	bool totals_estimated;     /* a snapshot went by unseen: its bytes are estimated */
	uint64_t last_generation;
	size_t scroll;   /* index of the first row on screen */
	size_t selected; /* index of the highlighted row */
	bool following;  /* the highlight follows its flow across snapshots, as in htop */
	struct flow_key selected_key;
	const struct log_health *log_health; /* NULL without --log; written by the log's writer */
	const struct closed_log_health *closed_health; /* NULL without --closed */
	const struct log_health *record_health;        /* NULL without -w */
	const uint64_t *output_skipped; /* snapshots the --log writer skipped, __atomic */
	struct replay_control *replay;  /* -r: steers the replay; NULL live */
	char jump_text[40];             /* the time typed after J */
	char message[120];              /* one line in the key bar until the next key */
	/* The detail pane's flow, its last row seen and whether it has ended since. */
	struct flow_key detail_key;
	struct flow_row detail_row; /* a group's: detail_group.row; its id is detail_id */
	struct flow_identity detail_id;
	bool detail_is_group; /* opened on a group row */
	struct group_row detail_group;
	bool detail_gone;
	uint32_t detail_pid; /* whose command line detail_cmdline holds */
	char detail_cmdline[1024];
	/* The last left press, for double clicks (ui_mouse.c). */
	uint64_t click_ns;
	long click_row;
};

/* Sort keys in the order "<" and ">" step through them: rate, then the screen's columns
 * that the rows shown have (a grouping's, or a flow's). */
int ui_sort_key_count(const struct ui *ui);
int ui_sort_key(const struct ui *ui, int index);
int ui_sort_key_index(const struct ui *ui, int sort_id);

/* Whether the rows shown are group rows (a grouping, no group opened). */
bool ui_rows_are_groups(const struct ui *ui);
/* The columns the table shows now: the flow view's, or the grouping's. */
const struct column_list *ui_columns_now(const struct ui *ui);
/* The columns the chooser (c) offers now, in the screen's order, into ids; how many. */
int ui_column_choices(const struct ui *ui, int ids[COLUMN_VIEW_COUNT]);

/* Rows of the screen the table may use (between the headers and the key bar). */
int ui_draw_body_lines(const struct ui *ui);
/* The screen line of the column titles; the rows start on the next. */
int ui_title_line(const struct ui *ui);
/* Where the table's columns are on the screen now. */
void ui_table_layout(const struct ui *ui, struct ui_layout *lay);
/* A mouse event (KEY_MOUSE) in the rows mode (ui_mouse.c). */
int ui_mouse_event(struct ui *ui);
/* The detail pane (ui_detail.c): opened on the highlighted row, its keys, its row taken
 * again from each snapshot shown (after the rows are rebuilt), drawn from line top. */
int ui_detail_open(struct ui *ui);
int ui_detail_key(struct ui *ui, int key);
void ui_detail_update(struct ui *ui);
void ui_detail_draw(const struct ui *ui, int top);
void ui_draw(const struct ui *ui);
int ui_keys_handle(struct ui *ui, int key);
/* -r's time navigation (ui_timenav.c): actions of the rows mode, and the J prompt. */
int ui_timenav_pause(struct ui *ui);
int ui_timenav_next(struct ui *ui);
int ui_timenav_previous(struct ui *ui);
int ui_timenav_faster(struct ui *ui);
int ui_timenav_slower(struct ui *ui);
int ui_timenav_jump_start(struct ui *ui);
int ui_timenav_jump_key(struct ui *ui, int key);

/* Whether key does something in the rows mode (the help must name it). */
bool ui_keys_bound(int key);
/* After the rows changed: the highlight finds its flow again and stays on screen. */
void ui_keys_follow(struct ui *ui);
/* The actions the mouse shares with keys (ui_keys.c): sort by a column, reverse the
 * order, highlight row target (follow: keep it on its flow), move page and highlight. */
int ui_keys_set_sort(struct ui *ui, int sort_id);
int ui_keys_sort_reverse(struct ui *ui);
int ui_keys_select_row(struct ui *ui, long target, bool follow);
int ui_keys_page_move(struct ui *ui, long by);
/* Grouped views (ui_group_keys.c). Enter: a group row opens its flows, a flow row its
 * detail pane; g steps to the next grouping; Esc or Backspace closes the open group. */
int ui_keys_enter(struct ui *ui);
int ui_group_cycle(struct ui *ui);
int ui_group_close(struct ui *ui);
void ui_group_columns_init(struct ui *ui);
/* The rates of row (of the rows shown) over its last intervals, oldest first; how many. */
size_t ui_row_history(const struct ui *ui, const struct flow_row *row,
		      double out[RATE_HISTORY_LEN]);

#endif
