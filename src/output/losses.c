/* The loss counters (losses.h), read and said. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include "output/losses.h"

static const struct {
	const char *key;  /* JSONL */
	const char *text; /* stderr and the live view: "%llu" then this */
} loss_names[LOSS_COUNT] = {
	[LOSS_FLOW_MAP_FULL] = { "flow_map_full",
				 "flow updates refused (flow map full: raise --max-flows)" },
	[LOSS_CLOSE_RECORDS] = { "close_records_lost",
				 "close records over the ring (read from the flow store)" },
	[LOSS_CLOSED_UNSHOWN] = { "closed_unshown", "closed flows not shown" },
	[LOSS_LOG_SNAPSHOTS] = { "log_snapshots_lost", "snapshots not logged" },
	[LOSS_SNAPSHOTS_SKIPPED] = { "snapshots_skipped", "snapshots skipped (output too slow)" },
	[LOSS_CLOSED_LOG] = { "closed_log_lost", "ended flows not in the closed log" },
	[LOSS_RECORD_SNAPSHOTS] = { "record_snapshots_lost", "snapshots not recorded" },
	[LOSS_EVENTS_MISSED] = { "bpf_events_missed", "events missed by BPF programs" },
};

void losses_read(struct losses *out, const struct snapshot *s, const struct loss_sources *src)
{
	memset(out, 0, sizeof(*out));
	if (s) {
		out->n[LOSS_FLOW_MAP_FULL] = s->flows_dropped;
		out->n[LOSS_CLOSE_RECORDS] = s->close_records_lost;
		out->n[LOSS_CLOSED_UNSHOWN] = s->closed_trimmed;
		out->n[LOSS_EVENTS_MISSED] = s->events_missed;
	}
	if (src->log)
		out->n[LOSS_LOG_SNAPSHOTS] = atomic_load_explicit(&src->log->lost,
								  memory_order_relaxed);
	if (src->skipped)
		out->n[LOSS_SNAPSHOTS_SKIPPED] = __atomic_load_n(src->skipped, __ATOMIC_RELAXED);
	if (src->record)
		out->n[LOSS_RECORD_SNAPSHOTS] = atomic_load_explicit(&src->record->lost,
								     memory_order_relaxed);
	if (src->closed)
		out->n[LOSS_CLOSED_LOG] = atomic_load_explicit(&src->closed->dropped,
							       memory_order_relaxed);
}

const char *loss_key(enum loss which)
{
	return loss_names[which].key;
}

bool losses_grew(const struct losses *now, const struct losses *last)
{
	for (int i = 0; i < LOSS_COUNT; i++)
		if (now->n[i] > last->n[i])
			return true;
	return false;
}

void losses_text(const struct losses *l, char *out, size_t len)
{
	size_t used = 0;

	if (len)
		out[0] = '\0';
	for (int i = 0; i < LOSS_COUNT && used < len; i++) {
		int n;

		if (!l->n[i])
			continue;
		n = snprintf(out + used, len - used, "%s%llu %s", used ? ", " : "",
			     (unsigned long long)l->n[i], loss_names[i].text);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

size_t losses_json_line(const struct losses *l, const char *time_text, char *out)
{
	int n = sprintf(out, "{\"time\":\"%s\",\"dropped\":{", time_text);

	for (int i = 0; i < LOSS_COUNT; i++)
		n += sprintf(out + n, "%s\"%s\":%llu", i ? "," : "", loss_names[i].key,
			     (unsigned long long)l->n[i]);
	n += sprintf(out + n, "}}\n");
	return (size_t)n;
}
