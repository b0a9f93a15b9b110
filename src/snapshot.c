/* Snapshot publication. The feed holds one RCU-protected pointer and a reference of its
 * own on the snapshot it points to; readers take a reference inside a short read-side
 * section. The feed's reference is dropped a grace period after the next publication,
 * so a reader between rcu_dereference() and urcu_ref_get_unless_zero() is always safe. */
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "snapshot.h"

struct snapshot *snapshot_alloc(size_t nrows)
{
	struct snapshot *s = calloc(1, sizeof(*s) + nrows * sizeof(s->rows[0]));

	if (s)
		urcu_ref_init(&s->ref);
	return s;
}

static void snapshot_free_ref(struct urcu_ref *ref)
{
	free(caa_container_of(ref, struct snapshot, ref));
}

void snapshot_release(struct snapshot *s)
{
	if (s)
		urcu_ref_put(&s->ref, snapshot_free_ref);
}

static void snapshot_release_rcu(struct rcu_head *head)
{
	snapshot_release(caa_container_of(head, struct snapshot, rcu));
}

void snapshot_feed_init(struct snapshot_feed *feed)
{
	feed->current = NULL;
	feed->nsubscribers = 0;
}

void snapshot_feed_destroy(struct snapshot_feed *feed)
{
	int i;

	snapshot_release(feed->current);
	feed->current = NULL;
	for (i = 0; i < feed->nsubscribers; i++)
		close(feed->subscriber_fds[i]);
	feed->nsubscribers = 0;
}

int snapshot_feed_subscribe(struct snapshot_feed *feed)
{
	int fd;

	if (feed->nsubscribers == SNAPSHOT_MAX_SUBSCRIBERS)
		return -1;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd >= 0)
		feed->subscriber_fds[feed->nsubscribers++] = fd;
	return fd;
}

void snapshot_publish(struct snapshot_feed *feed, struct snapshot *s)
{
	struct snapshot *old = rcu_xchg_pointer(&feed->current, s);
	uint64_t one = 1;
	int i;

	if (old)
		urcu_memb_call_rcu(&old->rcu, snapshot_release_rcu);
	for (i = 0; i < feed->nsubscribers; i++) {
		/* Non-blocking: a counter already pending means the reader will look anyway. */
		if (write(feed->subscriber_fds[i], &one, sizeof(one)) < 0)
			continue;
	}
}

struct snapshot *snapshot_acquire(struct snapshot_feed *feed)
{
	struct snapshot *s;

	urcu_memb_read_lock();
	s = rcu_dereference(feed->current);
	if (s && !urcu_ref_get_unless_zero(&s->ref))
		s = NULL;
	urcu_memb_read_unlock();
	return s;
}
