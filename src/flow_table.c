/* The flow table: a liburcu lock-free hash table of flow nodes. The collector thread is
 * the only writer; the compute thread walks it inside read-side sections. Counters are
 * read and written with __atomic accessors so a reader never sees a torn value; a
 * node's identity is immutable and replaced whole (RCU), never edited in place.
 * Beside the hash table the writer keeps what makes an interval cost what changed, not
 * every flow: the list of flows each drain changed (handed to the compute thread with
 * the drain's stamp), open UDP flows in about the order of their last activity (for
 * expiry) and closed flows (for the sweep). */
#include <stdlib.h>
#include <string.h>
#include "flow_table.h"

struct owner_hint {
	uint64_t cookie;
	size_t order; /* walk order: the first owner found wins */
	uint32_t tgid;
	char comm[TCPTOP_COMM_LEN];
};

/* Flows changed since a publication; two of them take turns: the writer fills one while
 * the reader reads the other. */
struct change_list {
	struct flow_node **nodes;
	size_t count, cap;
	size_t inserted; /* flows new in this list */
	uint64_t generation, since_generation;
	bool complete;
};

/* The hash table's fewest buckets: every walk visits each bucket, so few flows must not
 * pay for many buckets. */
#define MIN_BUCKETS 1024UL

struct flow_table {
	struct cds_lfht *ht;
	unsigned long buckets; /* writer-private: the size the table was last given */
	size_t nflows; /* __atomic: changed by the writer, read by anyone */
	struct drain_stamp stamp; /* __atomic: written by the collector, read by compute */
	/* lists[batch & 1] is filled by the writer; the other was published with the stamp.
	 * A node is in the pending list when its changed_batch is batch. */
	struct change_list lists[2];
	uint64_t batch;
	/* Collector-private: open UDP flows by the time they were placed, closed flows. */
	struct flow_node *idle_head, *idle_tail;
	struct flow_node *closed_head, **closed_tail; /* in the order they closed */
	/* Written by the collector, read under RCU: the closed flows never hashed, in the
	 * order they closed (a subsequence of the closed list). */
	struct flow_node *unhashed_head, **unhashed_tail;
	bool keep_health;        /* flow_table_keep_health */
	size_t nclosed;          /* in that list */
	uint64_t closed_trimmed; /* closed flows let go unshown (flow_table_trim_closed) */
	/* Owners found by the latest owner walk, by cookie, for flows inserted after it
	 * without an owner (collector-private, sorted on first use; each walk starts them
	 * anew, so they stay as many as the sockets it found). */
	struct owner_hint *hints;
	size_t nhints, hints_cap;
	bool hints_sorted;
	/* Collector-private: the flow last merged from each place (flow_table_merge_at);
	 * places_lost once a flow could not be remembered at its place. */
	struct flow_node **by_place;
	size_t places_room;
	bool places_lost;
	/* Collector-private: open flows whose place another flow took (books.displaced). */
	size_t displaced_open;
	/* Collector-private: flows swept whose final row named no process. */
	uint64_t ended_unowned;
	/* Collector-private: identities replaced since the last drain published, linked by
	 * next_retired, whose node references wait for retire_identities(). */
	struct flow_identity_rcu *retired;
	/* Nodes and identities to reuse (doc/design.md, "Recycled nodes"): the sweeps' let
	 * go nodes come back after their grace period onto returned_nodes (pushed by the
	 * call_rcu thread); the collector takes them into node_spares, its own. */
	void *returned_nodes;
	struct spares node_spares, identity_spares;
};

/* The nodes one sweep let go, waiting for their grace period. */
struct gone_nodes {
	struct rcu_head rcu;
	struct flow_table *table;
	struct flow_node *head; /* linked by books.closed_next */
};

/* Spares kept beyond what the last interval made, so that a few closes reuse nodes. */
#define MIN_SPARE 64

/* Identities whose node references go together after a grace period: one call_rcu a
 * drain instead of an rcu_head in every identity (16 bytes of each). */
struct retired_identities {
	struct rcu_head rcu;
	struct flow_identity_rcu *head;
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
	table->ht = cds_lfht_new_flavor(MIN_BUCKETS, MIN_BUCKETS, 0, 0, &urcu_memb_flavor, NULL);
	if (!table->ht) {
		free(table);
		return NULL;
	}
	table->buckets = MIN_BUCKETS;
	table->closed_tail = &table->closed_head;
	table->unhashed_tail = &table->unhashed_head;
	table->batch = 1;
	table->node_spares = SPARES_INIT(&table->returned_nodes, struct flow_node, unhashed_next);
	table->identity_spares = flow_identity_spares();
	table->lists[1].complete = true;
	return table;
}

/* What a node holds besides itself. */
static void flow_node_release(struct flow_node *node)
{
	flow_identity_put(&node->identity->id);
	free(node->view.win);
	free(node->health);
}

static void flow_node_free(struct flow_node *node)
{
	flow_node_release(node);
	free(node);
}

/* A spare back to a node, all zero. */
static struct flow_node *node_of(void *spare)
{
	return memset(spare, 0, sizeof(struct flow_node));
}

/* After their grace period (the call_rcu thread): the nodes a sweep let go go back to the
 * collector as spares. */
static void gone_nodes_rcu(struct rcu_head *head)
{
	struct gone_nodes *gone = caa_container_of(head, struct gone_nodes, rcu);
	struct spares *spares = &gone->table->node_spares;
	struct flow_node *node, *next;
	void *chain = NULL;

	for (node = gone->head; node; node = next) {
		next = node->books.closed_next;
		flow_node_release(node);
		chain = spares_link(node, chain, spares->size, spares->link);
	}
	/* The first node linked is the chain's last. */
	spares_give(spares->returned, chain, gone->head, spares->link);
	free(gone);
}

/* A zeroed node: a spare, else a new one. */
static struct flow_node *node_take(struct flow_table *table)
{
	void *spare = spares_take(&table->node_spares);

	return spare ? node_of(spare) : calloc(1, sizeof(struct flow_node));
}

static void flow_node_free_rcu(struct rcu_head *head)
{
	flow_node_free(caa_container_of(head, struct flow_node, books.rcu));
}

/* The nodes one sweep let go, linked by books.closed_next from the one whose rcu_head
 * carries them. */
static void flow_nodes_free_rcu(struct rcu_head *head)
{
	struct flow_node *node = caa_container_of(head, struct flow_node, books.rcu), *next;

	for (; node; node = next) {
		next = node->books.closed_next;
		flow_node_free(node);
	}
}

/* Drops the node references of the identities linked from head. */
static void identities_put(struct flow_identity_rcu *head)
{
	struct flow_identity_rcu *next;

	for (; head; head = next) {
		next = head->next_retired;
		flow_identity_put(&head->id);
	}
}

static void identities_put_rcu(struct rcu_head *head)
{
	struct retired_identities *batch = caa_container_of(head, struct retired_identities, rcu);

	identities_put(batch->head);
	free(batch);
}

/* The node references of the identities replaced so far, dropped a grace period from now
 * (a reader may have loaded node->identity before it changed); out of memory, they wait
 * for the next drain. */
static void retire_identities(struct flow_table *table)
{
	struct retired_identities *batch;

	if (!table->retired || !(batch = malloc(sizeof(*batch))))
		return;
	batch->head = table->retired;
	table->retired = NULL;
	urcu_memb_call_rcu(&batch->rcu, identities_put_rcu);
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
			urcu_memb_call_rcu(&node->books.rcu, flow_node_free_rcu);
	}
	while ((node = table->unhashed_head)) {
		table->unhashed_head = node->unhashed_next;
		urcu_memb_call_rcu(&node->books.rcu, flow_node_free_rcu);
	}
	urcu_memb_read_unlock();
	urcu_memb_barrier();
	identities_put(table->retired);
	spares_free(&table->node_spares);
	spares_free(&table->identity_spares);
	cds_lfht_destroy(table->ht, NULL);
	free(table->lists[0].nodes);
	free(table->lists[1].nodes);
	free(table->hints);
	free(table->by_place);
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

static struct change_list *pending_changes(struct flow_table *table)
{
	return &table->lists[table->batch & 1];
}

/* Remember, once per publication, that node changed. */
static void note_changed(struct flow_table *table, struct flow_node *node)
{
	struct change_list *list = pending_changes(table);
	struct flow_node **grown;
	size_t cap;

	if (node->books.changed_batch == table->batch)
		return;
	node->books.changed_batch = table->batch;
	node->books.changed_slot = UINT32_MAX;
	if (list->count == list->cap) {
		cap = list->cap ? list->cap * 2 : 1024;
		grown = realloc(list->nodes, cap * sizeof(*grown));
		if (!grown) {
			list->complete = false; /* the reader falls back to every flow */
			return;
		}
		list->nodes = grown;
		list->cap = cap;
	}
	node->books.changed_slot = (uint32_t)list->count;
	list->nodes[list->count++] = node;
}

/* A node leaving the table leaves a hole in the pending list, never a dangling pointer. */
static void forget_changed(struct flow_table *table, struct flow_node *node)
{
	if (node->books.changed_batch == table->batch && node->books.changed_slot != UINT32_MAX)
		pending_changes(table)->nodes[node->books.changed_slot] = NULL;
}

static void idle_unlink(struct flow_table *table, struct flow_node *node)
{
	if (!node->books.idle_listed)
		return;
	if (node->books.idle_prev)
		node->books.idle_prev->books.idle_next = node->books.idle_next;
	else
		table->idle_head = node->books.idle_next;
	if (node->books.idle_next)
		node->books.idle_next->books.idle_prev = node->books.idle_prev;
	else
		table->idle_tail = node->books.idle_prev;
	node->books.idle_prev = node->books.idle_next = NULL;
	node->books.idle_listed = false;
}

/* (Re)place an open UDP flow in the idle list by its last activity: at the tail, unless a
 * merge came with an older time than the flows already there. The list is ordered by the
 * time a flow was placed, not kept in step with every merge: a flow active since is placed
 * again when expiry comes to it, so a busy flow costs one move per --udp-timeout. */
static void idle_place(struct flow_table *table, struct flow_node *node)
{
	uint64_t active_ns = __atomic_load_n(&node->counts.last_active_ns, __ATOMIC_RELAXED);
	struct flow_node *after;

	idle_unlink(table, node);
	node->books.idle_placed_ns = active_ns;
	after = table->idle_tail;
	while (after && after->books.idle_placed_ns > active_ns)
		after = after->books.idle_prev;
	node->books.idle_prev = after;
	node->books.idle_next = after ? after->books.idle_next : table->idle_head;
	if (node->books.idle_next)
		node->books.idle_next->books.idle_prev = node;
	else
		table->idle_tail = node;
	if (after)
		after->books.idle_next = node;
	else
		table->idle_head = node;
	node->books.idle_listed = true;
}

/* Only open UDP flows expire. */
static void idle_follow_identity(struct flow_table *table, struct flow_node *node, uint8_t proto)
{
	bool expires = proto == TCPTOP_PROTO_UDP &&
		       !__atomic_load_n(&node->counts.closed, __ATOMIC_RELAXED);

	if (expires && !node->books.idle_listed)
		idle_place(table, node);
	else if (!expires)
		idle_unlink(table, node);
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
}

/* True when the node got a new identity. */
static bool identity_update(struct flow_table *table, struct flow_node *node,
			    const struct flow_identity *fresh)
{
	struct flow_identity_rcu *old = rcu_dereference(node->identity);
	struct flow_identity merged = *fresh;
	struct flow_identity_rcu *copy;

	identity_merge(&merged, &old->id);
	merged.first_seen_ns = node->first_seen_ns; /* what rows show, from the node */
	if (memcmp(&merged, &old->id, sizeof(merged)) == 0)
		return false;
	copy = flow_identity_new_from(&table->identity_spares, &merged);
	if (!copy)
		return false; /* keep the old identity rather than lose the flow */
	rcu_assign_pointer(node->identity, copy);
	old->next_retired = table->retired;
	table->retired = old;
	if (merged.proto != old->id.proto)
		idle_follow_identity(table, node, merged.proto);
	return true;
}

/* What a merge did to a flow's counters. */
enum counters_change {
	COUNTERS_SAME,
	COUNTERS_CHANGED, /* state, RTT or retransmits only */
	COUNTERS_MOVED,   /* bytes or packets: the flow is active */
};

void flow_table_keep_health(struct flow_table *table, bool keep)
{
	table->keep_health = keep;
}

/* struct flow_tcp_health's fields, for X to copy one by one: the store and the load below
 * go through the same list. */
#define HEALTH_FIELDS(X)                                                                           \
	X(sendq)                                                                                   \
	X(recvq)                                                                                   \
	X(cwnd)                                                                                    \
	X(rate_delivered)                                                                          \
	X(rate_interval_us)                                                                        \
	X(chrono_stat[0])                                                                          \
	X(chrono_stat[1])                                                                          \
	X(chrono_stat[2])                                                                          \
	X(chrono_start)                                                                            \
	X(mss_cache)                                                                               \
	X(chrono_type)                                                                             \
	X(known)

/* The health sample field by field, atomically: the compute thread reads it meanwhile. */
static bool store_health(const struct flow_table *table, struct flow_node *node,
			 const struct flow_tcp_health *h)
{
	struct flow_node_health *health = node->health;
	struct flow_tcp_health *to;
	bool changed = false;

	if (!h->known || !table->keep_health)
		return false;
	if (!health) {
		health = calloc(1, sizeof(*health));
		if (!health)
			return false; /* the columns stay empty for this flow */
		__atomic_store_n(&node->health, health, __ATOMIC_RELEASE);
	}
	to = &health->sample;

#define HEALTH_STORE(f)                                                                            \
	if (__atomic_load_n(&to->f, __ATOMIC_RELAXED) != h->f) {                                   \
		__atomic_store_n(&to->f, h->f, __ATOMIC_RELAXED);                                  \
		changed = true;                                                                    \
	}
	HEALTH_FIELDS(HEALTH_STORE)
#undef HEALTH_STORE
	return changed;
}

struct flow_node_health *flow_table_load_health(struct flow_node *node, struct flow_tcp_health *out)
{
	struct flow_node_health *health = __atomic_load_n(&node->health, __ATOMIC_ACQUIRE);
	const struct flow_tcp_health *from;

	if (!health)
		return NULL;
	from = &health->sample;

#define HEALTH_LOAD(f) out->f = __atomic_load_n(&from->f, __ATOMIC_RELAXED);
	HEALTH_FIELDS(HEALTH_LOAD)
#undef HEALTH_LOAD
	return health;
}

static enum counters_change store_counters(const struct flow_table *table, struct flow_node *node,
					   const struct flow_counters *c, uint64_t now_ns)
{
	bool moved = __atomic_load_n(&node->counts.tx_bytes, __ATOMIC_RELAXED) != c->tx_bytes ||
		     __atomic_load_n(&node->counts.rx_bytes, __ATOMIC_RELAXED) != c->rx_bytes ||
		     __atomic_load_n(&node->counts.tx_packets, __ATOMIC_RELAXED) != c->tx_packets ||
		     __atomic_load_n(&node->counts.rx_packets, __ATOMIC_RELAXED) != c->rx_packets;
	bool changed = moved || __atomic_load_n(&node->counts.srtt_us, __ATOMIC_RELAXED) != c->srtt_us ||
		       __atomic_load_n(&node->counts.retrans, __ATOMIC_RELAXED) != c->retrans ||
		       __atomic_load_n(&node->counts.state, __ATOMIC_RELAXED) != c->state;

	changed = store_health(table, node, &c->health) || changed;
	if (!changed)
		return COUNTERS_SAME;
	__atomic_store_n(&node->counts.tx_bytes, c->tx_bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&node->counts.rx_bytes, c->rx_bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&node->counts.tx_packets, c->tx_packets, __ATOMIC_RELAXED);
	__atomic_store_n(&node->counts.rx_packets, c->rx_packets, __ATOMIC_RELAXED);
	__atomic_store_n(&node->counts.srtt_us, c->srtt_us, __ATOMIC_RELAXED);
	__atomic_store_n(&node->counts.retrans, c->retrans, __ATOMIC_RELAXED);
	__atomic_store_n(&node->counts.state, c->state, __ATOMIC_RELAXED);
	if (!moved)
		return COUNTERS_CHANGED;
	__atomic_store_n(&node->counts.last_active_ns, now_ns, __ATOMIC_RELAXED);
	return COUNTERS_MOVED;
}

static struct flow_node *node_new(struct flow_table *table, const struct flow_key *key,
				  const struct flow_value *value, uint64_t now_ns)
{
	struct flow_node *node = node_take(table);
	struct flow_identity id = value->id;
	const struct owner_hint *hint;

	if (!node)
		return NULL;
	if (!id.tgid && (hint = hint_find(table, key->cookie))) {
		id.tgid = hint->tgid;
		memcpy(id.comm, hint->comm, sizeof(id.comm));
	}
	cds_lfht_node_init(&node->ht_node);
	node->key = *key;
	/* The kernel's first sight when it knows it: the flow is older than this drain. */
	node->first_seen_ns = id.first_seen_ns && id.first_seen_ns < now_ns ? id.first_seen_ns :
									      now_ns;
	id.first_seen_ns = node->first_seen_ns; /* rows show the node's first sight */
	node->identity = flow_identity_new_from(&table->identity_spares, &id);
	if (!node->identity) {
		free(node);
		return NULL;
	}
	store_counters(table, node, &value->counters, now_ns);
	node->counts.last_active_ns = now_ns;
	node->view.row_index = FLOW_NO_ROW;
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
	note_changed(table, node);
	pending_changes(table)->inserted++;
	if (value->id.proto == TCPTOP_PROTO_UDP)
		idle_place(table, node);
	return node;
}

static void forget_place(struct flow_table *table, struct flow_node *node)
{
	if (node->books.place_plus_one)
		table->by_place[node->books.place_plus_one - 1] = NULL;
	node->books.place_plus_one = 0;
}

/* node is the flow at place now; false when there is no room to remember it. */
static bool remember_place(struct flow_table *table, struct flow_node *node, size_t place)
{
	struct flow_node **grown, *before;
	size_t room;

	if (place >= table->places_room) {
		room = place + place / 2 + 1024;
		grown = realloc(table->by_place, room * sizeof(*grown));
		if (!grown) {
			table->places_lost = true;
			return false; /* found by its key instead */
		}
		memset(grown + table->places_room, 0, (room - table->places_room) * sizeof(*grown));
		table->by_place = grown;
		table->places_room = room;
	}
	before = table->by_place[place];
	if (before && before != node) {
		before->books.place_plus_one = 0;
		if (!before->books.displaced &&
		    !__atomic_load_n(&before->counts.closed, __ATOMIC_RELAXED)) {
			before->books.displaced = true;
			table->displaced_open++;
		}
	}
	forget_place(table, node);
	table->by_place[place] = node;
	node->books.place_plus_one = (uint32_t)place + 1;
	return true;
}

/* The flow last merged from place, if it is key's (place SIZE_MAX: none). */
static struct flow_node *at_place(struct flow_table *table, size_t place,
				  const struct flow_key *key)
{
	struct flow_node *node = place < table->places_room ? table->by_place[place] : NULL;

	return node && memcmp(&node->key, key, sizeof(*key)) == 0 ? node : NULL;
}

static void merge_locked(struct flow_table *table, size_t place, const struct flow_key *key,
			 const struct flow_value *value, uint64_t now_ns)
{
	struct flow_node *node = at_place(table, place, key);
	enum counters_change change;
	bool inserted = false;

	/* Not the flow last merged from its place: nearly always a new one (a slot given to a
	 * new connection), so the insertion's own search (add_unique) is the only one; it
	 * finds the flow where it is already known (a socket of the start-up walk). */
	if (!node && place == SIZE_MAX)
		node = lookup(table, key);
	if (!node) {
		node = insert(table, key, value, now_ns, &inserted);
		if (node && place != SIZE_MAX)
			remember_place(table, node, place);
	}
	if (!node || inserted)
		return;
	/* A closed flow's final record is in: later copies of the same cumulative counters
	 * (a drain racing the close) add nothing. */
	if (__atomic_load_n(&node->counts.closed, __ATOMIC_ACQUIRE))
		return;
	change = store_counters(table, node, &value->counters, now_ns);
	if (identity_update(table, node, &value->id) || change != COUNTERS_SAME)
		note_changed(table, node);
}

/* About one bucket per flow. liburcu's automatic resize is not used: it grows only when
 * its approximate count crosses a power of two with 8 flows per bucket, and its lazy
 * resize sometimes never ran (100k flows measured in 16384 buckets, or stuck at 2048),
 * making every lookup walk a long chain of cache misses. The writer knows the count:
 * it resizes, outside any read-side section (liburcu requires it), when the table holds
 * more flows than buckets or fewer than an eighth. */
static void fit_buckets(struct flow_table *table)
{
	size_t n = __atomic_load_n(&table->nflows, __ATOMIC_RELAXED);
	unsigned long want = MIN_BUCKETS;

	if (n <= table->buckets && (n >= table->buckets / 8 || table->buckets == MIN_BUCKETS))
		return;
	if (urcu_memb_read_ongoing())
		return;
	while (want < n * (n > table->buckets ? 1 : 2))
		want <<= 1;
	cds_lfht_resize(table->ht, want);
	table->buckets = want;
}

void flow_table_merge(struct flow_table *table, const struct flow_key *key,
		      const struct flow_value *value, uint64_t now_ns)
{
	flow_table_merge_at(table, SIZE_MAX, key, value, now_ns);
}

void flow_table_merge_at(struct flow_table *table, size_t place, const struct flow_key *key,
			 const struct flow_value *value, uint64_t now_ns)
{
	urcu_memb_read_lock();
	merge_locked(table, place, key, value, now_ns);
	urcu_memb_read_unlock();
	fit_buckets(table);
}

static void end_locked(struct flow_table *table, size_t place, const struct flow_key *key,
		       const struct flow_value *final, uint64_t now_ns, enum flow_end how)
{
	struct flow_node *node = at_place(table, place, key);

	if (!node)
		node = lookup(table, key);

	if (!node || __atomic_load_n(&node->counts.closed, __ATOMIC_RELAXED))
		return;
	node->books.end_how = how;
	node->books.ended_ns = __atomic_load_n(&node->counts.last_active_ns, __ATOMIC_RELAXED);
	if (how == FLOW_END_CLOSED && final) {
		node->books.end_state = final->counters.end_state;
		node->books.end_errno = final->counters.end_errno;
		node->books.ended_ns = final->counters.ended_ns ? final->counters.ended_ns : now_ns;
	}
	__atomic_store_n(&node->counts.closed, 1, __ATOMIC_RELEASE);
	if (node->books.displaced) {
		node->books.displaced = false;
		table->displaced_open--;
	}
	note_changed(table, node);
	idle_unlink(table, node);
	node->books.closed_next = NULL;
	*table->closed_tail = node;
	table->closed_tail = &node->books.closed_next;
	table->nclosed++;
}

/* A connection born after the start-up walk and closed before any drain saw it: its node
 * never enters the hash table, which spares a short connection the insertion and the
 * removal, a third of its cost in user space (bench/README). Only its slot can have
 * named it (TCPTOP_BORN_IN_SLOT), so it is in the table only if merged from its slot's
 * place; that flow stays at the place until another takes it, and then counts as
 * displaced until it closes. So: not at its place and no open flow displaced means
 * never merged. (A flow is displaced when the slot's next one was merged before this
 * close record was read.) Readers that walk every flow find it in the unhashed list; a
 * drain's late copy of its slot finds it at its place, closed. False when the flow must
 * go the usual way. */
static bool close_unhashed(struct flow_table *table, size_t place, const struct flow_key *key,
			   const struct flow_value *final, uint64_t now_ns)
{
	struct flow_node *node;

	if (place == SIZE_MAX || !(final->counters.flags & TCPTOP_BORN_IN_SLOT) ||
	    table->places_lost || table->displaced_open || at_place(table, place, key))
		return false;
	node = node_new(table, key, final, now_ns);
	if (!node)
		return false;
	if (!remember_place(table, node, place)) {
		flow_node_free(node); /* never published */
		return false;
	}
	node->books.unhashed = true;
	node->unhashed_next = NULL;
	rcu_assign_pointer(*table->unhashed_tail, node);
	table->unhashed_tail = &node->unhashed_next;
	note_changed(table, node);
	pending_changes(table)->inserted++;
	return true;
}

static void end_at(struct flow_table *table, size_t place, const struct flow_key *key,
		   const struct flow_value *final, uint64_t now_ns, enum flow_end how)
{
	urcu_memb_read_lock();
	if (final && how == FLOW_END_CLOSED && close_unhashed(table, place, key, final, now_ns)) {
		end_locked(table, place, key, final, now_ns, how);
		urcu_memb_read_unlock();
		return;
	}
	urcu_memb_read_unlock();
	if (final)
		flow_table_merge_at(table, place, key, final, now_ns);
	urcu_memb_read_lock();
	end_locked(table, place, key, final, now_ns, how);
	urcu_memb_read_unlock();
}

void flow_table_end(struct flow_table *table, const struct flow_key *key,
		    const struct flow_value *final, uint64_t now_ns, enum flow_end how)
{
	end_at(table, SIZE_MAX, key, final, now_ns, how);
}

void flow_table_close(struct flow_table *table, const struct flow_key *key,
		      const struct flow_value *value, uint64_t now_ns)
{
	end_at(table, SIZE_MAX, key, value, now_ns, FLOW_END_CLOSED);
}

void flow_table_close_at(struct flow_table *table, size_t place, const struct flow_key *key,
			 const struct flow_value *value, uint64_t now_ns)
{
	end_at(table, place, key, value, now_ns, FLOW_END_CLOSED);
}

void flow_table_mark_closed(struct flow_table *table, const struct flow_key *key)
{
	flow_table_end(table, key, NULL, 0, FLOW_END_CLOSED);
}

void flow_table_set_listen(struct flow_table *table, uint64_t cookie, uint32_t queued, uint32_t max,
			   uint32_t drops)
{
	struct flow_key key = { .cookie = cookie };
	struct flow_node *node;

	urcu_memb_read_lock();
	node = lookup(table, &key);
	if (node && !__atomic_load_n(&node->counts.closed, __ATOMIC_RELAXED) &&
	    (!node->counts.listen_known || node->counts.backlog != queued ||
	     node->counts.backlog_max != max || node->counts.drops != drops)) {
		__atomic_store_n(&node->counts.backlog, queued, __ATOMIC_RELAXED);
		__atomic_store_n(&node->counts.backlog_max, max, __ATOMIC_RELAXED);
		__atomic_store_n(&node->counts.drops, drops, __ATOMIC_RELAXED);
		__atomic_store_n(&node->counts.listen_known, 1, __ATOMIC_RELAXED);
		note_changed(table, node);
	}
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
	if (identity_update(table, node, &id))
		note_changed(table, node);
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

void flow_table_begin_owner_walk(struct flow_table *table)
{
	table->nhints = 0;
	table->hints_sorted = false;
}

/* Flows of a cookie with a peer in their key (UDP) are not found by set_owner_locked:
 * give every flow still without an owner the walk's owner of its socket. Walks are rare
 * (start, and compat's owner walks), so one pass over the table is fine. */
void flow_table_end_owner_walk(struct flow_table *table)
{
	struct cds_lfht_iter iter;
	struct flow_node *node;
	const struct owner_hint *hint;
	struct flow_identity id;

	if (!table->nhints)
		return;
	urcu_memb_read_lock();
	cds_lfht_for_each_entry(table->ht, &iter, node, ht_node) {
		if (rcu_dereference(node->identity)->id.tgid ||
		    !(hint = hint_find(table, node->key.cookie)))
			continue;
		id = rcu_dereference(node->identity)->id;
		id.tgid = hint->tgid;
		memcpy(id.comm, hint->comm, sizeof(id.comm));
		if (identity_update(table, node, &id))
			note_changed(table, node);
	}
	urcu_memb_read_unlock();
}

/* Where a walk of the closed list stands (link), and of the unhashed list, which holds
 * the closed list's unhashed flows in the same order (unhashed_link). */
struct closed_walk {
	struct flow_node **link, **unhashed_link;
	struct flow_node *gone; /* let go, linked by books.closed_next */
};

static struct closed_walk closed_walk_start(struct flow_table *table)
{
	return (struct closed_walk){ &table->closed_head, &table->unhashed_head, NULL };
}

static void closed_walk_keep(struct closed_walk *w, struct flow_node *node)
{
	if (node->books.unhashed)
		w->unhashed_link = &node->unhashed_next;
	w->link = &node->books.closed_next;
}

/* Takes node, which *w->link points to, out of the closed list and the table. */
static void let_go(struct flow_table *table, struct closed_walk *w, struct flow_node *node,
		   flow_table_gone gone, void *arg)
{
	*w->link = node->books.closed_next;
	if (!*w->link)
		table->closed_tail = w->link;
	table->nclosed--;
	if (gone)
		gone(node, arg);
	if (!rcu_dereference(node->identity)->id.tgid)
		table->ended_unowned++;
	forget_changed(table, node);
	forget_place(table, node);
	if (node->books.unhashed) {
		rcu_assign_pointer(*w->unhashed_link, node->unhashed_next);
		if (!node->unhashed_next)
			table->unhashed_tail = w->unhashed_link;
	} else if (cds_lfht_del(table->ht, &node->ht_node) == 0) {
		__atomic_sub_fetch(&table->nflows, 1, __ATOMIC_RELAXED);
	} else {
		return;
	}
	node->books.closed_next = w->gone;
	w->gone = node;
}

/* The nodes the walk let go, back as spares a grace period from now: one call_rcu a walk
 * rather than one a node (under churn, call_rcu's queue took 5% of tcptop's CPU); freed
 * then if memory is short. */
static void closed_walk_end(struct flow_table *table, struct closed_walk *w)
{
	struct gone_nodes *gone;

	if (!w->gone)
		return;
	gone = calloc(1, sizeof(*gone));
	if (!gone) {
		urcu_memb_call_rcu(&w->gone->books.rcu, flow_nodes_free_rcu);
		return;
	}
	gone->table = table;
	gone->head = w->gone;
	urcu_memb_call_rcu(&gone->rcu, gone_nodes_rcu);
}

void flow_table_sweep_closed(struct flow_table *table, bool all, flow_table_gone gone, void *arg)
{
	struct closed_walk w = closed_walk_start(table);
	struct flow_node *node;

	urcu_memb_read_lock();
	while ((node = *w.link)) {
		if (all || __atomic_load_n(&node->view.close_shown, __ATOMIC_ACQUIRE))
			let_go(table, &w, node, gone, arg);
		else
			closed_walk_keep(&w, node);
	}
	closed_walk_end(table, &w);
	urcu_memb_read_unlock();
	/* Spares beyond what the interval made (and a few) are freed. */
	spares_trim(&table->node_spares, MIN_SPARE);
	spares_trim(&table->identity_spares, MIN_SPARE);
	fit_buckets(table);
}

size_t flow_table_trim_closed(struct flow_table *table, size_t keep, flow_table_gone gone,
			      void *arg)
{
	struct closed_walk w = closed_walk_start(table);
	struct flow_node *node;
	size_t trimmed = 0;

	urcu_memb_read_lock();
	while (table->nclosed > keep && (node = *w.link)) {
		/* Sockets already over at start (TIME_WAIT) are as many as the host has, and
		 * shown once: they do not pile up. */
		if (node->view.row_index == FLOW_NO_ROW &&
		    node->books.end_how != FLOW_END_BEFORE_START &&
		    !__atomic_load_n(&node->view.close_shown, __ATOMIC_ACQUIRE)) {
			let_go(table, &w, node, gone, arg);
			trimmed++;
		} else {
			closed_walk_keep(&w, node);
		}
	}
	closed_walk_end(table, &w);
	urcu_memb_read_unlock();
	table->closed_trimmed += trimmed;
	fit_buckets(table);
	return trimmed;
}

void flow_table_for_each_idle_udp(struct flow_table *table, uint64_t idle_since_ns,
				  void (*fn)(const struct flow_key *key, void *ctx), void *ctx)
{
	struct flow_node *node, *next;

	urcu_memb_read_lock();
	for (node = table->idle_head; node && node->books.idle_placed_ns < idle_since_ns; node = next) {
		next = node->books.idle_next; /* fn may close node, which unlinks it */
		if (__atomic_load_n(&node->counts.last_active_ns, __ATOMIC_RELAXED) >= idle_since_ns)
			idle_place(table, node); /* active since it was placed */
		else
			fn(&node->key, ctx);
	}
	urcu_memb_read_unlock();
}

/* The pending changes become the published ones; the list the reader is done with (it
 * has signalled the end of the previous drain) is emptied for the next drain. */
static void publish_changes(struct flow_table *table, uint64_t generation)
{
	struct change_list *published = pending_changes(table);
	struct change_list *previous = &table->lists[(table->batch + 1) & 1];

	published->since_generation = previous->generation;
	published->generation = generation;
	table->batch++;
	previous->count = 0;
	previous->inserted = 0;
	previous->complete = true;
}

/* Names only once (the programs stay the same while tcptop runs), so that a reader copies
 * them without a race; counters atomically, each on its own. */
static void publish_prog_stats(struct drain_stamp *to, const struct drain_stamp *from)
{
	uint32_t n = __atomic_load_n(&to->nprogs, __ATOMIC_RELAXED);

	if (!n && from->nprogs) {
		n = from->nprogs;
		for (uint32_t i = 0; i < n; i++)
			memcpy(to->progs[i].name, from->progs[i].name, sizeof(to->progs[i].name));
		__atomic_store_n(&to->nprogs, n, __ATOMIC_RELAXED);
	}
	for (uint32_t i = 0; i < n && i < from->nprogs; i++) {
		__atomic_store_n(&to->progs[i].runs, from->progs[i].runs, __ATOMIC_RELAXED);
		__atomic_store_n(&to->progs[i].run_ns, from->progs[i].run_ns, __ATOMIC_RELAXED);
		__atomic_store_n(&to->progs[i].misses, from->progs[i].misses, __ATOMIC_RELAXED);
	}
}

static void read_prog_stats(struct drain_stamp *out, struct drain_stamp *from)
{
	out->nprogs = __atomic_load_n(&from->nprogs, __ATOMIC_RELAXED);
	for (uint32_t i = 0; i < out->nprogs; i++) {
		memcpy(out->progs[i].name, from->progs[i].name, sizeof(out->progs[i].name));
		out->progs[i].runs = __atomic_load_n(&from->progs[i].runs, __ATOMIC_RELAXED);
		out->progs[i].run_ns = __atomic_load_n(&from->progs[i].run_ns, __ATOMIC_RELAXED);
		out->progs[i].misses = __atomic_load_n(&from->progs[i].misses, __ATOMIC_RELAXED);
	}
}

void flow_table_publish_stamp(struct flow_table *table, const struct drain_stamp *stamp)
{
	publish_changes(table, stamp->generation);
	retire_identities(table);
	__atomic_store_n(&table->stamp.mono_ns, stamp->mono_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&table->stamp.real_ns, stamp->real_ns, __ATOMIC_RELAXED);
	__atomic_store_n(&table->stamp.flows_dropped, stamp->flows_dropped, __ATOMIC_RELAXED);
	__atomic_store_n(&table->stamp.close_records_lost, stamp->close_records_lost,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&table->stamp.events_missed, stamp->events_missed, __ATOMIC_RELAXED);
	__atomic_store_n(&table->stamp.ended_unowned, table->ended_unowned, __ATOMIC_RELAXED);
	__atomic_store_n(&table->stamp.closed_trimmed, table->closed_trimmed, __ATOMIC_RELAXED);
	__atomic_store_n(&table->stamp.listen_drops, stamp->listen_drops, __ATOMIC_RELAXED);
	__atomic_store_n(&table->stamp.jiffies, stamp->jiffies, __ATOMIC_RELAXED);
	__atomic_store_n(&table->stamp.jiffies_before, stamp->jiffies_before, __ATOMIC_RELAXED);
	__atomic_store_n(&table->stamp.jiffies_known, stamp->jiffies_known, __ATOMIC_RELAXED);
	__atomic_store_n(&table->stamp.listen_drops_known, stamp->listen_drops_known,
			 __ATOMIC_RELAXED);
	publish_prog_stats(&table->stamp, stamp);
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
	out->close_records_lost = __atomic_load_n(&table->stamp.close_records_lost,
						  __ATOMIC_RELAXED);
	out->events_missed = __atomic_load_n(&table->stamp.events_missed, __ATOMIC_RELAXED);
	out->ended_unowned = __atomic_load_n(&table->stamp.ended_unowned, __ATOMIC_RELAXED);
	out->closed_trimmed = __atomic_load_n(&table->stamp.closed_trimmed, __ATOMIC_RELAXED);
	out->listen_drops = __atomic_load_n(&table->stamp.listen_drops, __ATOMIC_RELAXED);
	out->jiffies = __atomic_load_n(&table->stamp.jiffies, __ATOMIC_RELAXED);
	out->jiffies_before = __atomic_load_n(&table->stamp.jiffies_before, __ATOMIC_RELAXED);
	out->jiffies_known = __atomic_load_n(&table->stamp.jiffies_known, __ATOMIC_RELAXED);
	out->listen_drops_known = __atomic_load_n(&table->stamp.listen_drops_known,
						  __ATOMIC_RELAXED);
	read_prog_stats(out, &table->stamp);
}

void flow_table_read_changes(struct flow_table *table, struct flow_changes *out)
{
	/* Written before the generation the caller read with acquire. */
	const struct change_list *published = &table->lists[(table->batch + 1) & 1];

	out->nodes = published->nodes;
	out->count = published->count;
	out->inserted = published->inserted;
	out->generation = published->generation;
	out->since_generation = published->since_generation;
	out->complete = published->complete;
}

bool flow_table_each(struct flow_table *table, bool (*fn)(struct flow_node *node, void *arg),
		     void *arg)
{
	struct cds_lfht_iter iter;
	struct flow_node *node;
	bool whole = true;

	urcu_memb_read_lock();
	cds_lfht_for_each_entry(table->ht, &iter, node, ht_node) {
		if (!fn(node, arg)) {
			whole = false;
			break;
		}
	}
	for (node = rcu_dereference(table->unhashed_head); whole && node;
	     node = rcu_dereference(node->unhashed_next))
		whole = fn(node, arg);
	urcu_memb_read_unlock();
	return whole;
}

size_t flow_table_count(struct flow_table *table)
{
	return __atomic_load_n(&table->nflows, __ATOMIC_RELAXED);
}
