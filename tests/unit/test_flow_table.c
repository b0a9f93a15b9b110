/* Flow table merge rules and rate math. */
#include <criterion/criterion.h>
#include <string.h>
#include "snapshot_builder.h"
#include "flow_table.h"
#include "time_limit.h"

TestSuite(rate, .timeout = UNIT_TIME_LIMIT_S);

static struct flow_table *table;

static void setup(void)
{
	urcu_memb_register_thread();
	table = flow_table_new();
	cr_assert_not_null(table);
}

static void teardown(void)
{
	flow_table_destroy(table);
	urcu_memb_unregister_thread();
}

static struct flow_value tcp_value(uint64_t tx, uint64_t rx, uint32_t tgid, const char *comm)
{
	struct flow_value v;

	memset(&v, 0, sizeof(v));
	v.id.proto = TCPTOP_PROTO_TCP;
	v.id.family = TCPTOP_AF_INET;
	v.id.lport = 80;
	v.id.tgid = tgid;
	strncpy(v.id.comm, comm, sizeof(v.id.comm) - 1);
	v.counters.tx_bytes = tx;
	v.counters.rx_bytes = rx;
	v.counters.state = TCPTOP_TCP_ESTABLISHED;
	return v;
}

/* A UDP flow's value: the same counts, proto UDP. */
static struct flow_value udp_value(void)
{
	struct flow_value v = tcp_value(1, 1, 1, "x");

	v.id.proto = TCPTOP_PROTO_UDP;
	return v;
}

struct search {
	uint64_t cookie;
	struct flow_node *found;
};

static bool look_for(struct flow_node *node, void *arg)
{
	struct search *s = arg;

	if (node->key.cookie == s->cookie)
		s->found = node;
	return !s->found;
}

static struct flow_node *find(uint64_t cookie)
{
	struct search s = { cookie, NULL };

	flow_table_each(table, look_for, &s);
	return s.found;
}

TestSuite(flow_table, .init = setup, .fini = teardown, .timeout = UNIT_TIME_LIMIT_S);

Test(flow_table, merge_inserts_flow_on_first_sight)
{
	struct flow_key key = { .cookie = 7 };
	struct flow_value v = tcp_value(100, 50, 42, "curl");

	flow_table_merge(table, &key, &v, 1000);
	cr_assert_eq(flow_table_count(table), 1);
	cr_assert_eq(find(7)->counts.tx_bytes, 100);
	cr_assert_eq(find(7)->counts.rx_bytes, 50);
	cr_assert_eq(find(7)->first_seen_ns, 1000);
	cr_assert_str_eq(find(7)->identity->id.comm, "curl");
}

Test(flow_table, merge_replaces_counters_with_cumulative_values)
{
	struct flow_key key = { .cookie = 7 };
	struct flow_value v = tcp_value(100, 50, 42, "curl");

	flow_table_merge(table, &key, &v, 1000);
	v.counters.tx_bytes = 300;
	flow_table_merge(table, &key, &v, 2000);
	cr_assert_eq(find(7)->counts.tx_bytes, 300, "cumulative counters must not be added twice");
	cr_assert_eq(find(7)->counts.last_active_ns, 2000);
	cr_assert_eq(find(7)->first_seen_ns, 1000);
}

Test(flow_table, unchanged_counters_do_not_refresh_activity)
{
	struct flow_key key = { .cookie = 7 };
	struct flow_value v = tcp_value(100, 50, 42, "curl");

	flow_table_merge(table, &key, &v, 1000);
	flow_table_merge(table, &key, &v, 5000);
	cr_assert_eq(find(7)->counts.last_active_ns, 1000);
}

Test(flow_table, peers_of_one_socket_are_separate_flows)
{
	struct flow_key a = { .cookie = 9, .peer_port = 53, .peer_family = TCPTOP_AF_INET };
	struct flow_key b = a;
	struct flow_value v = tcp_value(1, 1, 1, "dns");

	b.peer_port = 54;
	flow_table_merge(table, &a, &v, 1);
	flow_table_merge(table, &b, &v, 1);
	cr_assert_eq(flow_table_count(table), 2);
}

Test(flow_table, closed_flow_ignores_later_merges)
{
	struct flow_key key = { .cookie = 7 };
	struct flow_value v = tcp_value(100, 50, 42, "curl");

	v.counters.state = TCPTOP_TCP_CLOSE;
	flow_table_close(table, &key, &v, 1000);
	v.counters.tx_bytes = 90; /* a stale drain racing the close */
	v.counters.state = TCPTOP_TCP_ESTABLISHED;
	flow_table_merge(table, &key, &v, 2000);
	cr_assert_eq(find(7)->counts.tx_bytes, 100);
	cr_assert_eq(find(7)->counts.state, TCPTOP_TCP_CLOSE);
	cr_assert(find(7)->counts.closed);
}

Test(flow_table, record_without_owner_keeps_known_owner)
{
	struct flow_key key = { .cookie = 7 };
	struct flow_value v = tcp_value(100, 50, 42, "nginx");

	flow_table_merge(table, &key, &v, 1000);
	v = tcp_value(200, 50, 0, "");
	flow_table_merge(table, &key, &v, 2000);
	cr_assert_eq(find(7)->identity->id.tgid, 42);
	cr_assert_str_eq(find(7)->identity->id.comm, "nginx");
	cr_assert_eq(find(7)->counts.tx_bytes, 200);
}

Test(flow_table, new_owner_replaces_identity)
{
	struct flow_key key = { .cookie = 7 };
	struct flow_value v = tcp_value(100, 50, 42, "nginx");

	flow_table_merge(table, &key, &v, 1000);
	v = tcp_value(100, 60, 43, "worker");
	flow_table_merge(table, &key, &v, 2000);
	cr_assert_eq(find(7)->identity->id.tgid, 43);
	cr_assert_str_eq(find(7)->identity->id.comm, "worker");
}

Test(flow_table, set_owner_fills_only_unowned_flows)
{
	struct flow_key a = { .cookie = 1 }, b = { .cookie = 2 };
	struct flow_value owned = tcp_value(0, 0, 42, "sshd"), unowned = tcp_value(0, 0, 0, "");
	char comm[TCPTOP_COMM_LEN] = "walker";

	flow_table_merge(table, &a, &owned, 1);
	flow_table_merge(table, &b, &unowned, 1);
	flow_table_set_owner(table, 1, 99, comm);
	flow_table_set_owner(table, 2, 99, comm);
	cr_assert_eq(find(1)->identity->id.tgid, 42);
	cr_assert_eq(find(2)->identity->id.tgid, 99);
	cr_assert_str_eq(find(2)->identity->id.comm, "walker");
}

Test(flow_table, owner_found_by_walk_applies_to_flow_seen_later)
{
	struct flow_key key = { .cookie = 5, .peer_port = 53, .peer_family = TCPTOP_AF_INET };
	struct flow_value v = tcp_value(10, 0, 0, "");
	char first[TCPTOP_COMM_LEN] = "first", second[TCPTOP_COMM_LEN] = "second";

	flow_table_set_owner(table, 5, 77, first);
	flow_table_set_owner(table, 5, 78, second);
	flow_table_merge(table, &key, &v, 1);
	cr_assert_eq(find(5)->identity->id.tgid, 77, "the first owner found wins");
}

Test(flow_table, owner_walk_gives_existing_peer_flows_their_socket_owner)
{
	struct flow_key peer = { .cookie = 6, .peer_port = 53, .peer_family = TCPTOP_AF_INET };
	struct flow_key other = { .cookie = 7, .peer_port = 53, .peer_family = TCPTOP_AF_INET };
	struct flow_value v = tcp_value(0, 0, 0, "");
	char comm[TCPTOP_COMM_LEN] = "resolver";

	flow_table_merge(table, &peer, &v, 1);
	flow_table_merge(table, &other, &v, 1);
	flow_table_begin_owner_walk(table);
	flow_table_set_owner(table, 6, 55, comm);
	cr_assert_eq(find(6)->identity->id.tgid, 0, "a peer flow is not found by its cookie");
	flow_table_end_owner_walk(table);
	cr_assert_eq(find(6)->identity->id.tgid, 55);
	cr_assert_str_eq(find(6)->identity->id.comm, "resolver");
	cr_assert_eq(find(7)->identity->id.tgid, 0, "no owner found for this socket");
}

Test(flow_table, each_owner_walk_replaces_the_last_ones_owners)
{
	struct flow_key key = { .cookie = 8, .peer_port = 53, .peer_family = TCPTOP_AF_INET };
	struct flow_value v = tcp_value(1, 0, 0, "");
	char old[TCPTOP_COMM_LEN] = "old", new[TCPTOP_COMM_LEN] = "new";

	flow_table_begin_owner_walk(table);
	flow_table_set_owner(table, 8, 70, old);
	flow_table_end_owner_walk(table);
	flow_table_begin_owner_walk(table);
	flow_table_set_owner(table, 8, 71, new);
	flow_table_end_owner_walk(table);
	flow_table_merge(table, &key, &v, 1);
	cr_assert_eq(find(8)->identity->id.tgid, 71, "the latest walk's holder");
}

Test(flow_table, sweep_removes_closed_flows_once_shown)
{
	struct flow_key a = { .cookie = 1 }, b = { .cookie = 2 };
	struct flow_value v = tcp_value(1, 1, 1, "x");

	flow_table_close(table, &a, &v, 1);
	flow_table_close(table, &b, &v, 1);
	find(1)->view.close_shown = 1;
	flow_table_sweep_closed(table, false, NULL, NULL);
	cr_assert_eq(flow_table_count(table), 1);
	cr_assert_null(find(1));
	cr_assert_not_null(find(2), "a closed flow stays until a snapshot has carried it");
}

/* A swept node comes back a grace period later as the next new flow's, every field as a
 * new node's: nothing of the flow it was. */
Test(flow_table, a_swept_node_is_reused_whole_for_a_new_flow)
{
	struct flow_key a = { .cookie = 1 }, b = { .cookie = 2 };
	struct flow_value v = tcp_value(100, 200, 7, "old");
	struct flow_value w = tcp_value(5, 6, 8, "new");
	struct flow_node *gone, *reused;

	flow_table_merge(table, &a, &v, 1);
	flow_table_close(table, &a, &v, 2);
	gone = find(1);
	gone->view.close_shown = 1;
	gone->view.prev_valid = true;
	flow_table_sweep_closed(table, false, NULL, NULL);
	urcu_memb_barrier(); /* its grace period is over, its callback has run */
	flow_table_merge(table, &b, &w, 3);
	reused = find(2);
	cr_assert_eq(reused, gone, "the swept node is the new flow's");
	cr_assert_eq(reused->counts.tx_bytes, 5);
	cr_assert_eq(reused->counts.closed, 0);
	cr_assert_not(reused->view.prev_valid);
	cr_assert_not(reused->view.close_shown);
	cr_assert_eq(reused->view.row_index, FLOW_NO_ROW);
	cr_assert_null(reused->books.closed_next);
	cr_assert_str_eq(reused->identity->id.comm, "new");
	cr_assert_eq(flow_table_count(table), 1);
}

TestSuite(identity, .timeout = UNIT_TIME_LIMIT_S);

/* An identity made from spares goes back at its last put, in whichever thread, and is
 * the next one made; one made without spares is freed (ASan would report a reuse). */
Test(identity, the_last_put_of_a_recycled_identity_makes_it_the_next_one)
{
	struct spares spares = flow_identity_spares();
	struct flow_identity a = { .tgid = 1 }, b = { .tgid = 2 };
	struct flow_identity_rcu *first = flow_identity_new_from(&spares, &a), *second;

	cr_assert_not_null(first);
	flow_identity_hold(&first->id); /* a row's */
	flow_identity_put(&first->id);
	second = flow_identity_new_from(&spares, &b);
	cr_assert_neq(second, first, "a held identity is not reused");
	flow_identity_put(&first->id); /* the last */
	flow_identity_put(&second->id);
	/* Both came back, the second pushed last: taken whole, the first is on top. */
	cr_assert_eq(flow_identity_new_from(&spares, &b), first);
	cr_assert_eq(first->id.tgid, 2);
	cr_assert_eq(spares.count, 1);
	flow_identity_put(&first->id);
	spares_free(&spares);
	cr_assert_null(spares.head);
}

/* A backend's slot is reused by another flow once the first closes, and may be named for
 * a flow it no longer holds: the key decides, and a swept flow is not found there. */
Test(flow_table, a_place_found_by_key_whichever_flow_it_holds)
{
	struct flow_key a = { .cookie = 1 }, b = { .cookie = 2 };
	struct flow_value v1 = tcp_value(10, 1, 1, "x"), v2 = tcp_value(20, 2, 1, "x");

	flow_table_merge_at(table, 3, &a, &v1, 1);
	flow_table_merge_at(table, 3, &a, &v2, 2);
	cr_assert_eq(flow_table_count(table), 1);
	cr_assert_eq(find(1)->counts.tx_bytes, 20);
	flow_table_merge_at(table, 3, &b, &v1, 3);
	cr_assert_eq(flow_table_count(table), 2, "another flow at the same place");
	flow_table_merge_at(table, 3, &a, &v1, 4);
	cr_assert_eq(flow_table_count(table), 2);
	cr_assert_eq(find(1)->counts.tx_bytes, 10, "found by its key");
	cr_assert_eq(find(2)->counts.tx_bytes, 10);
	flow_table_close(table, &a, &v2, 5);
	find(1)->view.close_shown = 1;
	flow_table_sweep_closed(table, false, NULL, NULL);
	flow_table_merge_at(table, 3, &b, &v2, 6);
	cr_assert_eq(find(2)->counts.tx_bytes, 20);
	flow_table_merge_at(table, 3, &a, &v2, 7);
	cr_assert_eq(flow_table_count(table), 2, "a swept flow seen again is a new one");
	cr_assert_eq(find(1)->first_seen_ns, 7);
	flow_table_merge_at(table, 100000, &b, &v1, 8);
	cr_assert_eq(find(2)->counts.tx_bytes, 10, "a flow that moved to another place");
	flow_table_merge_at(table, 3, &b, &v2, 9);
	cr_assert_eq(find(2)->counts.tx_bytes, 20);
}

/* A connection born after the start-up walk and closed before any drain read its slot
 * (TCPTOP_BORN_IN_SLOT, its place empty) never enters the hash table: not counted, yet
 * walked, shown once, swept; a drain's late copy of its slot finds it closed. */
Test(flow_table, a_flow_closed_before_any_drain_stays_out_of_the_hash)
{
	struct flow_key a = { .cookie = 1 }, b = { .cookie = 2 }, c = { .cookie = 3 };
	struct flow_value v = tcp_value(64, 64, 1, "x");
	struct drain_stamp s1 = { .generation = 1, .mono_ns = 1 },
			   s2 = { .generation = 2, .mono_ns = 2 };
	struct snapshot *snap;

	v.counters.state = TCPTOP_TCP_CLOSE;
	v.counters.flags = TCPTOP_BORN_IN_SLOT;
	flow_table_close_at(table, 5, &a, &v, 1);
	flow_table_close_at(table, 6, &b, &v, 1);
	flow_table_close_at(table, 7, &c, &v, 1);
	cr_assert_eq(flow_table_count(table), 0, "none of them in the hash");
	cr_assert_not_null(find(1));
	cr_assert_not_null(find(3));
	flow_table_merge_at(table, 5, &a, &v, 2);
	cr_assert_eq(flow_table_count(table), 0, "a late copy of its slot adds nothing");
	/* The middle one goes first: the list stays whole around it. */
	find(2)->view.close_shown = 1;
	flow_table_sweep_closed(table, false, NULL, NULL);
	cr_assert_null(find(2));
	cr_assert_not_null(find(1));
	cr_assert_not_null(find(3));
	snap = snapshot_build_once(table, &s2, &s1);
	cr_assert_eq(snap->nrows, 2);
	for (size_t i = 0; i < snap->nrows; i++) {
		cr_assert(snap->rows[i].closed);
		cr_assert_eq(snap->rows[i].tx_bytes, 64);
	}
	snapshot_release(snap);
	flow_table_sweep_closed(table, false, NULL, NULL);
	cr_assert_null(find(1), "shown, then swept");
	cr_assert_null(find(3));
	flow_table_close_at(table, 8, &b, &v, 3);
	cr_assert_not_null(find(2), "the list takes new flows after it emptied");
}

/* A slot's next flow may be merged from its place before the close record of the one
 * before is read: the one before, merged from there earlier, lost its place and is in
 * the hash, where its close must find it (not make a second, unhashed flow); the next
 * flow's close finds its own. One never merged closes unhashed even then. */
Test(flow_table, a_close_after_the_place_was_taken_goes_through_the_hash)
{
	struct flow_key old = { .cookie = 1 }, next = { .cookie = 2 }, never = { .cookie = 3 };
	struct flow_value open = tcp_value(10, 10, 1, "x"), closed = tcp_value(64, 64, 1, "x");

	closed.counters.state = TCPTOP_TCP_CLOSE;
	closed.counters.flags = open.counters.flags = TCPTOP_BORN_IN_SLOT;
	flow_table_merge_at(table, 5, &old, &open, 1);
	flow_table_merge_at(table, 5, &next, &open, 2);
	flow_table_close_at(table, 5, &old, &closed, 3);
	cr_assert_eq(flow_table_count(table), 2, "no second flow of the old one");
	cr_assert_eq(find(1)->counts.tx_bytes, 64, "the old flow closed where it was");
	cr_assert(find(1)->counts.closed);
	flow_table_close_at(table, 5, &next, &closed, 4);
	cr_assert_eq(flow_table_count(table), 2);
	cr_assert(find(2)->counts.closed, "the next flow closed, not copied");
	flow_table_merge_at(table, 6, &old, &open, 5);
	flow_table_close_at(table, 6, &never, &closed, 6);
	cr_assert_eq(flow_table_count(table), 2, "never merged: out of the hash");
	cr_assert(find(3)->counts.closed);
}

static void count_key(const struct flow_key *key, void *ctx)
{
	*(uint64_t *)ctx += key->cookie;
}

Test(flow_table, idle_udp_flows_are_listed_and_tcp_ones_are_not)
{
	struct flow_key u1 = { .cookie = 1 }, u2 = { .cookie = 2 }, t = { .cookie = 4 };
	struct flow_value v = tcp_value(1, 1, 1, "x");
	uint64_t sum = 0;

	flow_table_merge(table, &t, &v, 100);
	v.id.proto = TCPTOP_PROTO_UDP;
	flow_table_merge(table, &u1, &v, 100);
	flow_table_merge(table, &u2, &v, 900);
	flow_table_for_each_idle_udp(table, 500, count_key, &sum);
	cr_assert_eq(sum, 1, "only the UDP flow idle since before 500 (cookie 1)");
}

Test(flow_table, idle_udp_flows_are_listed_oldest_first_and_activity_moves_them_back)
{
	struct flow_key u1 = { .cookie = 1 }, u2 = { .cookie = 2 }, u3 = { .cookie = 3 };
	struct flow_value v = udp_value();
	uint64_t sum = 0;

	flow_table_merge(table, &u1, &v, 100);
	flow_table_merge(table, &u2, &v, 200);
	flow_table_merge(table, &u3, &v, 300);
	v.counters.tx_bytes = 2;
	flow_table_merge(table, &u1, &v, 400); /* u1 sends again */
	flow_table_for_each_idle_udp(table, 350, count_key, &sum);
	cr_assert_eq(sum, 2 + 3, "u2 and u3 are idle since before 350, u1 is not");
}

Test(flow_table, merge_with_an_older_time_keeps_the_idle_order)
{
	struct flow_key u1 = { .cookie = 1 }, u2 = { .cookie = 2 };
	struct flow_value v = udp_value();
	uint64_t sum = 0;

	flow_table_merge(table, &u1, &v, 900);
	flow_table_merge(table, &u2, &v, 100); /* e.g. a close record stamped earlier */
	flow_table_for_each_idle_udp(table, 500, count_key, &sum);
	cr_assert_eq(sum, 2, "the older flow is found although it came last");
}

static void close_key(const struct flow_key *key, void *ctx)
{
	flow_table_mark_closed(table, key);
	*(uint64_t *)ctx += key->cookie;
}

Test(flow_table, expired_udp_flow_is_listed_once)
{
	struct flow_key u1 = { .cookie = 1 }, u2 = { .cookie = 2 };
	struct flow_value v = udp_value();
	uint64_t sum = 0;

	flow_table_merge(table, &u1, &v, 100);
	flow_table_merge(table, &u2, &v, 200);
	flow_table_for_each_idle_udp(table, 500, close_key, &sum);
	cr_assert_eq(sum, 3, "both listed while the callback closes them");
	flow_table_for_each_idle_udp(table, 500, close_key, &sum);
	cr_assert_eq(sum, 3, "closed flows no longer expire");
}

static size_t published_changes(uint64_t generation, struct flow_changes *changes)
{
	struct drain_stamp stamp = { .generation = generation, .mono_ns = generation };

	flow_table_publish_stamp(table, &stamp);
	flow_table_read_changes(table, changes);
	return changes->count;
}

Test(flow_table, a_drain_publishes_each_flow_it_changed_once)
{
	struct flow_key a = { .cookie = 1 }, b = { .cookie = 2 };
	struct flow_value v = tcp_value(1, 1, 1, "x");
	struct flow_changes changes;

	flow_table_merge(table, &a, &v, 1);
	flow_table_merge(table, &b, &v, 1);
	v.counters.tx_bytes = 5;
	flow_table_merge(table, &a, &v, 1);
	cr_assert_eq(published_changes(1, &changes), 2, "two new flows, each once");
	cr_assert(changes.complete);
	cr_assert_eq(changes.generation, 1);
	cr_assert_eq(changes.since_generation, 0);
	v.counters.tx_bytes = 6;
	flow_table_merge(table, &b, &v, 2);
	cr_assert_eq(published_changes(2, &changes), 1);
	cr_assert_eq(changes.nodes[0]->key.cookie, 2);
	cr_assert_eq(changes.since_generation, 1);
}

Test(flow_table, unchanged_record_is_not_a_change_but_a_new_state_or_owner_is)
{
	struct flow_key key = { .cookie = 1 };
	struct flow_value v = tcp_value(1, 1, 0, "");
	struct flow_changes changes;
	char comm[TCPTOP_COMM_LEN] = "walker";

	flow_table_merge(table, &key, &v, 1);
	published_changes(1, &changes);
	flow_table_merge(table, &key, &v, 2);
	cr_assert_eq(published_changes(2, &changes), 0);
	v.counters.state = TCPTOP_TCP_CLOSE;
	flow_table_merge(table, &key, &v, 3);
	cr_assert_eq(published_changes(3, &changes), 1, "state");
	flow_table_set_owner(table, 1, 99, comm);
	cr_assert_eq(published_changes(4, &changes), 1, "owner");
	flow_table_mark_closed(table, &key);
	cr_assert_eq(published_changes(5, &changes), 1, "closed");
}

Test(flow_table, swept_flow_leaves_a_hole_in_the_pending_changes)
{
	struct flow_key key = { .cookie = 1 };
	struct flow_value v = tcp_value(1, 1, 1, "x");
	struct flow_changes changes;

	flow_table_close(table, &key, &v, 1);
	find(1)->view.close_shown = 1;
	flow_table_sweep_closed(table, false, NULL, NULL);
	cr_assert_eq(published_changes(1, &changes), 1);
	cr_assert_null(changes.nodes[0], "no pointer to a freed flow");
}

Test(rate, is_bytes_per_second_over_measured_time)
{
	cr_assert_float_eq(snapshot_rate(3000, 1000, 500000000ULL), 4000.0, 1e-9);
}

Test(rate, is_zero_for_idle_flow)
{
	cr_assert_float_eq(snapshot_rate(1000, 1000, 1000000000ULL), 0.0, 1e-12);
}

Test(rate, is_zero_without_elapsed_time)
{
	cr_assert_float_eq(snapshot_rate(5000, 1000, 0), 0.0, 1e-12);
}

Test(flow_table, snapshot_rates_use_previous_counts_and_measured_interval)
{
	struct flow_key key = { .cookie = 7 };
	struct flow_value v = tcp_value(1000, 0, 1, "x");
	struct drain_stamp s1 = { .generation = 1, .mono_ns = 1000000000ULL };
	struct drain_stamp s2 = { .generation = 2, .mono_ns = 1250000000ULL };
	struct drain_stamp s3 = { .generation = 3, .mono_ns = 1750000000ULL };
	struct snapshot *snap;

	flow_table_merge(table, &key, &v, s1.mono_ns);
	snap = snapshot_build_once(table, &s2, &s1);
	cr_assert_eq(snap->nrows, 1);
	cr_assert_float_eq(snap->rows[0].tx_rate, 4000.0, 1e-6, "first sight: all bytes are new");
	snapshot_release(snap);
	v.counters.tx_bytes = 3000;
	flow_table_merge(table, &key, &v, s3.mono_ns);
	snap = snapshot_build_once(table, &s3, &s2);
	cr_assert_float_eq(snap->rows[0].tx_rate, 4000.0, 1e-6, "2000 bytes in 0.5 s");
	cr_assert_float_eq(snap->rows[0].age_s, 0.75, 1e-9);
	cr_assert_float_eq(snap->interval_s, 0.5, 1e-9);
	cr_assert_eq(snap->totals.tcp_flows, 1);
	snapshot_release(snap);
}

Test(flow_table, closed_flow_appears_in_one_snapshot_then_is_swept)
{
	struct flow_key key = { .cookie = 7 };
	struct flow_value v = tcp_value(1000, 0, 1, "x");
	struct drain_stamp s1 = { .generation = 1, .mono_ns = 1 }, s2 = { .generation = 2,
									  .mono_ns = 2 };
	struct snapshot *snap;

	v.counters.state = TCPTOP_TCP_CLOSE;
	flow_table_close(table, &key, &v, 1);
	snap = snapshot_build_once(table, &s2, &s1);
	cr_assert_eq(snap->nrows, 1);
	cr_assert(snap->rows[0].closed);
	cr_assert_eq(snap->rows[0].tx_bytes, 1000, "final counts are shown");
	snapshot_release(snap);
	flow_table_sweep_closed(table, false, NULL, NULL);
	cr_assert_eq(flow_table_count(table), 0);
}

/* A flow that ends in the interval it first moved bytes keeps no window buckets, yet its
 * row's averages are those of an open flow that moved the same bytes. */
Test(flow_table, a_flow_closed_in_its_first_interval_averages_like_an_open_one)
{
	struct flow_key open_key = { .cookie = 1 }, closed_key = { .cookie = 2 };
	struct flow_value v = tcp_value(1000, 500, 1, "x");
	struct drain_stamp s1 = { .generation = 1, .mono_ns = 1000000000ULL },
			   s2 = { .generation = 2, .mono_ns = 1250000000ULL };
	const struct flow_row *rows[2];
	struct snapshot *snap;

	flow_table_merge(table, &open_key, &v, 1000000000ULL);
	v.counters.state = TCPTOP_TCP_CLOSE;
	flow_table_close(table, &closed_key, &v, 1000000000ULL);
	snap = snapshot_build_once(table, &s2, &s1);
	cr_assert_eq(snap->nrows, 2);
	for (size_t i = 0; i < 2; i++)
		rows[snap->rows[i].key.cookie - 1] = &snap->rows[i];
	cr_assert(rows[1]->closed);
	cr_assert_null(find(2)->view.win, "no buckets kept for a flow that is gone");
	cr_assert_not_null(find(1)->view.win);
	for (int w = 0; w < 3; w++) {
		cr_assert_gt(rows[0]->tx_rate_win[w], 0.0f);
		cr_assert_float_eq(rows[1]->tx_rate_win[w], rows[0]->tx_rate_win[w], 1e-3);
		cr_assert_float_eq(rows[1]->rx_rate_win[w], rows[0]->rx_rate_win[w], 1e-3);
	}
	snapshot_release(snap);
}

Test(flow_table, age_counts_from_the_kernels_first_sight)
{
	struct flow_key key = { .cookie = 7 };
	struct flow_value v = tcp_value(1000, 0, 1, "x");
	struct drain_stamp s1 = { .generation = 1, .mono_ns = 1000000000ULL };
	struct drain_stamp s2 = { .generation = 2, .mono_ns = 2000000000ULL };
	struct snapshot *snap;

	v.id.first_seen_ns = 1500000000ULL; /* seen by the kernel 0.5 s before the drain */
	flow_table_merge(table, &key, &v, s2.mono_ns);
	snap = snapshot_build_once(table, &s2, &s1);
	cr_assert_float_eq(snap->rows[0].age_s, 0.5, 1e-9);
	snapshot_release(snap);
}

Test(flow_table, walked_flow_without_kernel_time_is_as_old_as_its_first_drain)
{
	struct flow_key key = { .cookie = 7 };
	struct flow_value v = tcp_value(0, 0, 1, "x");

	flow_table_merge(table, &key, &v, 3000);
	cr_assert_eq(find(7)->first_seen_ns, 3000);
	v.id.first_seen_ns = 2500; /* a later record never makes the flow younger or older */
	flow_table_merge(table, &key, &v, 4000);
	cr_assert_eq(find(7)->first_seen_ns, 3000);
}
