/* The closed-connection log (--closed): one line per TCP connection or UDP flow when it
 * ends, with its final counts. The collector hands each ended flow over as it sweeps it
 * from the flow table (once its final row was in a snapshot); a writer thread of its own
 * formats the lines and writes them through the log file module, so a slow disk never
 * holds up the drains. Between the two, a ring of fixed size: what does not fit is
 * counted as lost, and said. */
#ifndef TCPTOP_OUTPUT_CLOSED_LOG_H
#define TCPTOP_OUTPUT_CLOSED_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "flow_table.h"
#include "output/format.h"
#include "output/log_file.h"
#include "view/filter.h"

/* Why a flow ended, as the reason field says it. */
enum closed_reason {
	CLOSED_CLOSE,   /* TCP: FINs exchanged, or a listener or a connect given up */
	CLOSED_RESET,   /* TCP: a reset, sent or received, or a refused connect */
	CLOSED_TIMEOUT, /* TCP: the kernel gave up retransmitting; UDP: idle for --udp-timeout */
	CLOSED_EVICTED, /* UDP: let go to make room when the flow store was full */
};

/* One ended flow, as the collector hands it over. Times are CLOCK_REALTIME ns. */
struct closed_flow {
	struct flow_identity id;
	uint64_t start_ns, end_ns;
	uint64_t tx_bytes, rx_bytes, tx_packets, rx_packets;
	uint32_t srtt_us, retrans;
	uint8_t state;  /* the flow's last state (TCPTOP_STATE_NONE for UDP) */
	uint8_t reason; /* enum closed_reason */
};

struct closed_log;

/* What the live view and the exit report show. */
struct closed_log_health {
	const struct log_health *file; /* the file's own (failing, batches lost) */
	atomic_uint_least64_t written; /* flows written */
	atomic_uint_least64_t dropped; /* flows that found the ring full */
};

/* A closed log writing the flows that pass filter (the command line's, which must outlive
 * it) to file (opened by the caller, which closes it after the thread ended) in format,
 * with room for about room flows between the collector and its writer (--max-flows);
 * NULL when out of memory (reported). */
struct closed_log *closed_log_new(struct log_file *file, enum output_format format,
				  const struct filter *filter, size_t room);
void closed_log_free(struct closed_log *c);
const struct closed_log_health *closed_log_health(const struct closed_log *c);
/* What --closed holds, for log_file_open(). */
const struct log_kind *closed_log_kind(void);
/* The --closed file's format: .csv or .jsonl (either with .gz) in its name, else fmt. */
enum output_format closed_log_format(const char *path, enum output_format fmt);

/* The one thread that pushes (the collector, then main once it has joined it): a flow the
 * table let go of; nothing for one that needs no line (a listener, a socket already over
 * at start). real_minus_mono converts the flow's CLOCK_MONOTONIC times. */
void closed_log_push(struct closed_log *c, const struct flow_node *node, int64_t real_minus_mono);
/* Wakes the writer for what was pushed; with last, the writer ends once it has written
 * everything. */
void closed_log_flush(struct closed_log *c, bool last);
/* The writer thread (arg: the closed log). */
void *closed_log_thread(void *arg);

#endif
