/* poll() before each write() keeps a full pipe from blocking the writer; the signal
 * covers what poll() cannot promise (room for a whole piece on a terminal or socket). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "output/stdout_sink.h"
#include "util/clock.h"

/* How long, once stopping, a stalled reader may keep the writer: the stop takes less than
 * a second in all. */
#define STOP_GRACE_NS (300 * 1000 * 1000ULL)

/* No SA_RESTART: the blocked write() returns (EINTR, or what it wrote) to the loop below,
 * which then sees stop_fd. */
static void interrupted(int signo)
{
	(void)signo;
}

int stdout_sink_init(struct stdout_sink *sink, int fd, int stop_fd)
{
	struct sigaction sa;
	struct stat st;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = interrupted;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGRTMIN, &sa, NULL) < 0 || fstat(fd, &st) < 0)
		return -1;
	sink->fd = fd;
	sink->stop_fd = stop_fd;
	sink->give_up_ns = 0;
	/* Files and the like never wait for a reader: one write, no poll. */
	sink->piece = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(fd) ? PIPE_BUF
										 : SIZE_MAX;
	return 0;
}

void stdout_sink_interrupt(pthread_t writer)
{
	pthread_kill(writer, SIGRTMIN);
}

/* Before the stop: until fd has room. After it, the snapshot being written still goes
 * out whole to a reader that reads, but a reader stalled for STOP_GRACE_NS loses the rest. */
static enum sink_result wait_for_room(struct stdout_sink *sink)
{
	struct pollfd fds[2] = {
		{ .fd = sink->fd, .events = POLLOUT },
		{ .fd = sink->stop_fd, .events = POLLIN },
	};
	uint64_t now;
	int timeout_ms = -1, n;

	for (;;) {
		if (sink->give_up_ns) {
			now = clock_now_ns(CLOCK_MONOTONIC);
			if (now >= sink->give_up_ns)
				return SINK_STOPPED;
			timeout_ms = (int)((sink->give_up_ns - now + 999999) / 1000000);
		}
		n = poll(fds, sink->give_up_ns ? 1 : 2, timeout_ms);
		if (n < 0 && errno != EINTR)
			return SINK_FAILED;
		if (n > 0 && fds[0].revents)
			return SINK_WRITTEN; /* POLLERR/POLLHUP too: write() then says which */
		if (n > 0 && fds[1].revents && !sink->give_up_ns)
			sink->give_up_ns = clock_now_ns(CLOCK_MONOTONIC) + STOP_GRACE_NS;
	}
}

/* PIPE_BUF: a pipe with room for any takes this much, whole, at once. Pieces end at a
 * line's end (lines are shorter), so a stop between two leaves no line cut in half. */
static size_t piece_length(const struct stdout_sink *sink, const char *text, size_t len)
{
	const char *end;

	if (len <= sink->piece)
		return len;
	end = memrchr(text, '\n', sink->piece);
	return end ? (size_t)(end - text) + 1 : sink->piece;
}

enum sink_result stdout_sink_write(struct stdout_sink *sink, const char *text, size_t len)
{
	enum sink_result room;
	ssize_t n;

	while (len > 0) {
		room = sink->piece == SIZE_MAX ? SINK_WRITTEN : wait_for_room(sink);
		if (room != SINK_WRITTEN)
			return room;
		n = write(sink->fd, text, piece_length(sink, text, len));
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return SINK_FAILED;
		if (n > 0) {
			text += n;
			len -= (size_t)n;
		}
	}
	return SINK_WRITTEN;
}
