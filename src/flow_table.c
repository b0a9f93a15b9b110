/* The flow table: a liburcu lock-free hash table of flow nodes. The collector thread is
 * the only writer; the compute thread walks it inside read-side sections. Counters are
 * read and written with __atomic accessors so a reader never sees a torn value; a
 * node's identity is immutable and replaced whole (RCU), never edited in place. */
#include <stdlib.h>
#include <string.h>
#include "flow_table.h"

struct owner_hint {
	uint64_t cookie;
	size_t order; /* walk order: the first owner found wins */
	uint32_t tgid;
	char comm[TCPTOP_COMM_LEN];
};

struct flow_table {
	struct cds_lfht *ht;
	size_t nflows; /* __atomic: changed by the writer, read by anyone */
	struct drain_stamp stamp; /* __atomic: written by the collector, read by compute */
	/* Owners found by the start-up walk, by cookie, for flows inserted after it
	 * without an owner (collector-private, sorted on first use). */
	struct owner_hint *hints;
	size_t nhints, hints_cap;
	bool hints_sorted;
};

/* splitmix64's finaliser: cookies are sequential, so they need mixing to spread. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static unsigned long flow_key_hash(const struct flow_key *key)
{
	uint64_t peer[2];
	uint64_t h;

	memcpy(peer, key->peer_addr, sizeof(peer));
	h = mix64(key->cookie);
	h = mix64(h ^ peer[0]);
	h = mix64(h ^ peer[1] ^ ((uint64_t)key->peer_port << 8) ^ key->peer_family);
	return (unsigned long)h;
}

static int flow_key_match(struct cds_lfht_node *ht_node, const void *key)
{
	const struct flow_node *node = caa_container_of(ht_node, struct flow_node, ht_node);

	return memcmp(&node->key, key, sizeof(node->key)) == 0;
}

struct flow_table *flow_table_new(void)
{
	struct flow_table *table = calloc(1, sizeof(*table));

	if (!table)
		return NULL;
	table->ht = cds_lfht_new_flavor(1024, 1024, 0,
					CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
					&urcu_memb_flavor, NULL);
	if (!table->ht) {
		free(table);
		return NULL;
	}
	return table;
}

static void flow_node_free(struct flow_node *node)
{
	free(node->identity);
	free(node);
}

static void flow_node_free_rcu(struct rcu_head *head)
{
	flow_node_free(caa_container_of(head, struct flow_node, rcu));
}

static void identity_free_rcu(struct rcu_head *head)
{
	free(caa_container_of(head, struct flow_identity_rcu, rcu));
}

void flow_table_destroy(struct flow_table *table)
{
	struct cds_lfht_iter iter;
	struct flow_node *node;

	if (!table)
		return;
	/* No reader is left: nodes can go at once, without a grace period. */
	urcu_memb_read_lock();
	cds_lfht_for_each_entry(table->ht, &iter, node, ht_node) {
		if (cds_lfht_del(table->ht, &node->ht_node) == 0)
			urcu_memb_call_rcu(&node->rcu, flow_node_free_rcu);
	}
	urcu_memb_read_unlock();
	urcu_memb_barrier();
	cds_lfht_destroy(table->ht, NULL);
	free(table->hints);
	free(table);
}

static struct flow_node *lookup(struct flow_table *table, const struct flow_key *key)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *found;

	cds_lfht_lookup(table->ht, flow_key_hash(key), flow_key_match, key, &iter);
	found = cds_lfht_iter_get_node(&iter);
	return found ? caa_container_of(found, struct flow_node, ht_node) : NULL;
}

static int hint_compare(const void *a, const void *b)
{
	const struct owner_hint *x = a, *y = b;

	if (x->cookie != y->cookie)
		return x->cookie < y->cookie ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

static int hint_compare_cookie(const void *a, const void *b)
{
	const struct owner_hint *x = a, *y = b;

	return (x->cookie > y->cookie) - (x->cookie < y->cookie);
}

static const struct owner_hint *hint_find(struct flow_table *table, uint64_t cookie)
{
	struct owner_hint probe = { .cookie = cookie };
	const struct owner_hint *found;

	if (!table->nhints)
		return NULL;
	if (!table->hints_sorted) {
		qsort(table->hints, table->nhints, sizeof(*table->hints), hint_compare);
		table->hints_sorted = true;
	}
	found = bsearch(&probe, table->hints, table->nhints, sizeof(probe), hint_compare_cookie);
	/* bsearch may land on any hint of the cookie: step back to the first one found. */
	while (found && found > table->hints && found[-1].cookie == cookie)
		found--;
	return found;
}

/* The identity a merge should leave: the backend's view, except that a record taken in
 * softirq context (no owner) or before the route was known must not erase what is known. */
static void identity_merge(struct flow_identity *merged, const struct flow_identity *old)
{
	if (!merged->tgid && old->tgid) {
		merged->tgid = old->tgid;
		memcpy(merged->comm, old->comm, sizeof(merged->comm));
	}
	if (!merged->ifindex)
		merged->ifindex = old->ifindex;
	if (!merged->family) {
		memcpy(merged->laddr, old->laddr, sizeof(merged->laddr));
		memcpy(merged->raddr, old->raddr, sizeof(merged->raddr));
		merged->lport = old->lport;
		merged->rport = old->rport;
		merged->family = old->family;
	}
	if (!merged->netns)
		merged->netns = old->netns;
	if (old->first_seen_ns && (!merged->first_seen_ns ||
				   old->first_seen_ns < merged->first_seen_ns))
		merged->first_seen_ns = old->first_seen_ns;
}

static struct flow_identity_rcu *identity_new(const struct flow_identity *id)
{
	struct flow_identity_rcu *copy = malloc(sizeof(*copy));

	if (copy)
		copy->id = *id;
	return copy;
}

static void identity_update(struct flow_node *node, const struct flow_identity *fresh)
{
	struct flow_identity_rcu *old = rcu_dereference(node->identity);
	struct flow_identity merged = *fresh;
	struct flow_identity_rcu *copy;

	identity_merge(&merged, &old->id);
	if (memcmp(&merged, &old->id, sizeof(merged)) == 0)
		return;
	copy = identity_new(&merged);
	if (!copy)
		return; /* keep the old identity rather than lose the flow */
	rcu_assign_pointer(node->identity, copy);
	urcu_memb_call_rcu(&old->rcu, identity_free_rcu);
}

static void store_counters(struct flow_node *node, const struct flow_counters *c,
			   uint64_t now_ns)
{
	bool changed = __atomic_load_n(&node->tx_bytes, __ATOMIC_RELAXED) != c->tx_bytes ||
		       __atomic_load_n(&node->rx_bytes, __ATOMIC_RELAXED) != c->rx_bytes ||
		       __atomic_load_n(&node->tx_packets, __ATOMIC_RELAXED) != c->tx_packets ||
		       __atomic_load_n(&node->rx_packets, __ATOMIC_RELAXED) != c->rx_packets;

	__atomic_store_n(&node->tx_bytes, c->tx_bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&node->rx_bytes, c->rx_bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&node->tx_packets, c->tx_packets, __ATOMIC_RELAXED);
	__atomic_store_n(&node->rx_packets, c->rx_packets, __ATOMIC_RELAXED);
	__atomic_store_n(&node->srtt_us, c->srtt_us, __ATOMIC_RELAXED);
	__atomic_store_n(&node->retrans, c->retrans, __ATOMIC_RELAXED);
	__atomic_store_n(&node->state, c->state, __ATOMIC_RELAXED);
	if (changed)
		__atomic_store_n(&node->last_active_ns, now_ns, __ATOMIC_RELAXED);
}

static struct flow_node *node_new(struct flow_table *table, const struct flow_key *key,
				  const struct flow_value *value, uint64_t now_ns)
{
	struct flow_node *node = calloc(1, sizeof(*node));
	struct flow_identity id = value->id;
	const struct owner_hint *hint;

	if (!node)
		return NULL;
	if (!id.tgid && (hint = hint_find(table, key->cookie))) {
		id.tgid = hint->tgid;
		memcpy(id.comm, hint->comm, sizeof(id.comm));
	}
	node->identity = identity_new(&id);
	if (!node->identity) {
		free(node);
		return NULL;
	}
	cds_lfht_node_init(&node->ht_node);
	node->key = *key;
	/* The kernel's first sight when it knows it: the flow is older than this drain. */
	node->first_seen_ns = id.first_seen_ns && id.first_seen_ns < now_ns ? id.first_seen_ns :
									      now_ns;
	store_counters(node, &value->counters, now_ns);
	node->last_active_ns = now_ns;
	return node;
}

/* Insert a new node for key, or return the one already there. Caller holds the read lock. */
static struct flow_node *insert(struct flow_table *table, const struct flow_key *key,
				const struct flow_value *value, uint64_t now_ns, bool *inserted)
{
	struct flow_node *node = node_new(table, key, value, now_ns);
	struct cds_lfht_node *existing;

	*inserted = false;
	if (!node)
		return NULL;
	existing = cds_lfht_add_unique(table->ht, flow_key_hash(key), flow_key_match, &node->key,
				       &node->ht_node);
	if (existing != &node->ht_node) {
		flow_node_free(node); /* never published: no grace period needed */
		return caa_container_of(existing, struct flow_node, ht_node);
	}
	*inserted = true;
	__atomic_add_fetch(&table->nflows, 1, __ATOMIC_RELAXED);
	return node;
}

static void merge_locked(struct flow_table *table, const struct flow_key *key,
			 const struct flow_value *value, uint64_t now_ns)
{
	struct flow_node *node = lookup(table, key);
	bool inserted = false;

	if (!node)
		node = insert(table, key, value, now_ns, &inserted);
	if (!node || inserted)
		return;
	/* A closed flow's final record is in: later copies of the same cumulative counters
	 * (a drain racing the close) add nothing. */
	if (__atomic_load_n(&node->closed, __ATOMIC_ACQUIRE))
		return;
	store_counters(node, &value->counters, now_ns);
	identity_update(node, &value->id);
}

void flow_table_merge(struct flow_table *table, const struct flow_key *key,
		      const struct flow_value *value, uint64_t now_ns)
{
	urcu_memb_read_lock();
	merge_locked(table, key, value, now_ns);
	urcu_memb_read_unlock();
}

void flow_table_close(struct flow_table *table, const struct flow_key *key,
		      const struct flow_value *value, uint64_t now_ns)
{
	flow_table_merge(table, key, value, now_ns);
	flow_table_mark_closed(table, key);
}

void flow_table_mark_closed(struct flow_table *table, const struct flow_key *key)
{
	struct flow_node *node;

	urcu_memb_read_lock();
	node = lookup(table, key);
	if (node)
		__atomic_store_n(&node->closed, 1, __ATOMIC_RELEASE);
	urcu_memb_read_unlock();
}

static void set_owner_locked(struct flow_table *table, const struct flow_key *key, uint32_t tgid,
			     const char comm[TCPTOP_COMM_LEN])
{
	struct flow_node *node = lookup(table, key);
	struct flow_identity id;

	if (!node || rcu_dereference(node->identity)->id.tgid)
		return;
	id = rcu_dereference(node->identity)->id;
	id.tgid = tgid;
	memcpy(id.comm, comm, sizeof(id.comm));
	identity_update(node, &id);
}

void flow_table_set_owner(struct flow_table *table, uint64_t cookie, uint32_t tgid,
			  const char comm[TCPTOP_COMM_LEN])
{
	struct flow_key key = { .cookie = cookie };
	struct owner_hint *grown;

	urcu_memb_read_lock();
	set_owner_locked(table, &key, tgid, comm);
	urcu_memb_read_unlock();

	if (table->nhints == table->hints_cap) {
		size_t cap = table->hints_cap ? table->hints_cap * 2 : 256;

		grown = realloc(table->hints, cap * sizeof(*grown));
		if (!grown)
			return;
		table->hints = grown;
		table->hints_cap = cap;
	}
	table->hints[table->nhints].cookie = cookie;
	table->hints[table->nhints].order = table->nhints;
	table->hints[table->nhints].tgid = tgid;
	memcpy(table->hints[table->nhints].comm, comm, TCPTOP_COMM_LEN);
	table->nhints++;
	table->hints_sorted = false;
}

void flow_table_sweep_closed(struct flow_table *table)
{
	struct cds_lfht_iter iter;
	struct flow_node *node;

	urcu_memb_read_lock();
	cds_lfht_for_each_entry(table->ht, &iter, node, ht_node) {
		if (!__atomic_load_n(&node->close_shown, __ATOMIC_ACQUIRE))
			continue;
		if (cds_lfht_del(table->ht, &node->ht_node) == 0) {
			__atomic_sub_fetch(&table->nflows, 1, __ATOMIC_RELAXED);
			urcu_memb_call_rcu(&node->rcu, flow_node_free_rcu);
		}
	}
	urcu_memb_read_unlock();
}

void flow_table_for_each_idle_udp(struct flow_table *table, uint64_t idle_since_ns,
				  void (*fn)(const struct flow_key *key, void *ctx), void *ctx)
{
	struct cds_lfht_iter iter;
	struct flow_node *node;

	urcu_memb_read_lock();
	cds_lfht_for_each_entry(table->ht, &iter, node, ht_node) {
		if (__atomic_load_n(&node->closed, __ATOMIC_RELAXED) ||
		    rcu_dereference(node->identity)->id.proto != TCPTOP_PROTO_UDP)
			continue;
		if (__atomic_load_n(&node->last_active_ns, __ATOMIC_RELAXED) < idle_since_ns)
			fn(&node->key, ctx);
	}
	urcu_memb_read_unlock();
}

void flow_table_publish_stamp(struct flow_table *table, const struct drain_stamp *stamp)
{
	__atomic_store_n(&table->stamp.mono_ns, stamp->mono_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&table->stamp.real_ns, stamp->real_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&table->stamp.flows_dropped, stamp->flows_dropped, __ATOMIC_RELAXED);
	/* The generation is stored last with release: a reader that sees it sees the rest,
	 * and every counter the drain stored. */
	__atomic_store_n(&table->stamp.generation, stamp->generation, __ATOMIC_RELEASE);
}

void flow_table_read_stamp(struct flow_table *table, struct drain_stamp *out)
{
	out->generation = __atomic_load_n(&table->stamp.generation, __ATOMIC_ACQUIRE);
	out->mono_ns = __atomic_load_n(&table->stamp.mono_ns, __ATOMIC_RELAXED);
	out->real_ns = __atomic_load_n(&table->stamp.real_ns, __ATOMIC_RELAXED);
	out->flows_dropped = __atomic_load_n(&table->stamp.flows_dropped, __ATOMIC_RELAXED);
}

struct cds_lfht *flow_table_ht(struct flow_table *table)
{
	return table->ht;
}

size_t flow_table_count(struct flow_table *table)
{
	return __atomic_load_n(&table->nflows, __ATOMIC_RELAXED);
}
