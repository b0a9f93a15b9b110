"""--udp-mode per-socket: one row per UDP socket, whatever its peers, with every datagram
of all of them; connected sockets keep their peer. Both hook sets (the modern one then
attaches no cgroup sock_addr hooks)."""

import time

from tcptop_run import assert_owner


def start(tcptop, agent, *args):
    """tcptop -b --udp-mode per-socket, once it shows a marker listener of agent."""
    marker = agent.call("tcp_listen", family=4)
    run = tcptop("-d", "250ms", "--udp-mode", "per-socket", "-v", *args)
    run.wait_row(proto="TCP", lport=marker["port"], state="LISTEN")
    return run


def test_unconnected_server_has_one_row_for_all_its_peers(tcptop, agents):
    """Three client sockets send 4, 5 and 6 datagrams of 60 bytes to one unconnected server
    socket, which answers each with 30 bytes through sendto: the server has one row with
    all 15 each way and no peer; each client socket has one row of its own."""
    server, client = agents.new("srv"), agents.new("cli")
    sock = server.call("udp_socket", family=4)
    peers = [client.call("udp_socket", family=4) for _ in range(3)]
    run = start(tcptop, server)

    for peer, count in zip(peers, (4, 5, 6)):
        client.call("udp_sendto", sid=peer["sid"], host=sock["addr"], port=sock["port"],
                    size=60, count=count)
    got = server.call("udp_recvfrom", sid=sock["sid"], count=15)["datagrams"]
    assert len(got) == 15
    for addr, port, size in got:
        assert size == 60
        server.call("udp_sendto", sid=sock["sid"], host=addr, port=port, size=30, count=1)
    for peer, count in zip(peers, (4, 5, 6)):
        client.call("udp_recvfrom", sid=peer["sid"], count=count)
    snap = run.wait_after(time.time())

    rows = snap.find(proto="UDP", lport=sock["port"])
    assert len(rows) == 1, rows
    row = rows[0]
    assert_owner(row, server)
    assert row["rport"] is None and row["raddr"] in (None, ""), row
    assert (row["rx_packets"], row["rx_bytes"]) == (15, 900), row
    assert (row["tx_packets"], row["tx_bytes"]) == (15, 450), row
    for peer, count in zip(peers, (4, 5, 6)):
        mine = snap.find(proto="UDP", lport=peer["port"])
        assert len(mine) == 1, mine
        assert (mine[0]["tx_packets"], mine[0]["tx_bytes"]) == (count, 60 * count), mine
        assert (mine[0]["rx_packets"], mine[0]["rx_bytes"]) == (count, 30 * count), mine
        assert mine[0]["rport"] is None, mine
    run.stop()
    assert "--udp-mode per-socket" in run.stderr, run.stderr
    assert "not tracked" not in run.stderr, run.stderr


def test_connected_socket_keeps_its_peer(tcptop, agents):
    """A connected UDP socket's datagrams count under its peer in per-socket mode too (the
    start-up walk's peerless row of the socket, from before its connect, stays empty)."""
    server, client = agents.new("srv"), agents.new("cli")
    sock = server.call("udp_socket", family=4)
    peer = client.call("udp_socket", family=4)
    run = start(tcptop, server)
    client.call("udp_connect", sid=peer["sid"], host=sock["addr"], port=sock["port"])
    client.call("udp_send", sid=peer["sid"], size=80, count=3)
    server.call("udp_recvfrom", sid=sock["sid"], count=3)
    snap = run.wait_after(time.time())
    row = snap.one(proto="UDP", lport=peer["port"], raddr=sock["addr"], rport=sock["port"])
    assert (row["tx_packets"], row["tx_bytes"]) == (3, 240), row
    for other in snap.find(proto="UDP", lport=peer["port"]):
        assert other is row or other["tx_packets"] == 0, other
    run.stop()

