/* The reverse DNS cache: names arrive later through the eventfd, never on the caller.
 *
 * The resolver's threads call getnameinfo(). This file defines its own, which the linker
 * takes over libc's for the resolver linked into this program: no lookup leaves the test
 * (nor the machine), names come from the table below, and a gate can hold lookups in
 * progress for as long as a test needs. Every test checks that the fake was called, so a
 * build that bypassed it would fail rather than ask a real DNS server. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ui/resolver.h"
#include "tcptop_shared.h"
#include "time_limit.h"

TestSuite(resolver, .timeout = UNIT_TIME_LIMIT_S);

/* The resolver runs four lookup threads (RESOLVER_THREADS in resolver.c). */
#define LOOKUP_THREADS 4
/* How long a test waits for something the resolver's threads do at once. */
#define WAIT_MS 10000

static const uint8_t named_v4[16] = { 192, 0, 2, 1 };
static const uint8_t nameless_v4[16] = { 192, 0, 2, 99 };
static const uint8_t named_v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 };

static struct {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool gate_closed; /* lookups wait in getnameinfo() while it is */
	int started, finished;
} fake = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0, 0 };

static const char *fake_name_of(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET &&
	    memcmp(&((const struct sockaddr_in *)sa)->sin_addr, named_v4, 4) == 0)
		return "one.example";
	if (sa->sa_family == AF_INET6 &&
	    memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr, named_v6, 16) == 0)
		return "six.example";
	return NULL;
}

int getnameinfo(const struct sockaddr *restrict sa, socklen_t salen, char *restrict host,
		socklen_t hostlen, char *restrict serv, socklen_t servlen, int flags)
{
	const char *name = fake_name_of(sa);

	(void)salen, (void)serv, (void)servlen, (void)flags;
	pthread_mutex_lock(&fake.lock);
	fake.started++;
	pthread_cond_broadcast(&fake.changed);
	while (fake.gate_closed)
		pthread_cond_wait(&fake.changed, &fake.lock);
	fake.finished++;
	pthread_cond_broadcast(&fake.changed);
	pthread_mutex_unlock(&fake.lock);
	if (!name)
		return EAI_NONAME;
	snprintf(host, hostlen, "%s", name);
	return 0;
}

static void fake_set_gate(bool closed)
{
	pthread_mutex_lock(&fake.lock);
	fake.gate_closed = closed;
	pthread_cond_broadcast(&fake.changed);
	pthread_mutex_unlock(&fake.lock);
}

static struct timespec deadline_in(int ms)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Waits until at least started lookups have begun and finished have returned; false if
 * that takes longer than timeout_ms. */
static bool fake_wait(int started, int finished, int timeout_ms)
{
	struct timespec deadline = deadline_in(timeout_ms);
	bool reached;

	pthread_mutex_lock(&fake.lock);
	while (!(reached = fake.started >= started && fake.finished >= finished))
		if (pthread_cond_timedwait(&fake.changed, &fake.lock, &deadline) != 0)
			break;
	reached = fake.started >= started && fake.finished >= finished;
	pthread_mutex_unlock(&fake.lock);
	return reached;
}

static int fake_calls(void)
{
	int n;

	pthread_mutex_lock(&fake.lock);
	n = fake.started;
	pthread_mutex_unlock(&fake.lock);
	return n;
}

/* Waits for the resolver's eventfd; false after timeout_ms. */
static bool wait_names(struct resolver *r, int timeout_ms)
{
	struct pollfd p = { .fd = resolver_fd(r), .events = POLLIN };

	if (poll(&p, 1, timeout_ms) != 1)
		return false;
	resolver_drain(r);
	return true;
}

static int thread_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

Test(resolver, first_lookup_queues_and_name_arrives_later)
{
	struct resolver *r = resolver_new();
	char name[64] = "";

	cr_assert_not_null(r);
	cr_assert(!resolver_lookup(r, TCPTOP_AF_INET, named_v4, name, sizeof(name)),
		  "a name is never there on the first ask");
	cr_assert(wait_names(r, WAIT_MS), "no name for 192.0.2.1 within %d ms", WAIT_MS);
	cr_assert(resolver_lookup(r, TCPTOP_AF_INET, named_v4, name, sizeof(name)));
	cr_assert_str_eq(name, "one.example");
	cr_assert(!resolver_lookup(r, TCPTOP_AF_INET6, named_v6, name, sizeof(name)));
	cr_assert(wait_names(r, WAIT_MS), "no name for 2001:db8::7 within %d ms", WAIT_MS);
	cr_assert(resolver_lookup(r, TCPTOP_AF_INET6, named_v6, name, sizeof(name)));
	cr_assert_str_eq(name, "six.example");
	cr_assert_eq(fake_calls(), 2, "each address is looked up once: %d lookups", fake_calls());
	resolver_free(r);
}

Test(resolver, address_without_name_is_asked_once)
{
	struct resolver *r = resolver_new();
	char name[64] = "";

	cr_assert(!resolver_lookup(r, TCPTOP_AF_INET, nameless_v4, name, sizeof(name)));
	cr_assert(fake_wait(1, 1, WAIT_MS), "the lookup did not happen within %d ms", WAIT_MS);
	/* Asked again and again for 200 ms, from before its answer is stored (just after
	 * getnameinfo() returns) to well after: never looked up a second time. */
	for (int i = 0; i < 200; i++) {
		cr_assert(!resolver_lookup(r, TCPTOP_AF_INET, nameless_v4, name, sizeof(name)));
		poll(NULL, 0, 1);
	}
	cr_assert(!wait_names(r, 0), "a failed lookup signalled a name");
	cr_assert_eq(fake_calls(), 1, "192.0.2.99 was looked up %d times", fake_calls());
	resolver_free(r);
}

Test(resolver, unknown_family_is_never_queued)
{
	struct resolver *r = resolver_new();
	char name[64];

	cr_assert(!resolver_lookup(r, 0, named_v4, name, sizeof(name)));
	cr_assert(!wait_names(r, 200));
	cr_assert_eq(fake_calls(), 0);
	resolver_free(r);
}

static void *free_resolver(void *arg)
{
	resolver_free(arg);
	return NULL;
}

/* A slow DNS server must not hold up quitting (resolver.h): with every thread stuck in a
 * lookup, resolver_free() still returns at once; the threads end, and free the rest, when
 * their lookups do. */
Test(resolver, free_returns_while_lookups_are_pending)
{
	int threads_before = thread_count();
	struct resolver *r;
	pthread_t freer;
	char name[64];
	uint8_t addr[16] = { 192, 0, 2, 0 };
	struct timespec deadline;

	fake_set_gate(true);
	r = resolver_new();
	cr_assert_not_null(r);
	for (int i = 1; i <= LOOKUP_THREADS; i++) {
		addr[3] = (uint8_t)(100 + i);
		cr_assert(!resolver_lookup(r, TCPTOP_AF_INET, addr, name, sizeof(name)));
	}
	cr_assert(fake_wait(LOOKUP_THREADS, 0, WAIT_MS), "%d of %d lookups started", fake_calls(),
		  LOOKUP_THREADS);
	cr_assert_eq(pthread_create(&freer, NULL, free_resolver, r), 0);
	deadline = deadline_in(5000);
	cr_assert_eq(pthread_timedjoin_np(freer, NULL, &deadline), 0,
		     "resolver_free() waited for the lookups in progress");
	fake_set_gate(false);
	cr_assert(fake_wait(LOOKUP_THREADS, LOOKUP_THREADS, WAIT_MS));
	for (int waited = 0; thread_count() > threads_before; waited += 10) {
		cr_assert_lt(waited, WAIT_MS, "%d resolver threads still running",
			     thread_count() - threads_before);
		poll(NULL, 0, 10);
	}
}
