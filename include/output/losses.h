/* Everything tcptop had to drop, counted since start, and the one way each output says it:
 * a line on stderr (batch), a JSONL line of its own, the live view's header. Each counter
 * comes from where the loss happens: the kernel side and the collector through the
 * snapshot, the writers through their own atomics. */
#ifndef TCPTOP_OUTPUT_LOSSES_H
#define TCPTOP_OUTPUT_LOSSES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "output/closed_log.h"
#include "output/log_file.h"
#include "snapshot.h"

enum loss {
	LOSS_FLOW_MAP_FULL,     /* flow updates the kernel side refused: the store was full */
	LOSS_CLOSE_RECORDS,     /* close records that found the ring full (read elsewhere) */
	LOSS_CLOSED_UNSHOWN,    /* closed flows over the bound, never in a snapshot */
	LOSS_LOG_SNAPSHOTS,     /* --log snapshots not written whole */
	LOSS_SNAPSHOTS_SKIPPED, /* snapshots the output was too slow to write */
	LOSS_CLOSED_LOG,        /* ended flows the closed log's writer could not take */
	LOSS_RECORD_SNAPSHOTS,  /* -w snapshots not recorded */
	LOSS_EVENTS_MISSED,     /* runs of the BPF programs the kernel skipped */
	LOSS_COUNT,
};

struct losses {
	uint64_t n[LOSS_COUNT];
};

/* What feeds the counters besides the snapshot; any may be NULL. */
struct loss_sources {
	const struct log_health *log;
	const struct closed_log_health *closed;
	const uint64_t *skipped;         /* __atomic */
	const struct log_health *record; /* -w's file */
};

void losses_read(struct losses *out, const struct snapshot *s, const struct loss_sources *src);
/* "flow_map_full": the counter's key in JSONL and the metrics' label. */
const char *loss_key(enum loss which);
/* Whether any counter of now is above last's. */
bool losses_grew(const struct losses *now, const struct losses *last);
/* "flow map full 12, log 2 snapshots": the non-zero ones, for stderr and the header; ""
 * when none. */
void losses_text(const struct losses *l, char *out, size_t len);
/* {"time":"...","dropped":{"flow_map_full":12,...}} and a newline, every counter; its
 * length (out has FORMAT_LINE_MAX of room). */
size_t losses_json_line(const struct losses *l, const char *time_text, char *out);

#endif
