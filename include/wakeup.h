/* Wake-ups between threads: eventfds, the only signals the threads exchange. */
#ifndef TCPTOP_WAKEUP_H
#define TCPTOP_WAKEUP_H

#include <stdbool.h>

/* A non-blocking, close-on-exec eventfd; -1 on error. */
int wakeup_new(void);
/* Wake whoever waits on fd; <0 on error. */
int wakeup_signal(int fd);
/* Block until fd is signalled (consuming it: true) or stop_fd is (false). stop_fd is only
 * polled, never read, so that every thread waiting on it sees it. */
bool wakeup_wait(int stop_fd, int fd);

#endif
