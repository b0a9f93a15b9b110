/* Grouped views (--group): one row per process, remote address, service port or cgroup,
 * summing its flows. A reader derives them from each snapshot it takes, with no help from
 * the compute thread; it keeps what a snapshot cannot say: the bytes of flows that closed
 * (a closed row is in one snapshot only), so that a group's totals never fall while it has
 * flows. Group rows are flow rows for every column a flow has, plus their own counts. */
#ifndef TCPTOP_GROUP_H
#define TCPTOP_GROUP_H

#include <stddef.h>
#include <stdint.h>
#include "flow_row.h"
#include "snapshot.h"
#include "view/columns.h"
#include "view/filter.h"

enum grouping {
	GROUP_FLOW, /* one row per flow: no grouping */
	GROUP_PROCESS,
	GROUP_REMOTE,
	GROUP_PORT,
	GROUP_CGROUP,
	GROUP_COUNT,
};

/* What the per-state columns count (established, opening, ...). */
enum group_state {
	GROUP_ESTABLISHED,
	GROUP_OPENING, /* SYN_SENT, SYN_RECV, NEW_SYN_RECV */
	GROUP_CLOSING, /* FIN_WAIT1/2, CLOSE_WAIT, LAST_ACK, TIME_WAIT, CLOSING */
	GROUP_LISTEN,
	GROUP_CLOSED, /* final rows: flows that ended in this snapshot */
	GROUP_UDP,
	GROUP_STATES,
};

/* What tells groups apart; zeroed but for the grouping's fields, so memcmp compares it. */
struct group_key {
	uint64_t cgroup_id;
	uint32_t pid;
	uint16_t port;
	uint8_t family, proto;
	uint8_t addr[16];
};

struct group_row {
	struct flow_row row;        /* the sums; its id points to ident */
	struct flow_identity ident; /* the group's identity in its fields */
	struct group_key key;
	uint32_t flows;
	uint32_t states[GROUP_STATES];
	uint16_t port; /* GROUP_PORT: the service port */
};

/* A reader holding a group row's flow_row (the live view's row pointers) has its group. */
_Static_assert(offsetof(struct group_row, row) == 0, "a group row starts with its flow row");
static inline const struct group_row *group_row_of(const struct flow_row *row)
{
	return (const struct group_row *)row;
}

/* A copy of src that is whole in itself: its row's identity is its own. */
static inline void group_row_copy(struct group_row *dst, const struct group_row *src)
{
	*dst = *src;
	dst->row.id = &dst->ident;
}

struct group_set;

/* "flow", "process", ... ; NULL for a bad value. */
const char *grouping_name(enum grouping g);
/* The grouping named name, or -1. */
int grouping_lookup(const char *name);
/* Whether column id (or a sort key) means something in grouping g. */
bool grouping_has_column(enum grouping g, int id);
/* The columns CSV and JSONL write by default in grouping g (time first). */
void grouping_default_columns(enum grouping g, struct column_list *out);

/* A reader's own test of a flow row on top of the filter (the live view's "/" text). */
typedef bool (*group_set_shows)(const struct flow_row *row, const void *arg);

/* Groups of the rows of each snapshot that match f (which must outlive the set), sorted by
 * sort_id; NULL when out of memory. g must not be GROUP_FLOW. */
struct group_set *group_set_new(enum grouping g, const struct filter *f, int sort_id);
/* Rows must also pass shows (arg must outlive the set); set before the first update. */
void group_set_also(struct group_set *set, group_set_shows shows, const void *arg);
void group_set_free(struct group_set *set);
enum grouping group_set_grouping(const struct group_set *set);
void group_set_sort_by(struct group_set *set, int sort_id);
/* Learn s: its groups, in order. Closed rows' bytes are kept for their group until a
 * snapshot in which it has no flow. The snapshot learnt last again only sorts anew (its
 * closed rows count once). -1 when out of memory (the set is then empty). */
int group_set_update(struct group_set *set, const struct snapshot *s);
size_t group_set_count(const struct group_set *set);
/* The i-th group row, in order, after group_set_update(). */
const struct group_row *group_set_row(const struct group_set *set, size_t i);
/* Whether row (of the snapshot last learnt) belongs to the group of key: for opening a
 * group. */
bool group_set_holds(const struct group_set *set, const struct group_key *key,
		     const struct flow_row *row);

/* The value of one column of a group row; values of all columns in one call. */
void group_value(const struct group_row *g, int id, struct column_value *out);
void group_values(const struct group_row *g, struct column_value values[COL_COUNT]);

#endif
