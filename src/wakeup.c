/* Eventfd wake-ups between threads. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "wakeup.h"

int wakeup_new(void)
{
	return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

int wakeup_signal(int fd)
{
	uint64_t one = 1;

	return write(fd, &one, sizeof(one)) == sizeof(one) ? 0 : -1;
}

bool wakeup_wait(int stop_fd, int fd)
{
	struct pollfd fds[2] = {
		{ .fd = stop_fd, .events = POLLIN },
		{ .fd = fd, .events = POLLIN },
	};
	uint64_t count;

	for (;;) {
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			return false;
		if (fds[0].revents)
			return false;
		/* EAGAIN: another wake-up consumed it first; wait again. */
		if (fds[1].revents && read(fd, &count, sizeof(count)) > 0)
			return true;
	}
}
