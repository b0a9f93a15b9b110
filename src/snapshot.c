/* Snapshot publication. The feed holds one RCU-protected pointer and a reference of its
 * own on the snapshot it points to; readers take a reference inside a short read-side
 * section. The feed's reference is dropped a grace period after the next publication,
 * so a reader between rcu_dereference() and taking its reference is always safe.
 * The count uses C11 atomics rather than urcu_ref: liburcu's uatomic is inline assembly
 * that ThreadSanitizer cannot see, and the last put must visibly follow every read. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "snapshot.h"
#include "util/wakeup.h"

/* liburcu's call_rcu queue is inline assembly that ThreadSanitizer cannot see, so it would
 * take the callback's first touch of a snapshot for a race with the compute thread's
 * malloc. These tell it that the callback runs after the enqueue; elsewhere they are no-ops. */
#ifdef __SANITIZE_THREAD__
#include <sanitizer/tsan_interface.h>
#define rcu_handoff_release(p) __tsan_release(p)
#define rcu_handoff_acquire(p) __tsan_acquire(p)
#else
#define rcu_handoff_release(p) ((void)(p))
#define rcu_handoff_acquire(p) ((void)(p))
#endif

/* The header, room for capacity rows, and as many places of changed rows after them. */
static size_t snapshot_size(size_t capacity)
{
	return sizeof(struct snapshot) +
	       capacity * (sizeof(((struct snapshot *)0)->rows[0]) + sizeof(uint32_t));
}

static void set_capacity(struct snapshot *s, size_t capacity)
{
	s->capacity = capacity;
	s->changed = (uint32_t *)(s->rows + capacity);
}

/* A snapshot of 1M changed rows is 200 MB: in huge pages it takes 512 times fewer page
 * faults and TLB misses (bench/README). Hosts with transparent huge pages on "madvise"
 * give them on request only; the kernel backs only the huge-page-aligned parts of the
 * range, so a block under two 2 MiB pages is left alone. */
#define HUGE_PAGES_WORTH_ASKING (4UL << 20)

static void *with_huge_pages(void *block, size_t size)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = ((uintptr_t)block + page - 1) & ~(page - 1);
	uintptr_t end = ((uintptr_t)block + size) & ~(page - 1);

	if (block && size >= HUGE_PAGES_WORTH_ASKING && end > start)
		madvise((void *)start, end - start, MADV_HUGEPAGE);
	return block;
}

/* The memory's references on its rows' identities dropped, then the memory. */
static void snapshot_free_memory(struct snapshot *s)
{
	for (size_t i = 0; s && i < s->held; i++)
		flow_identity_put(s->rows[i].id);
	free(s);
}

struct snapshot *snapshot_alloc(size_t nrows)
{
	struct snapshot *s = with_huge_pages(calloc(1, snapshot_size(nrows)), snapshot_size(nrows));

	if (s) {
		s->refs = 1;
		set_capacity(s, nrows);
		s->held = nrows;
	}
	return s;
}

void snapshot_hold_slots(struct snapshot *s, size_t n)
{
	for (; s->held < n; s->held++)
		s->rows[s->held].id = NULL;
}

void snapshot_trim_slots(struct snapshot *s)
{
	for (; s->held > s->nrows; s->held--)
		flow_identity_put(s->rows[s->held - 1].id);
}

struct snapshot *snapshot_alloc_raw(struct snapshot_feed *home, size_t nrows,
				    uint64_t *rows_generation)
{
	struct snapshot *s = NULL;
	size_t capacity, held;

	for (int i = 0; home && !s && i < SNAPSHOT_SPARES; i++)
		s = __atomic_exchange_n(&home->spare[i], NULL, __ATOMIC_ACQ_REL);
	capacity = s ? s->capacity : nrows;

	*rows_generation = s ? s->generation : 0;
	if (s && capacity < nrows) {
		snapshot_free_memory(s);
		s = NULL;
		capacity = nrows;
		*rows_generation = 0;
	}
	held = s ? s->held : 0; /* fresh memory holds nothing */
	if (!s)
		s = with_huge_pages(malloc(snapshot_size(capacity)), snapshot_size(capacity));
	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->refs = 1;
	set_capacity(s, capacity);
	s->held = held;
	s->home = home;
	return s;
}

struct snapshot *snapshot_grow(struct snapshot *s, size_t nrows)
{
	struct snapshot *grown = with_huge_pages(realloc(s, snapshot_size(nrows)),
						  snapshot_size(nrows));

	if (grown)
		set_capacity(grown, nrows); /* the places of changed rows are written last */
	return grown;
}

/* The last reference is gone: the memory becomes the feed's newest spare, each older one
 * moves down a place, and the oldest goes back to malloc. Each exchange hands one
 * pointer from one owner to the next, so any thread may release while the builder takes. */
static void snapshot_free(struct snapshot *s)
{
	for (int i = 0; s && s->home && i < SNAPSHOT_SPARES; i++)
		s = __atomic_exchange_n(&s->home->spare[i], s, __ATOMIC_ACQ_REL);
	snapshot_free_memory(s);
}

struct snapshot *snapshot_hold(struct snapshot *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

void snapshot_release(struct snapshot *s)
{
	if (s && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
		snapshot_free(s);
}

/* Acquire from the first load on: it pairs with the publication's release, so what the
 * builder wrote before (the snapshot's allocation included) visibly precedes the read. */
static bool get_unless_zero(struct snapshot *s)
{
	long refs = __atomic_load_n(&s->refs, __ATOMIC_ACQUIRE);

	do {
		if (refs == 0)
			return false;
	} while (!__atomic_compare_exchange_n(&s->refs, &refs, refs + 1, true, __ATOMIC_ACQUIRE,
					      __ATOMIC_RELAXED));
	return true;
}

static void snapshot_release_rcu(struct rcu_head *head)
{
	rcu_handoff_acquire(head);
	snapshot_release(caa_container_of(head, struct snapshot, rcu));
}

void snapshot_feed_init(struct snapshot_feed *feed)
{
	feed->current = NULL;
	memset(feed->spare, 0, sizeof(feed->spare));
	feed->nsubscribers = 0;
}

void snapshot_feed_destroy(struct snapshot_feed *feed)
{
	int i;

	snapshot_release(feed->current);
	feed->current = NULL;
	for (i = 0; i < SNAPSHOT_SPARES; i++) {
		snapshot_free_memory(feed->spare[i]);
		feed->spare[i] = NULL;
	}
	for (i = 0; i < feed->nsubscribers; i++)
		close(feed->subscriber_fds[i]);
	feed->nsubscribers = 0;
}

int snapshot_feed_subscribe(struct snapshot_feed *feed)
{
	int fd;

	if (feed->nsubscribers == SNAPSHOT_MAX_SUBSCRIBERS)
		return -1;
	fd = wakeup_new();
	if (fd >= 0)
		feed->subscriber_fds[feed->nsubscribers++] = fd;
	return fd;
}

void snapshot_publish(struct snapshot_feed *feed, struct snapshot *s)
{
	struct snapshot *old;
	int i;

	/* The caller's reference becomes the feed's, through a release operation on the
	 * count: a reader's acquiring get then sees every row written before, in a way
	 * ThreadSanitizer can check (rcu_xchg_pointer is asm). */
	__atomic_fetch_add(&s->refs, 0, __ATOMIC_RELEASE);
	old = rcu_xchg_pointer(&feed->current, s);

	if (old) {
		rcu_handoff_release(&old->rcu);
		urcu_memb_call_rcu(&old->rcu, snapshot_release_rcu);
	}
	/* Non-blocking: a wake-up already pending means the reader will look anyway. */
	for (i = 0; i < feed->nsubscribers; i++)
		wakeup_signal(feed->subscriber_fds[i]);
}

struct snapshot *snapshot_acquire(struct snapshot_feed *feed)
{
	struct snapshot *s;

	urcu_memb_read_lock();
	s = rcu_dereference(feed->current);
	if (s && !get_unless_zero(s))
		s = NULL;
	urcu_memb_read_unlock();
	return s;
}
