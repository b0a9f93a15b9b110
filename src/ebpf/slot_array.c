/* Draining the modern set's slot array: scan the dirty words (8 bytes per slot), copy
 * only the changed slots; and letting UDP slots go when their flows expire. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "ebpf/slot_array.h"
#include "tcp_health.h"

/* The kernel lays an mmapable array's values out back to back, each rounded up to 8. */
_Static_assert(sizeof(struct flow_record) % 8 == 0, "slot stride is the record's size");

static size_t slot_array_mapping_bytes(size_t bytes)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (bytes + page - 1) / page * page;
}

static void *slot_array_map_array(int fd, size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

int slot_array_map(struct slot_array *s, const struct slot_array_maps *maps,
		   uint32_t capacity, const __u64 *used)
{
	memset(s, 0, sizeof(*s));
	s->records_bytes = slot_array_mapping_bytes((size_t)capacity * sizeof(*s->records));
	s->dirty_bytes = slot_array_mapping_bytes((size_t)capacity * sizeof(*s->dirty));
	s->records = slot_array_map_array(maps->records_fd, s->records_bytes);
	s->dirty = slot_array_map_array(maps->dirty_fd, s->dirty_bytes);
	s->quarantine = calloc(capacity, sizeof(*s->quarantine));
	if (!s->records || !s->dirty || !s->quarantine) {
		int err = errno ? -errno : -ENOMEM;

		slot_array_unmap(s);
		return err;
	}
	s->capacity = capacity;
	s->used = used;
	s->maps = *maps;
	return 0;
}

void slot_array_unmap(struct slot_array *s)
{
	if (s->records)
		munmap(s->records, s->records_bytes);
	if (s->dirty)
		munmap(s->dirty, s->dirty_bytes);
	free(s->quarantine);
	memset(s, 0, sizeof(*s));
}

/* A slot no BPF map points to any more: marked free now, returned at the next drain. */
static void slot_array_let_go(struct slot_array *s, uint32_t slot)
{
	__atomic_store_n(&s->records[slot].key.cookie, 0, __ATOMIC_RELEASE);
	if (s->quarantined < s->capacity)
		s->quarantine[s->quarantined++] = slot;
}

static void slot_array_release_quarantine(struct slot_array *s)
{
	for (uint32_t i = 0; i < s->quarantined; i++)
		bpf_map_update_elem(s->maps.free_fd, NULL, &s->quarantine[i], BPF_ANY);
	s->quarantined = 0;
}

void slot_array_settle_health(struct flow_counters *c, const uint32_t *jiffies_now)
{
	if (!(c->health.known & TCPTOP_HEALTH_CHRONO))
		return;
	if (jiffies_now)
		tcp_health_settle(&c->health, *jiffies_now);
	else
		c->health.known &= (__u8)~TCPTOP_HEALTH_CHRONO;
}

/* The close the BPF side could not send: its final counts are in the slot. */
static void slot_array_close_lost(struct slot_array *s, uint32_t slot,
				 const struct flow_record *rec, struct flow_table *table,
				 uint64_t now_ns)
{
	flow_table_close_at(table, slot, &rec->key, &rec->value, now_ns);
	slot_array_let_go(s, slot);
}

void slot_array_drain(struct slot_array *s, struct flow_table *table, uint64_t now_ns,
		      const uint32_t *jiffies_now)
{
	uint64_t used = s->used ? __atomic_load_n(s->used, __ATOMIC_ACQUIRE) : 0;
	uint32_t end = used < s->capacity ? (uint32_t)used : s->capacity;
	struct flow_record rec;

	slot_array_release_quarantine(s);
	for (uint32_t slot = 0; slot < end; slot++) {
		if (!__atomic_load_n(&s->dirty[slot], __ATOMIC_RELAXED))
			continue;
		/* Clean before the copy (the exchange is a full barrier): an event after
		 * the copy sets the word again, and the next drain sees it. */
		__atomic_exchange_n(&s->dirty[slot], TCPTOP_SLOT_CLEAN, __ATOMIC_SEQ_CST);
		rec.key.cookie = __atomic_load_n(&s->records[slot].key.cookie, __ATOMIC_ACQUIRE);
		if (!rec.key.cookie)
			continue; /* free, or being filled */
		memcpy(&rec.key.peer_addr, &s->records[slot].key.peer_addr,
		       sizeof(rec) - offsetof(struct flow_record, key.peer_addr));
		/* The slot may have been given back and taken by another flow while it was
		 * copied (a TCP close frees it at once): a copy its cookie did not outlast is
		 * torn. The new flow marks the slot again once it is published. An atomic
		 * add of 0 (release: after the copy) rather than a fence, which TSan lacks. */
		if (__atomic_fetch_add(&s->records[slot].key.cookie, 0, __ATOMIC_ACQ_REL) !=
		    rec.key.cookie)
			continue;
		slot_array_settle_health(&rec.value.counters, jiffies_now);
		if (rec.value.counters.state == TCPTOP_TCP_CLOSE) {
			/* Else its record is in the ring, which brings the final counts. */
			if (rec.value.counters.flags & TCPTOP_CLOSE_KEPT)
				slot_array_close_lost(s, slot, &rec, table, now_ns);
			continue;
		}
		flow_table_merge_at(table, slot, &rec.key, &rec.value, now_ns);
	}
}

int slot_array_expire_udp(struct slot_array *s, const struct flow_key *key,
			  struct flow_value *final)
{
	__u32 slot;

	if (bpf_map_lookup_and_delete_elem(s->maps.udp_index_fd, key, &slot) < 0)
		return -errno;
	if (slot >= s->capacity)
		return -ERANGE;
	/* A datagram counted between the delete and this copy still makes it. */
	memcpy(final, &s->records[slot].value, sizeof(*final));
	slot_array_let_go(s, slot);
	return 0;
}
