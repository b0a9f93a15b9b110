/* Reverse DNS for the live view: a few detached threads take addresses from a queue and
 * call getnameinfo(), which may block for seconds; the cache they fill is an open-
 * addressing table under one mutex, held only for lookups and stores, never for DNS. */
#include <arpa/inet.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "util/report.h"
#include "util/thread_start.h"
#include "ui/resolver.h"
#include "tcptop_shared.h"
#include "util/wakeup.h"

#define RESOLVER_THREADS 4
#define RESOLVER_SLOTS 4096 /* a power of two */
#define RESOLVER_QUEUE 256
#define RESOLVER_NAME_LEN 64

enum slot_state {
	SLOT_EMPTY,
	SLOT_QUEUED,
	SLOT_NAMED,
	SLOT_NAMELESS, /* the negative cache */
};

struct resolver_addr {
	uint8_t family;
	uint8_t bytes[16];
};

struct resolver_slot {
	enum slot_state state;
	struct resolver_addr addr;
	char name[RESOLVER_NAME_LEN];
};

struct resolver {
	pthread_mutex_t lock;
	pthread_cond_t work;
	bool stopping;
	int refs; /* the owner's and each thread's: the last one frees */
	int fd;
	size_t used;
	struct resolver_slot slots[RESOLVER_SLOTS];
	struct resolver_addr queue[RESOLVER_QUEUE];
	size_t queue_head, queue_len;
};

/* ---------------------------------------------------------------- cache (lock held) */

static size_t addr_hash(const struct resolver_addr *a)
{
	uint64_t h = 1469598103934665603ULL ^ a->family;

	for (size_t i = 0; i < sizeof(a->bytes); i++)
		h = (h ^ a->bytes[i]) * 1099511628211ULL;
	return (size_t)h & (RESOLVER_SLOTS - 1);
}

static struct resolver_slot *slot_find(struct resolver *r, const struct resolver_addr *a)
{
	for (size_t i = addr_hash(a);; i = (i + 1) & (RESOLVER_SLOTS - 1)) {
		struct resolver_slot *s = &r->slots[i];

		if (s->state == SLOT_EMPTY || memcmp(&s->addr, a, sizeof(*a)) == 0)
			return s;
	}
}

/* A full cache starts over: names are cheap to ask again, and a long run meets many peers.
 * Lookups in flight store their answer again when they finish. */
static struct resolver_slot *slot_insert(struct resolver *r, const struct resolver_addr *a,
					 enum slot_state state)
{
	struct resolver_slot *s = slot_find(r, a);

	if (s->state == SLOT_EMPTY && ++r->used > RESOLVER_SLOTS * 3 / 4) {
		memset(r->slots, 0, sizeof(r->slots));
		r->used = 1;
		s = slot_find(r, a);
	}
	s->addr = *a;
	s->state = state;
	return s;
}

/* NULL: the address has no name. Longer names are cut: the screen cuts them anyway. */
static void slot_store(struct resolver *r, const struct resolver_addr *a, const char *name)
{
	struct resolver_slot *s = slot_insert(r, a, name ? SLOT_NAMED : SLOT_NAMELESS);
	size_t len = name ? strnlen(name, sizeof(s->name) - 1) : 0;

	if (len)
		memcpy(s->name, name, len);
	s->name[len] = '\0';
}

static bool queue_push(struct resolver *r, const struct resolver_addr *a)
{
	if (r->queue_len == RESOLVER_QUEUE)
		return false;
	r->queue[(r->queue_head + r->queue_len++) % RESOLVER_QUEUE] = *a;
	pthread_cond_signal(&r->work);
	return true;
}

static struct resolver_addr queue_pop(struct resolver *r)
{
	struct resolver_addr a = r->queue[r->queue_head];

	r->queue_head = (r->queue_head + 1) % RESOLVER_QUEUE;
	r->queue_len--;
	return a;
}

/* ---------------------------------------------------------------- threads */

static bool name_of(const struct resolver_addr *a, char *name, size_t len)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	socklen_t sslen;

	memset(&ss, 0, sizeof(ss));
	if (a->family == TCPTOP_AF_INET) {
		v4->sin_family = AF_INET;
		memcpy(&v4->sin_addr, a->bytes, 4);
		sslen = sizeof(*v4);
	} else {
		v6->sin6_family = AF_INET6;
		memcpy(&v6->sin6_addr, a->bytes, 16);
		sslen = sizeof(*v6);
	}
	return getnameinfo((struct sockaddr *)&ss, sslen, name, len, NULL, 0, NI_NAMEREQD) == 0;
}

static void resolver_destroy(struct resolver *r)
{
	close(r->fd);
	pthread_cond_destroy(&r->work);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* Drops one reference; the caller holds the lock, which this releases. */
static void resolver_put_locked(struct resolver *r)
{
	bool last = --r->refs == 0;

	pthread_mutex_unlock(&r->lock);
	if (last)
		resolver_destroy(r);
}

static void *resolver_thread(void *arg)
{
	struct resolver *r = arg;
	char name[NI_MAXHOST];

	pthread_mutex_lock(&r->lock);
	while (!r->stopping) {
		struct resolver_addr a;
		bool found;

		if (r->queue_len == 0) {
			pthread_cond_wait(&r->work, &r->lock);
			continue;
		}
		a = queue_pop(r);
		pthread_mutex_unlock(&r->lock);
		found = name_of(&a, name, sizeof(name));
		pthread_mutex_lock(&r->lock);
		slot_store(r, &a, found ? name : NULL);
		if (found)
			wakeup_signal(r->fd);
	}
	resolver_put_locked(r);
	return NULL;
}

static int start_threads(struct resolver *r)
{
	pthread_attr_t attr;
	pthread_t tid;
	int err = pthread_attr_init(&attr);

	/* Detached: nobody waits for a lookup that may take seconds. */
	if (!err)
		err = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (int i = 0; !err && i < RESOLVER_THREADS; i++) {
		pthread_mutex_lock(&r->lock);
		r->refs++;
		pthread_mutex_unlock(&r->lock);
		err = thread_start(&tid, &attr, "tcptop-resolve", THREAD_NO_CAPS, resolver_thread,
				   r);
		if (err) {
			pthread_mutex_lock(&r->lock);
			r->refs--;
			pthread_mutex_unlock(&r->lock);
		}
	}
	pthread_attr_destroy(&attr);
	return err;
}

/* ---------------------------------------------------------------- the owner's side */

struct resolver *resolver_new(void)
{
	struct resolver *r = calloc(1, sizeof(*r));
	int err;

	if (!r || (r->fd = wakeup_new()) < 0) {
		report_error("cannot start name resolution: out of memory or file descriptors");
		free(r);
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->work, NULL);
	r->refs = 1;
	err = start_threads(r);
	if (err) {
		report_error("cannot start name resolution: %s", strerror(err));
		resolver_free(r); /* threads already started end with it */
		return NULL;
	}
	return r;
}

void resolver_free(struct resolver *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	pthread_cond_broadcast(&r->work);
	resolver_put_locked(r);
}

int resolver_fd(const struct resolver *r)
{
	return r->fd;
}

void resolver_drain(struct resolver *r)
{
	uint64_t count;

	while (read(r->fd, &count, sizeof(count)) > 0)
		;
}

bool resolver_lookup(struct resolver *r, uint8_t family, const uint8_t addr[16], char *out,
		     size_t len)
{
	struct resolver_addr a = { .family = family };
	struct resolver_slot *s;
	bool found;

	if (family != TCPTOP_AF_INET && family != TCPTOP_AF_INET6)
		return false;
	memcpy(a.bytes, addr, family == TCPTOP_AF_INET ? 4 : 16);
	pthread_mutex_lock(&r->lock);
	s = slot_find(r, &a);
	found = s->state == SLOT_NAMED;
	if (found)
		snprintf(out, len, "%s", s->name);
	else if (s->state == SLOT_EMPTY && queue_push(r, &a))
		slot_insert(r, &a, SLOT_QUEUED);
	pthread_mutex_unlock(&r->lock);
	return found;
}
