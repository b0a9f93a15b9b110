/* Wake-ups between threads: eventfds, the only signals the threads exchange. */
#ifndef TCPTOP_WAKEUP_H
#define TCPTOP_WAKEUP_H

#include <stdbool.h>

/* A non-blocking, close-on-exec eventfd; -1 on error. */
int wakeup_new(void);
/* Wake whoever waits on fd; <0 on error. */
int wakeup_signal(int fd);
enum wakeup_result {
	WAKEUP_SIGNALLED, /* fd was signalled (and consumed) */
	WAKEUP_STOPPED,   /* stop_fd was signalled, or poll failed */
	WAKEUP_HANGUP,    /* the reader of hangup_fd went away */
};

/* Block until fd is signalled, stop_fd is, or hangup_fd (an output pipe, or -1) reports an
 * error or hang-up. stop_fd is only polled, never read, so every thread waiting on it sees
 * it. Watching an output pipe lets "tcptop -b | head -1" end as soon as head does, not at
 * the next write. */
enum wakeup_result wakeup_wait(int stop_fd, int fd, int hangup_fd);

#endif
