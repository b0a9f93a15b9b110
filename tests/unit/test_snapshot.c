/* Snapshot publication under concurrent readers. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <unistd.h>
#include "snapshot.h"

static struct snapshot_feed feed;

static void setup(void)
{
	urcu_memb_register_thread();
	snapshot_feed_init(&feed);
}

static void teardown(void)
{
	urcu_memb_barrier();
	snapshot_feed_destroy(&feed);
	urcu_memb_unregister_thread();
}

TestSuite(snapshot, .init = setup, .fini = teardown);

static struct snapshot *make(uint64_t generation, size_t nrows)
{
	struct snapshot *s = snapshot_alloc(nrows);
	size_t i;

	cr_assert_not_null(s);
	s->generation = generation;
	s->nrows = nrows;
	for (i = 0; i < nrows; i++)
		s->rows[i].tx_bytes = generation; /* every row tells which snapshot it is in */
	return s;
}

Test(snapshot, acquire_before_first_publication_returns_null)
{
	cr_assert_null(snapshot_acquire(&feed));
}

Test(snapshot, acquire_returns_latest_publication)
{
	struct snapshot *s;

	snapshot_publish(&feed, make(1, 3));
	snapshot_publish(&feed, make(2, 3));
	s = snapshot_acquire(&feed);
	cr_assert_eq(s->generation, 2);
	snapshot_release(s);
}

Test(snapshot, reader_keeps_its_snapshot_after_a_newer_one_is_published)
{
	struct snapshot *held;

	snapshot_publish(&feed, make(1, 100));
	held = snapshot_acquire(&feed);
	snapshot_publish(&feed, make(2, 100));
	urcu_memb_barrier(); /* the feed's own reference on 1 is gone now */
	cr_assert_eq(held->rows[99].tx_bytes, 1, "still readable: the reader's reference");
	snapshot_release(held);
}

Test(snapshot, subscribers_are_notified_on_publication)
{
	int fd = snapshot_feed_subscribe(&feed);
	uint64_t count = 0;

	cr_assert_geq(fd, 0);
	snapshot_publish(&feed, make(1, 1));
	snapshot_publish(&feed, make(2, 1));
	cr_assert_eq(read(fd, &count, sizeof(count)), sizeof(count));
	cr_assert_eq(count, 2);
}

#define READERS 3
#define PUBLICATIONS 3000

static int publishing_done;

static void *reader(void *arg)
{
	uint64_t *seen = arg, last = 0;
	struct snapshot *s;
	size_t i;

	urcu_memb_register_thread();
	while (!__atomic_load_n(&publishing_done, __ATOMIC_ACQUIRE)) {
		s = snapshot_acquire(&feed);
		if (!s)
			continue;
		for (i = 0; i < s->nrows; i++)
			if (s->rows[i].tx_bytes != s->generation)
				*seen = UINT64_MAX; /* a torn or recycled snapshot */
		if (*seen != UINT64_MAX && s->generation < last)
			*seen = UINT64_MAX;     /* went back in time */
		last = s->generation;
		if (*seen != UINT64_MAX)
			(*seen)++;
		snapshot_release(s);
	}
	urcu_memb_unregister_thread();
	return NULL;
}

Test(snapshot, concurrent_readers_see_whole_snapshots_in_order)
{
	pthread_t threads[READERS];
	uint64_t seen[READERS] = { 0 };
	int i;

	for (i = 0; i < READERS; i++)
		pthread_create(&threads[i], NULL, reader, &seen[i]);
	for (i = 1; i <= PUBLICATIONS; i++)
		snapshot_publish(&feed, make((uint64_t)i, 64));
	__atomic_store_n(&publishing_done, 1, __ATOMIC_RELEASE);
	for (i = 0; i < READERS; i++) {
		pthread_join(threads[i], NULL);
		cr_assert_neq(seen[i], UINT64_MAX, "reader %d saw a torn or stale snapshot", i);
	}
}
