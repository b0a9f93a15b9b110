/* Eventfd wake-ups between threads. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "util/wakeup.h"

int wakeup_new(void)
{
	return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

int wakeup_signal(int fd)
{
	uint64_t one = 1;

	return write(fd, &one, sizeof(one)) == sizeof(one) ? 0 : -1;
}

enum wakeup_result wakeup_wait(int stop_fd, int fd, int hangup_fd)
{
	/* events 0 on the output: poll still reports POLLERR/POLLHUP, and nothing else. */
	struct pollfd fds[3] = {
		{ .fd = stop_fd, .events = POLLIN },
		{ .fd = fd, .events = POLLIN },
		{ .fd = hangup_fd, .events = 0 },
	};
	uint64_t count;

	for (;;) {
		if (poll(fds, hangup_fd >= 0 ? 3 : 2, -1) < 0 && errno != EINTR)
			return WAKEUP_STOPPED;
		if (fds[0].revents)
			return WAKEUP_STOPPED;
		if (hangup_fd >= 0 && fds[2].revents)
			return WAKEUP_HANGUP;
		/* EAGAIN: another wake-up consumed it first; wait again. */
		if (fds[1].revents && read(fd, &count, sizeof(count)) > 0)
			return WAKEUP_SIGNALLED;
	}
}
