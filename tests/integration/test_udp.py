"""UDP flows: one row per (socket, remote peer), exact datagram and byte counts."""

import time

import pytest

from tcptop_run import (TEST_HOOKS, assert_owner, flow_map_size, held_array_entry,
                        held_map_entries, running_tcptop, udp_read_without_address)

LOOPBACK = {4: "127.0.0.1", 6: "::1"}
# A second local address, so two peers differ by address as well as port.
SECOND = {4: "127.0.0.2", 6: "::1"}


def check_udp_row(row, agent):
    assert row["proto"] == "UDP", row
    assert row["state"] == "-", row
    assert row["rtt_us"] is None, row
    assert_owner(row, agent)


@pytest.mark.parametrize("family", [4, 6], ids=["v4", "v6"])
def test_udp_recvfrom_on_unconnected_socket_gives_one_row_per_peer(tcptop, agents, family):
    """One socket receives 5x100 bytes from peer A and 3x200 from peer B with recvfrom():
    two rows with the peers' addresses and exact counts; the senders' rows match."""
    receiver, sender = agents.new("rcv"), agents.new("snd")
    sock = receiver.call("udp_socket", family=family, host=LOOPBACK[family])
    peer_a = sender.call("udp_socket", family=family, host=LOOPBACK[family])
    peer_b = sender.call("udp_socket", family=family, host=SECOND[family])
    run = running_tcptop(tcptop, receiver)

    sender.call("udp_sendto", sid=peer_a["sid"], host=LOOPBACK[family], port=sock["port"],
                size=100, count=5)
    sender.call("udp_sendto", sid=peer_b["sid"], host=LOOPBACK[family], port=sock["port"],
                size=200, count=3)
    got = receiver.call("udp_recvfrom", sid=sock["sid"], count=8)["datagrams"]
    assert sorted(d[2] for d in got) == [100] * 5 + [200] * 3
    snap = run.wait_after(time.time())

    from_a = snap.one(proto="UDP", lport=sock["port"], raddr=peer_a["addr"],
                      rport=peer_a["port"])
    from_b = snap.one(proto="UDP", lport=sock["port"], raddr=peer_b["addr"],
                      rport=peer_b["port"])
    for row, packets, nbytes in ((from_a, 5, 500), (from_b, 3, 600)):
        check_udp_row(row, receiver)
        assert row["laddr"] == sock["addr"], row
        assert (row["rx_packets"], row["rx_bytes"]) == (packets, nbytes), row
        assert (row["tx_packets"], row["tx_bytes"]) == (0, 0), row

    to_a = snap.one(proto="UDP", lport=peer_a["port"], raddr=sock["addr"], rport=sock["port"])
    to_b = snap.one(proto="UDP", lport=peer_b["port"], raddr=sock["addr"], rport=sock["port"])
    for row, packets, nbytes in ((to_a, 5, 500), (to_b, 3, 600)):
        check_udp_row(row, sender)
        assert (row["tx_packets"], row["tx_bytes"]) == (packets, nbytes), row
    run.stop()


@pytest.mark.parametrize("family", [4, 6], ids=["v4", "v6"])
def test_udp_sendto_two_peers_from_one_socket_gives_two_rows(tcptop, agents, family):
    receiver, sender = agents.new("rcv"), agents.new("snd")
    dest_1 = receiver.call("udp_socket", family=family, host=LOOPBACK[family])
    dest_2 = receiver.call("udp_socket", family=family, host=SECOND[family])
    sock = sender.call("udp_socket", family=family, host=LOOPBACK[family])
    run = running_tcptop(tcptop, sender)

    sender.call("udp_sendto", sid=sock["sid"], host=dest_1["addr"], port=dest_1["port"],
                size=50, count=4)
    sender.call("udp_sendto", sid=sock["sid"], host=dest_2["addr"], port=dest_2["port"],
                size=70, count=6)
    receiver.call("udp_recvfrom", sid=dest_1["sid"], count=4)
    receiver.call("udp_recvfrom", sid=dest_2["sid"], count=6)
    snap = run.wait_after(time.time())

    row_1 = snap.one(proto="UDP", lport=sock["port"], raddr=dest_1["addr"], rport=dest_1["port"])
    row_2 = snap.one(proto="UDP", lport=sock["port"], raddr=dest_2["addr"], rport=dest_2["port"])
    for row, packets, nbytes in ((row_1, 4, 200), (row_2, 6, 420)):
        check_udp_row(row, sender)
        assert row["laddr"] == sock["addr"], row
        assert (row["tx_packets"], row["tx_bytes"]) == (packets, nbytes), row
        assert (row["rx_packets"], row["rx_bytes"]) == (0, 0), row
    for dest, packets, nbytes in ((dest_1, 4, 200), (dest_2, 6, 420)):
        row = snap.one(proto="UDP", lport=dest["port"], raddr=sock["addr"], rport=sock["port"])
        check_udp_row(row, receiver)
        assert (row["rx_packets"], row["rx_bytes"]) == (packets, nbytes), row
    run.stop()


@pytest.mark.parametrize("family", [4, 6], ids=["v4", "v6"])
def test_a_route_lookup_without_a_send_is_not_taken_for_another_sockets_datagrams(
        tcptop, agents, family):
    """The modern set learns an unconnected send's peer from its route lookup; a UDP
    connect makes one too and sends nothing. One thread connects socket a to dest_1, then
    sends on socket b, connected to dest_2 before: b's 3 datagrams are dest_2's, and a
    has no traffic."""
    receiver, sender = agents.new("rcv"), agents.new("snd")
    dest_1 = receiver.call("udp_socket", family=family, host=LOOPBACK[family])
    dest_2 = receiver.call("udp_socket", family=family, host=SECOND[family])
    a = sender.call("udp_socket", family=family, host=LOOPBACK[family])
    b = sender.call("udp_socket", family=family, host=LOOPBACK[family])
    sender.call("udp_connect", sid=b["sid"], host=dest_2["addr"], port=dest_2["port"])
    run = running_tcptop(tcptop, sender)

    sender.call("udp_connect", sid=a["sid"], host=dest_1["addr"], port=dest_1["port"])
    sender.call("udp_send", sid=b["sid"], size=40, count=3)
    receiver.call("udp_recvfrom", sid=dest_2["sid"], count=3)
    snap = run.wait_after(time.time())

    row = snap.one(proto="UDP", lport=b["port"])
    assert (row["raddr"], row["rport"]) == (dest_2["addr"], dest_2["port"]), row
    assert (row["tx_packets"], row["tx_bytes"]) == (3, 120), row
    assert not snap.find(proto="UDP", lport=a["port"], tx_packets=3), snap.rows
    assert not snap.find(proto="UDP", lport=dest_1["port"], rx_packets=3), snap.rows
    run.stop()


@pytest.mark.only_pass("auto", "the route lookup tracepoints are the modern set's")
def test_without_the_route_tracepoints_the_sendmsg_hooks_keep_sends_per_peer(
        tcptop, agents, monkeypatch):
    """TCPTOP_BREAK_HOOKS=route: the route lookup programs do not load; the modern set
    takes the cgroup sendmsg hooks instead, says so with -v, and an unconnected socket's
    sends to two peers are still two exact rows."""
    monkeypatch.setenv("TCPTOP_BREAK_HOOKS", "route")
    receiver, sender = agents.new("rcv"), agents.new("snd")
    dest_1 = receiver.call("udp_socket", family=4)
    dest_2 = receiver.call("udp_socket", family=4, host=SECOND[4])
    sock = sender.call("udp_socket", family=4)
    marker = sender.call("tcp_listen", family=4)
    run = tcptop("-d", "250ms", "-v")
    run.wait_row(proto="TCP", lport=marker["port"], state="LISTEN")

    for dest, count in ((dest_1, 2), (dest_2, 5)):
        sender.call("udp_sendto", sid=sock["sid"], host=dest["addr"], port=dest["port"],
                    size=30, count=count)
        receiver.call("udp_recvfrom", sid=dest["sid"], count=count)
    snap = run.wait_after(time.time())
    for dest, count in ((dest_1, 2), (dest_2, 5)):
        row = snap.one(proto="UDP", lport=sock["port"], raddr=dest["addr"], rport=dest["port"])
        assert (row["tx_packets"], row["tx_bytes"]) == (count, 30 * count), row
    run.stop()
    assert "cgroup sock_addr sendmsg/recvmsg on" in run.stderr, run.stderr
    assert "fib_table_lookup" not in run.stderr, run.stderr


@pytest.mark.parametrize("family", [4, 6], ids=["v4", "v6"])
def test_udp_connected_send_and_recv_counts_exact(tcptop, agents, family):
    """Two connected sockets: 7x123 bytes one way, 2x321 back, with send()/recv(); each
    socket is exactly one row, with its peer and exact counts."""
    one, two = agents.new("uc1"), agents.new("uc2")
    a = one.call("udp_socket", family=family, host=LOOPBACK[family])
    b = two.call("udp_socket", family=family, host=LOOPBACK[family])
    one.call("udp_connect", sid=a["sid"], host=b["addr"], port=b["port"])
    two.call("udp_connect", sid=b["sid"], host=a["addr"], port=a["port"])
    run = running_tcptop(tcptop, one)

    one.call("udp_send", sid=a["sid"], size=123, count=7)
    two.call("udp_recv", sid=b["sid"], count=7)
    two.call("udp_send", sid=b["sid"], size=321, count=2)
    one.call("udp_recv", sid=a["sid"], count=2)
    snap = run.wait_after(time.time())

    row_a = snap.one(proto="UDP", lport=a["port"])
    row_b = snap.one(proto="UDP", lport=b["port"])
    assert (row_a["raddr"], row_a["rport"]) == (b["addr"], b["port"]), row_a
    assert (row_b["raddr"], row_b["rport"]) == (a["addr"], a["port"]), row_b
    check_udp_row(row_a, one)
    check_udp_row(row_b, two)
    assert (row_a["tx_packets"], row_a["tx_bytes"], row_a["rx_packets"], row_a["rx_bytes"]) \
        == (7, 861, 2, 642), row_a
    assert (row_b["tx_packets"], row_b["tx_bytes"], row_b["rx_packets"], row_b["rx_bytes"]) \
        == (2, 642, 7, 861), row_b
    run.stop()


@pytest.mark.only_pass("auto", "compat reads every datagram's peer from its header: "
                       "test_hooks.py tests that instead")
def test_udp_recv_without_address_counts_into_unknown_peer_row(tcptop, agents):
    """recv() and read() on an unconnected socket pass no address: the datagrams count
    into the socket's row with empty raddr/rport, and into no per-peer row."""
    receiver, sender = agents.new("rcv"), agents.new("snd")
    run, snap, sock, peer = udp_read_without_address(tcptop, receiver, sender)

    row = snap.one(proto="UDP", lport=sock["port"], raddr=None)
    assert row["rport"] is None, row
    check_udp_row(row, receiver)
    assert (row["rx_packets"], row["rx_bytes"]) == (4, 360), row
    for other in snap.find(proto="UDP", lport=sock["port"], raddr=peer["addr"],
                           rport=peer["port"]):
        assert other["rx_packets"] == 0 and other["rx_bytes"] == 0, \
            "datagrams counted twice: %r and %r" % (row, other)
    sent = snap.one(proto="UDP", lport=peer["port"], raddr=sock["addr"], rport=sock["port"])
    assert (sent["tx_packets"], sent["tx_bytes"]) == (4, 360), sent
    run.stop()


def test_udp_v4_mapped_peer_is_shown_as_ipv4(tcptop, agents):
    """A dual-stack AF_INET6 socket sending to ::ffff:127.0.0.1 is an IPv4 flow."""
    receiver, sender = agents.new("rcv"), agents.new("snd")
    dest = receiver.call("udp_socket", family=4)
    sock = sender.call("udp_socket", family=6, host="::ffff:127.0.0.1", v6only=False)
    run = running_tcptop(tcptop, sender)
    sender.call("udp_sendto", sid=sock["sid"], host="::ffff:127.0.0.1", port=dest["port"],
                size=10, count=3)
    receiver.call("udp_recvfrom", sid=dest["sid"], count=3)
    snap = run.wait_after(time.time())
    row = snap.one(proto="UDP", lport=sock["port"], rport=dest["port"])
    assert row["laddr"] == "127.0.0.1" and row["raddr"] == "127.0.0.1", row
    assert (row["tx_packets"], row["tx_bytes"]) == (3, 30), row
    check_udp_row(row, sender)
    run.stop()


def test_udp_from_worker_thread_is_attributed_to_process_and_leader_name(tcptop, agents):
    receiver, sender = agents.new("rcv"), agents.new("snd")
    dest = receiver.call("udp_socket", family=4)
    sock = sender.call("udp_socket", family=4)
    run = running_tcptop(tcptop, sender)
    sender.call("in_thread", thread_name="worker_tx",
                request={"op": "udp_sendto", "sid": sock["sid"], "host": dest["addr"],
                         "port": dest["port"], "size": 40, "count": 3})
    receiver.call("in_thread", thread_name="worker_rx",
                  request={"op": "udp_recvfrom", "sid": dest["sid"], "count": 3})
    snap = run.wait_after(time.time())
    sent = snap.one(proto="UDP", lport=sock["port"], raddr=dest["addr"], rport=dest["port"])
    got = snap.one(proto="UDP", lport=dest["port"], raddr=sock["addr"], rport=sock["port"])
    assert (sent["tx_packets"], sent["tx_bytes"]) == (3, 120), sent
    assert (got["rx_packets"], got["rx_bytes"]) == (3, 120), got
    check_udp_row(sent, sender)
    check_udp_row(got, receiver)
    run.stop()


def test_idle_connected_udp_socket_from_before_start_shows_its_owner(tcptop, agents):
    """The start-up walk lists a connected UDP socket under its peer: the owner found by
    the walk of the processes' files reaches that row too, with no traffic at all."""
    owner = agents.new("udpo")
    sock = owner.call("udp_socket", family=4)
    owner.call("udp_connect", sid=sock["sid"], host="127.0.0.1", port=9)
    run = tcptop("-d", "250ms")
    _, row = run.wait_row(proto="UDP", lport=sock["port"], rport=9)
    assert_owner(row, owner)
    assert (row["tx_bytes"], row["rx_bytes"]) == (0, 0), row
    run.stop()


def slot_of(pid, lport, rport):
    """The modern set's slot holding the UDP flow lport -> rport, or None."""
    slots = [e["key"] for e in held_map_entries(pid, "flow_slots")
             if e["value"]["key"]["cookie"] and e["value"]["value"]["id"]["lport"] == lport
             and e["value"]["value"]["id"]["rport"] == rport]
    assert len(slots) <= 1, slots
    return slots[0] if slots else None


def slot_holder(pid, slot):
    """(lport, rport) of the flow in the modern set's slot, or None if it is free."""
    entry = held_array_entry(pid, "flow_slots", slot)
    assert entry["key"] == slot, entry
    if not entry["value"]["key"]["cookie"]:
        return None
    return entry["value"]["value"]["id"]["lport"], entry["value"]["value"]["id"]["rport"]


UDP_TIMEOUT_S = 1.0


def test_udp_thread_alternating_peers_then_back_after_expiry_counts_exact(
        flow_map_alone, tcptop, agents):
    """One thread sends to peers A and B in turn, a datagram at a time (each datagram
    another flow than the one before), A last; both flows expire (--udp-timeout), another
    process's new flows are made until one of them holds the slot A had (the modern set's
    slot array, read with bpftool), and the thread sends to A again. The modern set
    remembers per thread the flow it counted last and its place: that memory must neither
    mix A and B nor count A's new datagrams into a place A has lost."""
    receiver, sender, other = agents.new("rcv"), agents.new("alt"), agents.new("oth")
    dest_a = receiver.call("udp_socket", family=4, host="127.0.0.1")
    dest_b = receiver.call("udp_socket", family=4, host="127.0.0.2")
    sock = sender.call("udp_socket", family=4, host="127.0.0.1")
    spare = other.call("udp_socket", family=4, host="127.0.0.1")
    sink = receiver.call("udp_socket", family=4, host="0.0.0.0")
    marker = sender.call("tcp_listen", family=4)
    # A few thousand places: bpftool dumps the slot array quickly.
    run = tcptop("-d", "200ms", "--udp-timeout", "%dms" % (UDP_TIMEOUT_S * 1000),
                 "--max-flows", str(flow_map_size()))
    run.wait_row(proto="TCP", lport=marker["port"], state="LISTEN")

    for dest, size in ((dest_a, 11), (dest_b, 22)) * 3 + ((dest_a, 11),):
        sender.call("udp_sendto", sid=sock["sid"], host=dest["addr"], port=dest["port"],
                    size=size, count=1)
    snap = run.wait_after(time.time())
    row_a = snap.one(proto="UDP", lport=sock["port"], raddr=dest_a["addr"],
                     rport=dest_a["port"])
    row_b = snap.one(proto="UDP", lport=sock["port"], raddr=dest_b["addr"],
                     rport=dest_b["port"])
    assert (row_a["tx_packets"], row_a["tx_bytes"]) == (4, 44), row_a
    assert (row_b["tx_packets"], row_b["tx_bytes"]) == (3, 66), row_b
    modern = TEST_HOOKS != "compat"  # compat has no slots: an expired flow's entry goes
    if modern:
        slot_a = slot_of(run.proc.pid, sock["port"], dest_a["port"])
        assert slot_a is not None

    quiet = time.time()
    run.wait_for(lambda s: s.time > quiet + UDP_TIMEOUT_S + 0.2
                 and not s.find(proto="UDP", lport=sock["port"]),
                 timeout=10, what="the sender's flows forgotten")
    # A freed slot goes back to the queue of free ones an interval later, behind those
    # freed before it; new flows take them in order. (Earlier batches may expire meanwhile:
    # only the last one is checked.)
    made = 0
    for batch in range(16):
        addrs = set(other.call("udp_sendto_many", sid=spare["sid"], port=sink["port"],
                               count=256 if batch else 16, first=made, size=5)["addrs"])
        made += len(addrs)
        run.wait_after(time.time())
        if not modern:
            break
        holder = slot_holder(run.proc.pid, slot_a)
        if holder is not None:
            assert holder != (sock["port"], dest_a["port"]), "A still holds its slot"
            break
    else:
        raise AssertionError("slot %d, A's, not reused by %d new flows" % (slot_a, made))
    sender.call("udp_sendto", sid=sock["sid"], host=dest_a["addr"], port=dest_a["port"],
                size=33, count=2)
    snap = run.wait_after(time.time())
    again = snap.one(proto="UDP", lport=sock["port"], raddr=dest_a["addr"],
                     rport=dest_a["port"])
    assert (again["tx_packets"], again["tx_bytes"]) == (2, 66), again
    taken = [r for r in snap.find(proto="UDP", lport=spare["port"], rport=sink["port"])
             if r["raddr"] in addrs]
    assert {r["raddr"] for r in taken} == addrs, taken
    assert all((r["tx_packets"], r["tx_bytes"]) == (1, 5) for r in taken), taken
    run.stop()
