/* The closed-connection log (closed_log.h): a single-producer, single-consumer ring from
 * the collector to the writer thread, and the lines the writer makes of what it takes. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "output/closed_log.h"
#include "util/numtext.h"
#include "util/report.h"
#include "view/columns.h"

/* The ring holds as many flows as --max-flows (at least this many): the writer is woken
 * when it is half full, and a line takes it about a microsecond, so at the default it
 * keeps up with tens of thousands of ends a second. */
#define CLOSED_RING_LEAST 1024
/* Lines are made into blocks of this size, each handed to the log file whole. */
#define CLOSED_BLOCK (256 * 1024)

/* The columns the snapshots share with the closed log, after end, start, duration_s and
 * reason. */
static const int shared_columns[] = {
	COL_PID,        COL_COMM,   COL_PROTO,    COL_LADDR,    COL_LPORT,
	COL_RADDR,      COL_RPORT,  COL_TX_BYTES, COL_RX_BYTES, COL_TX_PACKETS,
	COL_RX_PACKETS, COL_RTT_US, COL_RETRANS,  COL_NETNS,
};
#define NSHARED (sizeof(shared_columns) / sizeof(shared_columns[0]))
#define NCOLUMNS (4 + NSHARED)

static const char *const reason_names[] = {
	[CLOSED_CLOSE] = "close",
	[CLOSED_RESET] = "reset",
	[CLOSED_TIMEOUT] = "timeout",
	[CLOSED_EVICTED] = "evicted",
};

static const char *column_names[NCOLUMNS] = { "end", "start", "duration_s", "reason" };
static struct log_kind closed_kind = {
	.option = "--closed",
	.noun = "closed log",
	.unit = "batch",
	.names = column_names,
	.count = NCOLUMNS,
};

struct closed_log {
	struct log_file *file;
	enum output_format format;
	const struct filter *filter;
	struct closed_flow *ring;
	size_t room;         /* a power of two */
	_Atomic size_t head; /* pushed so far: written by the producer */
	_Atomic size_t tail; /* taken so far: written by the writer */
	_Atomic bool last;   /* nothing more will be pushed */
	int wake_fd;
	char *block;
	struct closed_log_health health;
};

const struct log_kind *closed_log_kind(void)
{
	for (size_t i = 0; i < NSHARED; i++)
		column_names[4 + i] = column_name(shared_columns[i]);
	return &closed_kind;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && strcmp(s + n - m, tail) == 0;
}

enum output_format closed_log_format(const char *path, enum output_format fmt)
{
	if (ends_with(path, ".csv") || ends_with(path, ".csv.gz"))
		return FORMAT_CSV;
	if (ends_with(path, ".jsonl") || ends_with(path, ".jsonl.gz"))
		return FORMAT_JSONL;
	return fmt;
}

struct closed_log *closed_log_new(struct log_file *file, enum output_format format,
				  const struct filter *filter, size_t room)
{
	struct closed_log *c = calloc(1, sizeof(*c));

	if (c) {
		c->room = CLOSED_RING_LEAST;
		while (c->room < room)
			c->room <<= 1;
		c->ring = malloc(c->room * sizeof(*c->ring));
		c->block = malloc(CLOSED_BLOCK);
		c->wake_fd = eventfd(0, EFD_CLOEXEC);
	}
	if (!c || !c->ring || !c->block || c->wake_fd < 0) {
		report_error("--closed: cannot set up its writer: %s", strerror(errno));
		closed_log_free(c);
		return NULL;
	}
	c->file = file;
	c->format = format;
	c->filter = filter;
	c->health.file = log_file_health(file);
	return c;
}

void closed_log_free(struct closed_log *c)
{
	if (!c)
		return;
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	free(c->ring);
	free(c->block);
	free(c);
}

const struct closed_log_health *closed_log_health(const struct closed_log *c)
{
	return &c->health;
}

/* ---------------------------------------------------------------- the producer */

/* How a TCP connection ended, from the state it left for CLOSE and the kernel's error. */
static enum closed_reason tcp_reason(uint8_t end_state, uint8_t end_errno)
{
	if (end_errno == ETIMEDOUT)
		return CLOSED_TIMEOUT;
	if (end_errno)
		return CLOSED_RESET; /* ECONNRESET, ECONNREFUSED, EPIPE... */
	switch (end_state) {
	case TCPTOP_TCP_FIN_WAIT2:
	case TCPTOP_TCP_LAST_ACK:
	case TCPTOP_TCP_CLOSING:
	case TCPTOP_TCP_TIME_WAIT:
	case TCPTOP_TCP_SYN_SENT: /* a connect given up by close() */
		return CLOSED_CLOSE;
	default:
		return CLOSED_RESET; /* closed with data unread, SO_LINGER 0: this end reset */
	}
}

static bool needs_line(const struct flow_node *node, const struct flow_identity *id)
{
	if (node->books.end_how == FLOW_END_BEFORE_START)
		return false;
	return id->proto != TCPTOP_PROTO_TCP || node->books.end_how != FLOW_END_CLOSED ||
	       node->books.end_state != TCPTOP_TCP_LISTEN;
}

static enum closed_reason reason_of(const struct flow_node *node, const struct flow_identity *id)
{
	switch (node->books.end_how) {
	case FLOW_END_TIMEOUT:
		return CLOSED_TIMEOUT;
	case FLOW_END_EVICTED:
		return CLOSED_EVICTED;
	default:
		if (id->proto == TCPTOP_PROTO_TCP)
			return tcp_reason(node->books.end_state, node->books.end_errno);
		return CLOSED_TIMEOUT;
	}
}

void closed_log_push(struct closed_log *c, const struct flow_node *node, int64_t real_minus_mono)
{
	const struct flow_identity *id = &rcu_dereference(node->identity)->id;
	size_t head = atomic_load_explicit(&c->head, memory_order_relaxed), used;
	struct closed_flow *f;
	uint64_t ended = node->books.ended_ns;

	if (!needs_line(node, id))
		return;
	used = head - atomic_load_explicit(&c->tail, memory_order_acquire);
	if (used >= c->room) {
		atomic_fetch_add_explicit(&c->health.dropped, 1, memory_order_relaxed);
		return;
	}
	if (used == c->room / 2)
		closed_log_flush(c, false); /* a burst: the writer starts on it now */
	f = &c->ring[head & (c->room - 1)];
	f->id = *id;
	if (ended < node->first_seen_ns)
		ended = node->first_seen_ns;
	f->start_ns = (uint64_t)((int64_t)node->first_seen_ns + real_minus_mono);
	f->end_ns = (uint64_t)((int64_t)ended + real_minus_mono);
	f->tx_bytes = node->counts.tx_bytes;
	f->rx_bytes = node->counts.rx_bytes;
	f->tx_packets = node->counts.tx_packets;
	f->rx_packets = node->counts.rx_packets;
	f->srtt_us = node->counts.srtt_us;
	f->retrans = node->counts.retrans;
	f->state = node->counts.state;
	f->reason = (uint8_t)reason_of(node, id);
	atomic_store_explicit(&c->head, head + 1, memory_order_release);
}

void closed_log_flush(struct closed_log *c, bool last)
{
	uint64_t one = 1;

	if (last)
		atomic_store_explicit(&c->last, true, memory_order_release);
	if (write(c->wake_fd, &one, sizeof(one)) < 0 && last)
		report_error("--closed: cannot wake its writer: %s", strerror(errno));
}

/* ---------------------------------------------------------------- the writer */

static char *put_key(char *p, enum output_format fmt, size_t i)
{
	size_t n = strlen(column_names[i]);

	if (fmt == FORMAT_CSV) {
		if (i > 0)
			*p++ = ',';
		return p;
	}
	*p++ = i > 0 ? ',' : '{';
	*p++ = '"';
	memcpy(p, column_names[i], n);
	p += n;
	*p++ = '"';
	*p++ = ':';
	return p;
}

static char *put_time(char *p, enum output_format fmt, uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ULL),
			       .tv_nsec = (long)(ns % 1000000000ULL) };
	char text[32];

	format_time_iso8601(&ts, text, sizeof(text));
	return format_text(p, fmt, text, strlen(text));
}

/* The flow as a snapshot row: the columns they share read it, and so does the filter. */
static void closed_row(const struct closed_flow *f, struct flow_row *row)
{
	memset(row, 0, sizeof(*row));
	row->id = &f->id; /* f outlives row */
	row->state = f->state;
	row->closed = true;
	row->tx_bytes = f->tx_bytes;
	row->rx_bytes = f->rx_bytes;
	row->tx_packets = f->tx_packets;
	row->rx_packets = f->rx_packets;
	row->srtt_us = f->srtt_us;
	row->retrans = f->retrans;
}

/* One flow's line, newline included, at out (FORMAT_LINE_MAX of room); its length. */
static size_t closed_line(enum output_format fmt, const struct closed_flow *f,
			  const struct flow_row *row, char *out)
{
	const char *reason = reason_names[f->reason];
	struct column_value v;
	char *p = out;

	p = put_time(put_key(p, fmt, 0), fmt, f->end_ns);
	p = put_time(put_key(p, fmt, 1), fmt, f->start_ns);
	p = numtext_fixed(put_key(p, fmt, 2), (double)(f->end_ns - f->start_ns) / 1e9, 3);
	p = format_text(put_key(p, fmt, 3), fmt, reason, strlen(reason));
	for (size_t i = 0; i < NSHARED; i++) {
		column_value(row, shared_columns[i], &v);
		p = format_value(put_key(p, fmt, 4 + i), fmt, shared_columns[i], &v);
	}
	if (fmt == FORMAT_JSONL)
		*p++ = '}';
	*p++ = '\n';
	return (size_t)(p - out);
}

/* Everything pushed so far, as one batch of the file. */
static void write_pushed(struct closed_log *c)
{
	size_t tail = atomic_load_explicit(&c->tail, memory_order_relaxed);
	size_t head = atomic_load_explicit(&c->head, memory_order_acquire);
	size_t len = 0, n = head - tail;

	if (!n)
		return;
	log_file_begin(c->file);
	for (; tail != head; tail++) {
		const struct closed_flow *f = &c->ring[tail & (c->room - 1)];
		struct flow_row row;

		if (len + FORMAT_LINE_MAX > CLOSED_BLOCK) {
			log_file_append(c->file, c->block, len);
			len = 0;
		}
		closed_row(f, &row);
		if (filter_match(c->filter, &row))
			len += closed_line(c->format, f, &row, c->block + len);
		atomic_store_explicit(&c->tail, tail + 1, memory_order_release);
	}
	log_file_append(c->file, c->block, len);
	log_file_end(c->file, true);
	atomic_fetch_add_explicit(&c->health.written, n, memory_order_relaxed);
}

void *closed_log_thread(void *arg)
{
	struct closed_log *c = arg;
	struct pollfd wake = { .fd = c->wake_fd, .events = POLLIN };
	uint64_t count;
	bool last = false;

	/* An empty batch: a new or emptied CSV file gets its header at once. */
	log_file_begin(c->file);
	log_file_end(c->file, true);
	while (!last) {
		if (poll(&wake, 1, -1) < 0 && errno != EINTR)
			break;
		if (read(c->wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
			break;
		last = atomic_load_explicit(&c->last, memory_order_acquire);
		write_pushed(c);
	}
	return NULL;
}
