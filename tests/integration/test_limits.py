"""Limits: a flow map too small for the host's flows says so on stderr and goes on; closed
connections and expired UDP flows make room.

The map holds every flow tcptop sees, in every network namespace, other tests' and other
programs' included, and they come and go while a test runs. So each test sizes the map
from what tcptop itself counted a moment before (not from ss, which sees one namespace),
plus FLOW_ROOM; each runs alone (flow_map_alone: it makes thousands of flows, which
would fill the room of any other test's map); a test that must overflow the map
overflows it with its own flows alone; and every row it checks is one of its own
(tcptop shows only the test's process, -p, whose TCP listener is a row in every
snapshot).
"""

import time

from tcptop_run import FLOW_ROOM, assert_owner, assert_transfer_counted, flow_map_size
from traffic import TcpPair


def refusals(stderr):
    full = [line for line in stderr.splitlines() if "flow map full" in line]
    assert all(line.startswith("tcptop: ") and "--max-flows" in line for line in full), full
    return full


def test_full_flow_map_is_reported_on_stderr_and_tracked_flows_stay_exact(flow_map_alone,
                                                                          tcptop, agents):
    """More peers than the whole map holds, from one socket: some of its flows get a
    place, not all; each placed one has its exact datagram; stderr says the map is full."""
    sender = agents.new("snd")
    marker = sender.call("tcp_listen", family=4)
    sink = sender.call("udp_socket", family=4, host="0.0.0.0")
    sock = sender.call("udp_socket", family=4, host="127.0.0.1")
    max_flows = flow_map_size()
    peers = max_flows + 100
    run = tcptop("-d", "250ms", "--max-flows", str(max_flows), "-p", str(sender.pid))
    run.wait_row(proto="TCP", lport=marker["port"], state="LISTEN")

    addrs = set(sender.call("udp_sendto_many", sid=sock["sid"], port=sink["port"],
                            count=peers, size=10)["addrs"])
    snap = run.wait_after(time.time())
    ours = snap.find(proto="UDP", lport=sock["port"], rport=sink["port"])
    assert 0 < len(ours) < peers, "the map holds some of the peers, not all: %d" % len(ours)
    for row in ours:
        assert row["raddr"] in addrs, row
        assert_owner(row, sender)
        assert (row["tx_packets"], row["tx_bytes"]) == (1, 10), row
    run.stop()
    assert refusals(run.stderr), "no flow-map-full line on stderr: %r" % run.stderr


def test_closed_tcp_connections_give_their_place_to_new_ones(flow_map_alone, tcptop,
                                                             agents):
    """Twice as many TCP sockets over time as --max-flows holds at once: each close frees
    its place (the modern set's slot, the compat set's map entry), so none is refused and
    the last connection's counts are exact. The connections come in batches, each one
    seen by a snapshot before the next, as a busy server's would over many intervals."""
    peer = agents.new("slot")
    max_flows = flow_map_size()
    pair = TcpPair(peer, peer, connect=False)
    run = tcptop("-d", "250ms", "--max-flows", str(max_flows), "-p", str(peer.pid))
    run.wait_row(proto="TCP", lport=pair.port, state="LISTEN")
    left = max_flows
    while left > 0:
        batch = min(left, 512)
        peer.call("tcp_churn", sid=pair.listen_sid, count=batch, up=100, down=200,
                  timeout=60)
        # Two snapshots: a place whose close found the ring full comes back one drain
        # after the drain that sees the close.
        run.wait_after(time.time())
        run.wait_after(time.time())
        assert not refusals(run.stderr), "%d connections to go: %s" % (left, run.stderr)
        left -= batch
    pair.connect()
    assert_transfer_counted(run, pair, 1234, 4321, peer)
    run.stop()
    assert not refusals(run.stderr), run.stderr


WAVES = 5


def test_expired_udp_flows_give_their_place_to_new_ones(flow_map_alone, tcptop, agents):
    """Waves of UDP peers, each a quarter of the room, together more than the room, each
    forgotten (--udp-timeout) before the next: the places of expired flows are reused, so
    none is refused and each wave's counts are exact."""
    sender = agents.new("wave")
    marker = sender.call("tcp_listen", family=4)
    sink = sender.call("udp_socket", family=4, host="0.0.0.0")
    max_flows = flow_map_size()
    wave = FLOW_ROOM // 4
    assert WAVES * wave > FLOW_ROOM
    run = tcptop("-d", "200ms", "--udp-timeout", "400ms", "--max-flows", str(max_flows),
                 "-p", str(sender.pid))
    run.wait_row(proto="TCP", lport=marker["port"], state="LISTEN")
    for n in range(WAVES):
        # A new socket per wave: its flows are new flows, not old ones coming back.
        sock = sender.call("udp_socket", family=4, host="127.0.0.1")
        sender.call("udp_sendto_many", sid=sock["sid"], port=sink["port"], count=wave, size=7)
        snap = run.wait_after(time.time())
        rows = snap.find(proto="UDP", lport=sock["port"], rport=sink["port"])
        assert len(rows) == wave, "wave %d: %d of %d peers shown" % (n, len(rows), wave)
        assert all((r["tx_packets"], r["tx_bytes"]) == (1, 7) for r in rows), rows[:5]
        quiet = time.time()
        run.wait_for(lambda s: s.time > quiet + 0.8
                     and not s.find(lport=sock["port"], rport=sink["port"]),
                     timeout=10, what="wave %d forgotten" % n)
        sender.call("close", sid=sock["sid"])
    run.stop()
    assert not refusals(run.stderr), run.stderr


def test_more_tcp_connections_than_max_flows_is_reported_and_placed_ones_stay_exact(
        flow_map_alone, tcptop, agents):
    """More TCP sockets, all open at once, than the whole map holds: some have a place,
    not all; each placed one shows its exact bytes; stderr says the map is full."""
    peer = agents.new("full")
    max_flows = flow_map_size()
    listen = peer.call("tcp_listen", family=4, backlog=512)
    run = tcptop("-d", "250ms", "--max-flows", str(max_flows), "-p", str(peer.pid))
    run.wait_row(proto="TCP", lport=listen["port"], state="LISTEN")
    conns = peer.call("tcp_open_many", sid=listen["sid"], count=max_flows // 2 + 16,
                      nbytes=777, timeout=120)["conns"]
    try:
        snap = run.wait_after(time.time())
        lports = {lport for _, _, lport in conns}
        ours = [r for r in snap.find(proto="TCP", rport=listen["port"]) if r["lport"] in lports]
        assert 0 < len(ours) < len(conns), \
            "some connections have a place, not all: %d of %d" % (len(ours), len(conns))
        for row in ours:
            assert (row["tx_bytes"], row["rx_bytes"]) == (777, 0), row
        run.stop()
    finally:
        # Reset, leaving no TIME_WAIT behind.
        peer.call("close_many", sids=[c for c, _, _ in conns], linger0=True, timeout=120)
        peer.call("close_many", sids=[s for _, s, _ in conns], timeout=120)
    assert refusals(run.stderr), run.stderr
