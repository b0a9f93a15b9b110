/* Every thread of tcptop starts here: named (top -H, /proc/PID/task/TID/comm) and with
 * only the capabilities its job needs, before it runs any of its own code. */
#ifndef TCPTOP_THREAD_START_H
#define TCPTOP_THREAD_START_H

#include <pthread.h>

enum thread_privilege {
	THREAD_KEEPS_CAPS, /* the starting thread's capabilities (the collector: main's) */
	THREAD_NO_CAPS,    /* none at all: it talks to the terminal, files, DNS or just computes */
};

/* pthread_create(), the thread named name (at most 15 bytes) and holding what privilege
 * says before fn runs. Returns once the new thread holds that; 0 or an error number (the
 * thread then never runs fn). */
int thread_start(pthread_t *tid, const pthread_attr_t *attr, const char *name,
		 enum thread_privilege privilege, void *(*fn)(void *), void *arg);

#endif
