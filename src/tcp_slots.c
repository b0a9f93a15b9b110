/* Draining the modern set's TCP slot array: scan the dirty words (8 bytes per slot, a few
 * hundred microseconds for 100k slots), copy only the changed slots. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "tcp_slots.h"

/* The kernel lays an mmapable array's values out back to back, each rounded up to 8. */
_Static_assert(sizeof(struct flow_record) % 8 == 0, "slot stride is the record's size");

static size_t tcp_slots_mapping_bytes(size_t bytes)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (bytes + page - 1) / page * page;
}

static void *tcp_slots_map_array(int fd, size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

int tcp_slots_map(struct tcp_slots *s, int records_fd, int dirty_fd, int free_fd,
		  uint32_t capacity, const __u64 *used)
{
	memset(s, 0, sizeof(*s));
	s->records_bytes = tcp_slots_mapping_bytes((size_t)capacity * sizeof(*s->records));
	s->dirty_bytes = tcp_slots_mapping_bytes((size_t)capacity * sizeof(*s->dirty));
	s->records = tcp_slots_map_array(records_fd, s->records_bytes);
	s->dirty = tcp_slots_map_array(dirty_fd, s->dirty_bytes);
	if (!s->records || !s->dirty) {
		int err = -errno;

		tcp_slots_unmap(s);
		return err;
	}
	s->capacity = capacity;
	s->used = used;
	s->free_fd = free_fd;
	return 0;
}

void tcp_slots_unmap(struct tcp_slots *s)
{
	if (s->records)
		munmap(s->records, s->records_bytes);
	if (s->dirty)
		munmap(s->dirty, s->dirty_bytes);
	memset(s, 0, sizeof(*s));
}

/* The close the BPF side could not send: its final counts are in the slot. */
static void tcp_slots_close_lost(struct tcp_slots *s, uint32_t slot,
				 const struct flow_record *rec, struct flow_table *table,
				 uint64_t now_ns)
{
	flow_table_close(table, &rec->key, &rec->value, now_ns);
	__atomic_store_n(&s->records[slot].key.cookie, 0, __ATOMIC_RELEASE);
	bpf_map_update_elem(s->free_fd, NULL, &slot, BPF_ANY);
}

void tcp_slots_drain(struct tcp_slots *s, struct flow_table *table, uint64_t now_ns)
{
	uint64_t used = s->used ? __atomic_load_n(s->used, __ATOMIC_ACQUIRE) : 0;
	uint32_t end = used < s->capacity ? (uint32_t)used : s->capacity;
	struct flow_record rec;

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
		if (rec.value.counters.state == TCPTOP_TCP_CLOSE)
			tcp_slots_close_lost(s, slot, &rec, table, now_ns);
		else
			flow_table_merge(table, &rec.key, &rec.value, now_ns);
	}
}
