/* Named threads with the capabilities their job needs (util/thread_start.h). A thread
 * can change only its own capabilities, so the new thread drops them itself, first thing,
 * and the starter waits until it has. */
#include <errno.h>
#include <semaphore.h>
#include <stdbool.h>
#include "util/caps.h"
#include "util/thread_start.h"

struct thread_start {
	const char *name;
	enum thread_privilege privilege;
	void *(*fn)(void *);
	void *arg;
	sem_t ready;
	int err;
};

static void *thread_main(void *p)
{
	struct thread_start *ts = p;
	void *(*fn)(void *) = ts->fn;
	void *arg = ts->arg;
	int err = 0;

	pthread_setname_np(pthread_self(), ts->name);
	if (ts->privilege == THREAD_NO_CAPS && caps_drop_all() < 0)
		err = errno ? errno : EPERM;
	ts->err = err;
	sem_post(&ts->ready); /* ts is the starter's again from here */
	return err ? NULL : fn(arg);
}

static bool detached(const pthread_attr_t *attr)
{
	int state = PTHREAD_CREATE_JOINABLE;

	return attr && pthread_attr_getdetachstate(attr, &state) == 0 &&
	       state == PTHREAD_CREATE_DETACHED;
}

int thread_start(pthread_t *tid, const pthread_attr_t *attr, const char *name,
		 enum thread_privilege privilege, void *(*fn)(void *), void *arg)
{
	struct thread_start ts = { name, privilege, fn, arg, .err = 0 };
	int err;

	if (sem_init(&ts.ready, 0, 0) < 0)
		return errno;
	err = pthread_create(tid, attr, thread_main, &ts);
	if (!err) {
		while (sem_wait(&ts.ready) < 0 && errno == EINTR)
			;
		err = ts.err;
		if (err && !detached(attr))
			pthread_join(*tid, NULL);
	}
	sem_destroy(&ts.ready);
	return err;
}
