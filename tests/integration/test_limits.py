"""Limits: a flow map too small for the host's flows says so on stderr and goes on; closed
connections make room."""

import subprocess
import time

from tcptop_run import assert_owner, assert_transfer_counted
from traffic import TcpPair


def flows_room(extra):
    """A --max-flows value with room for what the host has now plus extra of ours."""
    host_sockets = len(subprocess.run(["ss", "-tuanH"], capture_output=True, text=True,
                                      check=True).stdout.splitlines())
    return max(64, host_sockets + extra)


def test_full_flow_map_is_reported_once_on_stderr_and_tracked_flows_stay_exact(tcptop, agents):
    sender = agents.new("snd")
    marker = sender.call("tcp_listen", family=4)
    sock = sender.call("udp_socket", family=4, host="127.0.0.1")
    # Room for what the host has now plus some of ours, never all of ours: the map fills.
    max_flows = flows_room(64)
    peers = max_flows + 100
    run = tcptop("-d", "250ms", "--max-flows", str(max_flows))
    run.wait_row(proto="TCP", lport=marker["port"], state="LISTEN")

    # One datagram to each peer: more flows than the map holds.
    for port in range(40000, 40000 + peers):
        sender.call("udp_sendto", sid=sock["sid"], host="127.0.0.1", port=port, size=10,
                    count=1)
    snap = run.wait_after(time.time())
    # The socket's own row from the start-up walk has no peer; the peers' rows do.
    ours = [r for r in snap.find(proto="UDP", lport=sock["port"]) if r["raddr"] is not None]
    assert 0 < len(ours) < peers, "the map holds some of the peers, not all: %d" % len(ours)
    for row in ours:
        assert_owner(row, sender)
        assert (row["tx_packets"], row["tx_bytes"]) == (1, 10), row
    run.stop()

    lines = run.stderr.splitlines()
    full = [line for line in lines if "flow map full" in line]
    assert full, "no flow-map-full line on stderr: %r" % run.stderr
    assert all(line.startswith("tcptop: ") and "--max-flows" in line for line in full), full


def test_closed_tcp_connections_give_their_place_to_new_ones(tcptop, agents):
    """Twice as many TCP sockets over time as --max-flows holds at once: each close frees
    its place (the modern set's slot, the compat set's map entry), so none is refused and
    the last connection's counts are exact."""
    peer = agents.new("slot")
    max_flows = flows_room(64)
    pair = TcpPair(peer, peer, connect=False)
    run = tcptop("-d", "250ms", "--max-flows", str(max_flows))
    run.wait_row(proto="TCP", lport=pair.port, state="LISTEN")
    # Reset, not closed in order: a hundred TIME_WAIT sockets on ephemeral ports would
    # outlive the test and share their port numbers with later tests' listeners.
    for _ in range(max_flows):
        pair.connect()
        pair.transfer(100, 200)
        peer.call("close", sid=pair.client_sid, linger0=True)
        peer.call("close", sid=pair.server_sid)
    pair.connect()
    assert_transfer_counted(run, pair, 1234, 4321, peer)
    run.stop()
    assert "flow map full" not in run.stderr, run.stderr



def test_expired_udp_flows_give_their_place_to_new_ones(tcptop, agents):
    """Three waves of UDP peers, each wave half of --max-flows, each forgotten (udp
    timeout) before the next: the places of expired flows are reused, so none is refused
    and the last wave's counts are exact."""
    sender = agents.new("wave")
    sock = sender.call("udp_socket", family=4, host="127.0.0.1")
    max_flows = flows_room(64)
    wave = max_flows // 2
    marker = sender.call("tcp_listen", family=4)
    run = tcptop("-d", "200ms", "--udp-timeout", "400ms", "--max-flows", str(max_flows))
    run.wait_row(proto="TCP", lport=marker["port"], state="LISTEN")
    for n in range(3):
        ports = range(40000 + n * wave, 40000 + (n + 1) * wave)
        for port in ports:
            sender.call("udp_sendto", sid=sock["sid"], host="127.0.0.1", port=port, size=7,
                        count=1)
        snap = run.wait_after(time.time())
        rows = [r for r in snap.find(proto="UDP", lport=sock["port"]) if r["rport"] in ports]
        assert len(rows) == wave, "wave %d: %d of %d peers shown" % (n, len(rows), wave)
        assert all((r["tx_packets"], r["tx_bytes"]) == (1, 7) for r in rows), rows
        quiet = time.time()
        run.wait_for(lambda s: s.time > quiet + 0.8 and not any(
            r["rport"] in ports for r in s.find(proto="UDP", lport=sock["port"])),
            timeout=10, what="the wave forgotten")
    run.stop()
    assert "flow map full" not in run.stderr, run.stderr

def test_more_tcp_connections_than_max_flows_is_reported_and_placed_ones_stay_exact(
        tcptop, agents):
    peer = agents.new("full")
    max_flows = flows_room(16)
    listen = peer.call("tcp_listen", family=4, backlog=64)
    run = tcptop("-d", "250ms", "--max-flows", str(max_flows))
    run.wait_row(proto="TCP", lport=listen["port"], state="LISTEN")
    clients = []
    for _ in range(max_flows // 2 + 16):
        client = peer.call("tcp_connect", host="127.0.0.1", port=listen["port"])
        server = peer.call("tcp_accept", sid=listen["sid"])
        peer.call("send", sid=client["sid"], nbytes=777)
        peer.call("recv_exact", sid=server["sid"], nbytes=777)
        clients.append((client, server))
    snap = run.wait_after(time.time())
    lports = {client["lport"] for client, _ in clients}
    ours = [r for r in snap.find(proto="TCP", rport=listen["port"]) if r["lport"] in lports]
    assert 0 < len(ours) < len(clients), "some connections have a place, not all: %d" % len(ours)
    for row in ours:
        assert (row["tx_bytes"], row["rx_bytes"]) == (777, 0), row
    run.stop()
    for client, server in clients:  # reset, leaving no TIME_WAIT behind (as above)
        peer.call("close", sid=client["sid"], linger0=True)
        peer.call("close", sid=server["sid"])
    full = [line for line in run.stderr.splitlines() if "flow map full" in line]
    assert full and all("--max-flows" in line for line in full), run.stderr
