"""Flows over time: present before start, closing during the run, UDP expiry, sockets
shared between processes, other network namespaces."""

import os
import signal
import socket
import time

import pytest

from tcptop_run import assert_owner, assert_within, parse_output, run_tcptop
from traffic import TcpPair


def test_connection_open_before_start_is_in_first_snapshot_with_owners(agents):
    """An idle connection and its listener, made before tcptop starts, are in its first
    (here: only) snapshot, both ends with the right pid and comm."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4)
    pair.transfer(5000, 7000)
    result = run_tcptop(["-b", "-d", "300ms", "-N", "1"], timeout=30)
    assert result.returncode == 0, result
    _, snaps = parse_output(result.stdout)
    assert len(snaps) == 1, snaps
    snap = snaps[0]
    cli = snap.one(proto="TCP", lport=pair.client_lport, rport=pair.port)
    srv = snap.one(proto="TCP", lport=pair.port, rport=pair.client_lport)
    lsn = snap.one(proto="TCP", lport=pair.port, state="LISTEN")
    for row, agent in ((cli, client), (srv, server), (lsn, server)):
        assert_owner(row, agent)
    assert cli["state"] == srv["state"] == "ESTABLISHED", (cli, srv)
    assert cli["laddr"] == cli["raddr"] == srv["laddr"] == srv["raddr"] == "127.0.0.1"


def test_connection_open_before_start_v6_is_in_first_snapshot(agents):
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=6)
    result = run_tcptop(["-b", "-d", "300ms", "-N", "1"], timeout=30)
    assert result.returncode == 0, result
    snap = parse_output(result.stdout)[1][0]
    cli = snap.one(proto="TCP", lport=pair.client_lport, rport=pair.port)
    srv = snap.one(proto="TCP", lport=pair.port, rport=pair.client_lport)
    assert_owner(cli, client)
    assert_owner(srv, server)
    assert cli["raddr"] == srv["raddr"] == "::1", (cli, srv)


def test_preexisting_connection_counts_only_traffic_after_start(tcptop, agents):
    """Bytes are counted from when tcptop first saw the flow: 100 kB each way before start
    do not count, 50,000 up and 20,000 down afterwards do."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4)
    pair.transfer(100_000, 100_000)
    run = tcptop("-d", "250ms")
    first, row = run.wait_row(proto="TCP", lport=pair.client_lport, rport=pair.port)
    assert (row["tx_bytes"], row["rx_bytes"]) == (0, 0), row
    assert row["rtt_us"] is not None and row["rtt_us"] > 0, row
    pair.transfer(50_000, 20_000)
    snap = run.wait_after(time.time())
    cli = snap.one(proto="TCP", lport=pair.client_lport, rport=pair.port)
    srv = snap.one(proto="TCP", lport=pair.port, rport=pair.client_lport)
    assert_within(cli, "tx_bytes", 50_000)
    assert_within(cli, "rx_bytes", 20_000)
    assert_within(srv, "tx_bytes", 20_000)
    assert_within(srv, "rx_bytes", 50_000)
    assert_owner(cli, client)
    assert_owner(srv, server)
    run.stop()


@pytest.mark.parametrize("how", ["fin", "rst"])
def test_closed_connection_shows_final_counts_in_one_close_row_then_disappears(
        tcptop, agents, how):
    """A connection made and closed while tcptop runs (orderly close, or reset by
    SO_LINGER 0): exactly one more snapshot shows each end with state CLOSE and the final
    counts; no later snapshot has it."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4, connect=False)
    run = tcptop("-d", "250ms")
    run.wait_row(proto="TCP", lport=pair.port, state="LISTEN")
    pair.connect()
    pair.transfer(200_000, 100_000)
    run.wait_row(proto="TCP", lport=pair.client_lport, rport=pair.port, tx_bytes=200_000)
    if how == "fin":
        pair.close()
    else:
        client.call("close", sid=pair.client_sid, linger0=True)
        server.call("close", sid=pair.server_sid)
    closed_at = time.time()

    cli_key = dict(proto="TCP", lport=pair.client_lport, rport=pair.port)
    srv_key = dict(proto="TCP", lport=pair.port, rport=pair.client_lport)
    # Three snapshots after both ends closed (the CLOSE rows are in the first of them or
    # earlier).
    run.wait_for(lambda s: s.time > closed_at + 0.8, timeout=20,
                 what="snapshots after the close")
    snaps = run.snapshots()
    for key, sent, received, agent in ((cli_key, 200_000, 100_000, client),
                                       (srv_key, 100_000, 200_000, server)):
        present = [i for i, s in enumerate(snaps) if s.find(**key)]
        closes = [i for i in present if s_state(snaps[i], key) == "CLOSE"]
        assert len(closes) == 1, "expected one snapshot with %r in state CLOSE, got %d: %r" % (
            key, len(closes), [(snaps[i].time_text, s_state(snaps[i], key)) for i in present])
        last = closes[0]
        assert present[-1] == last, \
            "%r still shown after its CLOSE row: %r" % (key, [snaps[i].time_text for i in present])
        row = snaps[last].one(**key)
        assert (row["tx_bytes"], row["rx_bytes"]) == (sent, received), row
        assert_owner(row, agent)
    run.stop()


def s_state(snap, key):
    return snap.one(**key)["state"]


def test_closes_that_find_the_ring_full_still_arrive_with_final_counts(
        flow_map_alone, tcptop, agents):
    """With --max-flows 4096 the close ring is its smallest, ~1,360 records. With tcptop
    stopped, 1,000 connections (2,000 sockets) reset: the closes that found the ring full
    stay where the hook set keeps the flow (the modern set's TCP slot, the compat set's map
    entry) in state CLOSE. After
    tcptop resumes, every socket still shows one CLOSE row with its exact counts, and -v
    says at exit how many closes went that way."""
    peer = agents.new("ring")
    listen = peer.call("tcp_listen", family=4, backlog=128)
    run = tcptop("-d", "250ms", "-v", "--max-flows", "4096")
    run.wait_row(proto="TCP", lport=listen["port"], state="LISTEN")
    conns = []
    for i in range(1000):
        client = peer.call("tcp_connect", host="127.0.0.1", port=listen["port"])
        server = peer.call("tcp_accept", sid=listen["sid"])
        peer.call("send", sid=client["sid"], nbytes=100 + i)
        peer.call("recv_exact", sid=server["sid"], nbytes=100 + i)
        conns.append((client, server, 100 + i))
    run.wait_after(time.time())
    run.proc.send_signal(signal.SIGSTOP)
    try:
        for client, server, _ in conns:
            peer.call("close", sid=client["sid"], linger0=True)
            peer.call("close", sid=server["sid"])
    finally:
        run.proc.send_signal(signal.SIGCONT)
    resumed = time.time()
    run.wait_for(lambda s: s.time > resumed + 0.8, timeout=20, what="snapshots after resuming")
    snaps = [s for s in run.snapshots() if s.time > resumed - 1]
    closed = {}
    for snap in snaps:
        for row in snap.find(proto="TCP", state="CLOSE"):
            closed.setdefault((row["lport"], row["rport"]), []).append(row)
    for client, server, nbytes in conns:
        for key, tx, rx in (((client["lport"], listen["port"]), nbytes, 0),
                            ((listen["port"], client["lport"]), 0, nbytes)):
            rows = closed.get(key, [])
            assert len(rows) == 1, "%r: %d CLOSE rows" % (key, len(rows))
            assert (rows[0]["tx_bytes"], rows[0]["rx_bytes"]) == (tx, rx), rows[0]
    run.stop()
    lost = [line for line in run.stderr.splitlines() if "found the ring full" in line]
    assert lost and int(lost[0].split()[1]) >= 500, run.stderr
    # Without -v too: the interval's line of losses counts them.
    said = [line for line in run.stderr.splitlines()
            if line.startswith("tcptop: lost so far: ") and "close records over the ring" in line]
    assert said, run.stderr


def test_udp_flow_idle_longer_than_udp_timeout_is_forgotten(tcptop, agents):
    """--udp-timeout 600ms: a connected UDP flow that goes quiet is shown with its counts,
    then disappears (its socket still open) and does not come back while idle."""
    one, two = agents.new("uc1"), agents.new("uc2")
    a = one.call("udp_socket", family=4)
    b = two.call("udp_socket", family=4)
    one.call("udp_connect", sid=a["sid"], host=b["addr"], port=b["port"])
    marker = one.call("tcp_listen", family=4)
    run = tcptop("-d", "200ms", "--udp-timeout", "600ms")
    run.wait_row(proto="TCP", lport=marker["port"], state="LISTEN")
    # The flow's last traffic is after this: it may not be forgotten before this + 600ms
    # (less 1 ms: snapshot times are truncated to the millisecond).
    before_send = time.time()
    one.call("udp_send", sid=a["sid"], size=64, count=2)
    two.call("udp_recvfrom", sid=b["sid"], count=2)
    snap = run.wait_after(time.time())
    key = dict(proto="UDP", lport=a["port"], rport=b["port"])
    row = snap.one(**key)
    assert (row["tx_packets"], row["tx_bytes"]) == (2, 128), row
    gone = run.wait_for(lambda s: s.time > snap.time and not s.find(**key), timeout=10,
                        what="snapshot without the idle UDP flow")
    idle = gone.time - before_send
    assert idle >= 0.6 - 0.001, "forgotten %.3fs after its last datagram, before the 600ms " \
        "timeout" % idle
    run.wait_for(lambda s: s.time > gone.time + 0.7, timeout=10, what="later snapshots")
    later = [s for s in run.snapshots() if s.time > gone.time]
    assert all(not s.find(**key) for s in later), "idle UDP flow came back"
    run.stop()


def test_shared_socket_is_attributed_to_process_that_last_sent(tcptop, agents):
    """One UDP socket held by two processes: the row belongs to whichever sent last."""
    receiver = agents.new("rcv")
    dest = receiver.call("udp_socket", family=4)
    shared = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    shared.bind(("127.0.0.1", 0))
    port, fd = shared.getsockname()[1], shared.fileno()
    try:
        first = agents.new("shA", inherit_fds=[fd])
        second = agents.new("shB", inherit_fds=[fd])
    finally:
        shared.close()
    sid = "fd%d" % fd  # pass_fds keeps the descriptor number
    run = tcptop("-d", "250ms")
    marker = receiver.call("tcp_listen", family=4)
    run.wait_row(proto="TCP", lport=marker["port"], state="LISTEN")
    key = dict(proto="UDP", lport=port, raddr="127.0.0.1", rport=dest["port"])

    first.call("udp_sendto", sid=sid, host="127.0.0.1", port=dest["port"], size=10, count=3)
    receiver.call("udp_recvfrom", sid=dest["sid"], count=3)
    row = run.wait_after(time.time()).one(**key)
    assert_owner(row, first)
    assert row["tx_packets"] == 3, row

    second.call("udp_sendto", sid=sid, host="127.0.0.1", port=dest["port"], size=10, count=2)
    receiver.call("udp_recvfrom", sid=dest["sid"], count=2)
    row = run.wait_after(time.time()).one(**key)
    assert_owner(row, second)
    assert row["tx_packets"] == 5 and row["tx_bytes"] == 50, row
    run.stop()


def test_flow_in_another_network_namespace_reports_that_namespace(tcptop, agents,
                                                                  netns_inode):
    """A connection inside a fresh network namespace (its own lo): both rows carry that
    namespace's inode in netns, and the owner; flows of this namespace carry ours."""
    inside = agents.new("nsx", netns=True)
    ns_inode = os.stat("/proc/%d/ns/net" % inside.pid).st_ino
    assert ns_inode != netns_inode
    marker_owner = agents.new("mrk")
    marker = marker_owner.call("tcp_listen", family=4)
    run = tcptop("-d", "250ms")
    first, mrow = run.wait_row(proto="TCP", lport=marker["port"], state="LISTEN")
    assert mrow["netns"] == netns_inode, mrow
    pair = TcpPair(inside, inside, family=4)  # both ends in the one process
    pair.transfer(3333, 4444)
    snap = run.wait_after(time.time())
    cli = [r for r in snap.find(proto="TCP", lport=pair.client_lport, rport=pair.port)
           if r["netns"] == ns_inode]
    srv = [r for r in snap.find(proto="TCP", lport=pair.port, rport=pair.client_lport)
           if r["netns"] == ns_inode]
    assert len(cli) == 1 and len(srv) == 1, snap.rows
    assert (cli[0]["tx_bytes"], cli[0]["rx_bytes"]) == (3333, 4444), cli
    assert (srv[0]["tx_bytes"], srv[0]["rx_bytes"]) == (4444, 3333), srv
    assert_owner(cli[0], inside)
    assert_owner(srv[0], inside)
    run.stop()


def in_time_wait(lport, rport):
    """Whether the kernel holds a TIME_WAIT socket 127.0.0.1:lport -> 127.0.0.1:rport."""
    local, remote = "0100007F:%04X" % lport, "0100007F:%04X" % rport
    with open("/proc/net/tcp") as f:
        return any(fields[1:4] == [local, remote, "06"]
                   for fields in (line.split() for line in f.readlines()[1:]))


def test_time_wait_socket_from_before_start_is_in_the_first_snapshot_only(agents):
    """The server closes first, so its end waits in TIME_WAIT (a minute) after both have
    closed. Made before tcptop starts, that socket is in the first snapshot, state
    TIME_WAIT and no process, and in none of the later ones, though the kernel still
    holds it after the run. (The listener is a row of every snapshot.)"""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4)
    pair.transfer(1_000, 2_000)
    server.call("close", sid=pair.server_sid)
    client.call("recv_eof", sid=pair.client_sid)
    client.call("close", sid=pair.client_sid)
    assert in_time_wait(pair.port, pair.client_lport)
    result = run_tcptop(["-b", "-d", "200ms", "-N", "5", "--port", str(pair.port)], timeout=30)
    assert result.returncode == 0, result
    assert in_time_wait(pair.port, pair.client_lport), "TIME_WAIT ended during the run"
    _, snaps = parse_output(result.stdout)
    assert len(snaps) == 5, snaps
    key = dict(proto="TCP", lport=pair.port, rport=pair.client_lport)
    first = snaps[0].one(**key)
    assert first["state"] == "TIME_WAIT", first
    assert first["pid"] is None and first["comm"] is None, first
    for snap in snaps:
        assert snap.one(proto="TCP", lport=pair.port, state="LISTEN")
    later = [(s.time_text, s.find(**key)) for s in snaps[1:] if s.find(**key)]
    assert not later, "the TIME_WAIT socket is in later snapshots: %r" % later
