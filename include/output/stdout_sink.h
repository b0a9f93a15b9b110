/* Standard output for batch mode, written so that it can never hold up shutdown: a
 * reader that stopped reading costs stdout its snapshots, never the stop. */
#ifndef TCPTOP_STDOUT_SINK_H
#define TCPTOP_STDOUT_SINK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

enum sink_result {
	SINK_WRITTEN,
	SINK_STOPPED, /* stop_fd became readable first: the rest was dropped */
	SINK_FAILED,  /* a write error; errno says which (EPIPE: the reader left) */
};

struct stdout_sink {
	int fd;
	int stop_fd;         /* polled, never read */
	size_t piece;        /* what one write() may take: a pipe's PIPE_BUF, or all of it */
	uint64_t give_up_ns; /* CLOCK_MONOTONIC: stopping, a stalled reader loses the rest then */
};

/* Call once, before the writer starts: the interruption signal gets its handler, and
 * the sink learns what fd is. <0 with errno on failure. */
int stdout_sink_init(struct stdout_sink *sink, int fd, int stop_fd);
/* Writes all of text. To a pipe, terminal or socket in pieces it takes without blocking,
 * each once poll() says there is room. Once stop_fd is readable, a reader that takes
 * nothing for 300 ms loses the rest (SINK_STOPPED). */
enum sink_result stdout_sink_write(struct stdout_sink *sink, const char *text, size_t len);
/* From another thread, while stopping: breaks writer out of a write() that blocked anyway
 * (a terminal or socket with less room than one piece). Repeat until it is joined. */
void stdout_sink_interrupt(pthread_t writer);

#endif
