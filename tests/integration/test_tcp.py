"""TCP flows: byte and packet counts of both ends, RTT, owners, LISTEN rows, addresses."""

import time

import pytest

from tcptop_run import assert_owner, assert_within
from traffic import TcpPair

LOOPBACK = {4: "127.0.0.1", 6: "::1"}


@pytest.mark.parametrize("family", [4, 6], ids=["v4", "v6"])
def test_tcp_bytes_match_both_directions_with_owner_rtt_and_packets(tcptop, agents, family):
    """Client sends 3,000,000 bytes, server 1,000,000 back, on a connection made while
    tcptop runs: both sockets' rows show those counts, packets, RTT and their process."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=family, connect=False)
    run = tcptop("-d", "300ms")
    run.wait_row(proto="TCP", lport=pair.port, state="LISTEN")
    pair.connect()
    pair.transfer(3_000_000, 1_000_000)
    snap = run.wait_after(time.time())

    addr = LOOPBACK[family]
    cli = snap.one(proto="TCP", lport=pair.client_lport, rport=pair.port)
    srv = snap.one(proto="TCP", lport=pair.port, rport=pair.client_lport)
    for row, agent in ((cli, client), (srv, server)):
        assert row["state"] == "ESTABLISHED", row
        assert row["laddr"] == addr and row["raddr"] == addr, row
        assert_owner(row, agent)
        assert row["tx_packets"] > 0 and row["rx_packets"] > 0, row
        assert row["rtt_us"] is not None and row["rtt_us"] > 0, row
    assert_within(cli, "tx_bytes", 3_000_000)
    assert_within(cli, "rx_bytes", 1_000_000)
    assert_within(srv, "tx_bytes", 1_000_000)
    assert_within(srv, "rx_bytes", 3_000_000)
    run.stop()


def test_tcp_v4_counts_exact_on_each_of_several_transfers(tcptop, agents):
    """Counts are cumulative: after each exchange both rows show the running totals."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4)
    run = tcptop("-d", "250ms")
    run.wait_row(proto="TCP", lport=pair.client_lport, rport=pair.port)
    sent = received = 0
    for up, down in ((10_000, 0), (0, 70_001), (123_457, 5)):
        pair.transfer(up, down)
        sent, received = sent + up, received + down
        snap = run.wait_after(time.time())
        cli = snap.one(proto="TCP", lport=pair.client_lport, rport=pair.port)
        srv = snap.one(proto="TCP", lport=pair.port, rport=pair.client_lport)
        assert (cli["tx_bytes"], cli["rx_bytes"]) == (sent, received), cli
        assert (srv["tx_bytes"], srv["rx_bytes"]) == (received, sent), srv
    run.stop()


@pytest.mark.parametrize("family", [4, 6], ids=["v4", "v6"])
def test_listen_row_has_state_listen_owner_and_no_peer(tcptop, agents, family):
    """A listener made while tcptop runs: state LISTEN, no raddr/rport/rtt_us, its owner."""
    server = agents.new("lsn")
    marker = server.call("tcp_listen", family=4)
    run = tcptop("-d", "250ms")
    run.wait_row(proto="TCP", lport=marker["port"], state="LISTEN")
    listen = server.call("tcp_listen", family=family, host=LOOPBACK[family])
    snap = run.wait_after(time.time())
    # By address too: the v6 listener may get the marker's port number (::1 and 127.0.0.1
    # do not clash).
    row = snap.one(proto="TCP", lport=listen["port"], laddr=LOOPBACK[family])
    assert row["state"] == "LISTEN", row
    assert row["raddr"] is None and row["rport"] is None, row
    assert row["rtt_us"] is None, row
    assert_owner(row, server)
    run.stop()


def test_listen_row_of_listener_opened_before_start(tcptop, agents):
    server = agents.new("lsn")
    listen = server.call("tcp_listen", family=6, host="::1")
    run = tcptop("-d", "250ms")
    snap = run.wait_snapshots(1)[0]
    # Matched on its address too: a TIME_WAIT socket of an earlier test on 127.0.0.1 may
    # have the same port number.
    row = snap.one(proto="TCP", laddr="::1", lport=listen["port"])
    assert row["state"] == "LISTEN", row
    assert row["laddr"] == "::1" and row["raddr"] is None and row["rport"] is None, row
    assert row["rtt_us"] is None, row
    assert_owner(row, server)
    run.stop()


def test_v4_mapped_connection_is_shown_with_ipv4_addresses(tcptop, agents):
    """Dual-stack AF_INET6 sockets talking over ::ffff:127.0.0.1 are IPv4 flows."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=6, host="::ffff:127.0.0.1",
                   server_v6only=False, client_v6only=False, connect=False)
    run = tcptop("-d", "250ms")
    run.wait_row(proto="TCP", lport=pair.port, state="LISTEN")
    pair.connect()
    pair.transfer(4096, 2048)
    snap = run.wait_after(time.time())
    cli = snap.one(proto="TCP", lport=pair.client_lport, rport=pair.port)
    srv = snap.one(proto="TCP", lport=pair.port, rport=pair.client_lport)
    lsn = snap.one(proto="TCP", lport=pair.port, state="LISTEN")
    for row in (cli, srv):
        assert row["laddr"] == "127.0.0.1" and row["raddr"] == "127.0.0.1", row
    assert lsn["laddr"] == "127.0.0.1", lsn
    assert (cli["tx_bytes"], cli["rx_bytes"]) == (4096, 2048), cli
    assert (srv["tx_bytes"], srv["rx_bytes"]) == (2048, 4096), srv
    run.stop()


def test_tcp_v4_client_to_v4_listener_from_dual_stack_socket(tcptop, agents):
    """An AF_INET6 client (v6only off) connecting to an AF_INET listener on 127.0.0.1."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4, connect_host="::ffff:127.0.0.1",
                   client_family=6, client_v6only=False, connect=False)
    run = tcptop("-d", "250ms")
    run.wait_row(proto="TCP", lport=pair.port, state="LISTEN")
    pair.connect()
    pair.transfer(1000, 3000)
    snap = run.wait_after(time.time())
    cli = snap.one(proto="TCP", lport=pair.client_lport, rport=pair.port)
    assert cli["laddr"] == "127.0.0.1" and cli["raddr"] == "127.0.0.1", cli
    assert (cli["tx_bytes"], cli["rx_bytes"]) == (1000, 3000), cli
    assert_owner(cli, client)
    run.stop()


def test_traffic_from_worker_thread_is_attributed_to_process_and_leader_name(tcptop, agents):
    """A renamed worker thread does the sending and receiving: pid is the thread-group id
    and comm the leader's name, not the thread's."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4, connect=False)
    run = tcptop("-d", "250ms")
    run.wait_row(proto="TCP", lport=pair.port, state="LISTEN")
    pair.connect()
    server.start("in_thread", thread_name="worker_rx",
                 request={"op": "recv_exact", "sid": pair.server_sid, "nbytes": 40_000})
    client.call("in_thread", thread_name="worker_tx",
                request={"op": "send", "sid": pair.client_sid, "nbytes": 40_000})
    server.result()
    snap = run.wait_after(time.time())
    cli = snap.one(proto="TCP", lport=pair.client_lport, rport=pair.port)
    srv = snap.one(proto="TCP", lport=pair.port, rport=pair.client_lport)
    assert cli["tx_bytes"] == 40_000 and srv["rx_bytes"] == 40_000, (cli, srv)
    assert_owner(cli, client)
    assert_owner(srv, server)
    run.stop()
