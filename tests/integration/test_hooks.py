"""Hook sets: which one runs and why (--hooks, -v, -V, the fallback when the modern set
cannot load), the documented differences of the compat set, each bounded by a test, and
where the modern set keeps TCP connections.

The whole suite runs once per hook set (run-integration.sh): the selection tests here run
in the default pass, the compat-only tests in the compat pass (TCPTOP_TEST_HOOKS=compat);
conftest.py leaves each out of the other pass.
TCPTOP_BREAK_HOOKS makes a set fail to load for real (libbpf finds no attach target for
one of its programs), as on a kernel that lacks its hooks.
"""

import time

import pytest

from tcptop_run import (TEST_HOOKS, Tcptop, assert_owner, assert_transfer_counted,
                        flow_map_size, held_map_entries, run_tcptop, running_tcptop,
                        udp_read_without_address)
from traffic import TcpPair

default_pass = pytest.mark.only_pass("auto", "hook selection")
compat_pass = pytest.mark.only_pass("compat", "the compat set's differences")


@pytest.fixture
def broken(request, monkeypatch):
    """TCPTOP_BREAK_HOOKS=<param> for the test's tcptop runs."""
    monkeypatch.setenv("TCPTOP_BREAK_HOOKS", request.param)
    return request.param


def hook_line(stderr):
    lines = [line for line in stderr.splitlines() if line.startswith("tcptop: hook set: ")]
    assert len(lines) == 1, stderr
    return lines[0]


@default_pass
def test_auto_takes_the_modern_set_and_v_says_so():
    result = run_tcptop(["-b", "-N", "1", "-d", "100ms", "-v"], timeout=30)
    assert result.returncode == 0, result
    line = hook_line(result.stderr)
    assert line.startswith("tcptop: hook set: modern (tp_btf sock_send_length"), line
    assert "fib_table_lookup/fib6_table_lookup, cgroup sock_addr recvmsg on" in line, line
    assert "refused" not in line, line
    # The start-up walk's iterators load on this kernel (once they did not, silently).
    assert "start-up walk: BPF iterators (iter/tcp, iter/udp, iter/task_file)" \
        in result.stderr, result.stderr


@default_pass
@pytest.mark.parametrize("broken", ["modern"], indirect=True)
def test_auto_falls_back_to_compat_when_modern_cannot_load(broken, agents):
    """The fallback counts for real: an exact transfer, with -v naming the set and why
    the modern one was refused."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4)
    run = Tcptop(["-d", "250ms", "-v"])
    try:
        run.wait_row(proto="TCP", lport=pair.client_lport, rport=pair.port)
        assert_transfer_counted(run, pair, 40_000, 1_234, client)
        run.stop()
    finally:
        run.kill()
    line = hook_line(run.stderr)
    assert line.startswith("tcptop: hook set: compat (cgroup_skb"), line
    assert "; modern refused: its programs did not load" in line, line
    assert "TCPTOP_BREAK_HOOKS" in line, line


@default_pass
def test_version_names_the_set_this_kernel_takes():
    result = run_tcptop(["--version"], timeout=30)
    assert result.returncode == 0, result
    assert result.stdout.splitlines()[1].startswith("hook set: modern ("), result


@default_pass
@pytest.mark.parametrize("broken", ["modern"], indirect=True)
def test_version_says_why_modern_was_refused(broken):
    result = run_tcptop(["-V"], timeout=30)
    assert result.returncode == 0, result
    second = result.stdout.splitlines()[1]
    assert second.startswith("hook set: compat ("), result
    assert "modern refused: its programs did not load" in second, result


@default_pass
@pytest.mark.parametrize("broken", ["modern", "compat"], indirect=True)
def test_forced_set_that_cannot_load_fails_with_one_line(broken):
    result = run_tcptop(["--hooks", broken, "-b", "-N", "1"], timeout=30)
    assert result.returncode == 1, result
    assert result.stdout == "", result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result
    assert lines[0].startswith("tcptop: --hooks %s: the %s hook set cannot be used: "
                               "its programs did not load" % (broken, broken)), result


@default_pass
@pytest.mark.parametrize("broken", ["modern,compat"], indirect=True)
def test_no_set_loads_is_one_line_and_exit_1(broken):
    result = run_tcptop(["-b", "-N", "1"], timeout=30)
    assert result.returncode == 1, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result
    assert lines[0].startswith("tcptop: no hook set works on this kernel: modern: "), result
    assert "; compat: " in lines[0], result


@default_pass
def test_forced_compat_set_runs_and_v_says_so():
    result = run_tcptop(["--hooks", "compat", "-b", "-N", "1", "-d", "100ms", "-v"],
                        timeout=30)
    assert result.returncode == 0, result
    line = hook_line(result.stderr)
    assert line.startswith("tcptop: hook set: compat (cgroup_skb"), line
    assert "refused" not in line, line
    # Its owner walk loads here: a socket reached through a file is an untrusted pointer
    # on this kernel, which the walk must not hand to socket storage.
    assert ", iter/task_file, " in line and "owners from /proc" not in line, line
    assert "start-up walk: BPF iterators (iter/tcp, iter/udp, iter/task_file)" \
        in result.stderr, result.stderr


# --------------------------------------------------------------- compat differences

@compat_pass
def test_compat_accepted_connection_shows_its_server_at_once(tcptop, agents):
    """An accepted socket takes its listener's owner (socket storage is cloned): the
    server shows in the first snapshot of a connection that lives a fraction of an
    interval."""
    server, client = agents.new("srv"), agents.new("cli")
    run = running_tcptop(tcptop, server)
    pair = TcpPair(server, client, family=4)
    pair.transfer(3_000, 4_000)
    server.call("close", sid=pair.server_sid)
    client.call("close", sid=pair.client_sid)
    _, srv = run.wait_row(proto="TCP", lport=pair.port, rport=pair.client_lport)
    assert_owner(srv, server)
    assert (srv["tx_bytes"], srv["rx_bytes"]) == (4_000, 3_000), srv
    run.stop()


@compat_pass
def test_compat_recv_without_address_still_counts_per_peer(tcptop, agents):
    """recv()/read() pass no address, but the packet has one: the datagrams count into
    the sender's row, and there is no unknown-peer row."""
    receiver, sender = agents.new("rcv"), agents.new("snd")
    run, snap, sock, peer = udp_read_without_address(tcptop, receiver, sender)
    row = snap.one(proto="UDP", lport=sock["port"], raddr=peer["addr"], rport=peer["port"])
    assert (row["rx_packets"], row["rx_bytes"]) == (4, 360), row
    assert_owner(row, receiver)
    # The socket's own row (listed at start, like a bound socket) carries nothing.
    for bare in snap.find(proto="UDP", lport=sock["port"], raddr=None):
        assert (bare["rx_packets"], bare["rx_bytes"]) == (0, 0), bare
    run.stop()


@compat_pass
def test_compat_udp_counts_what_reached_the_socket_not_what_was_read(tcptop, agents):
    """A receiver with a small buffer that reads nothing: compat counts every datagram
    that reached its socket, also those then dropped because the buffer was full, while
    the application can read only what was queued."""
    receiver, sender = agents.new("rcv"), agents.new("snd")
    sock = receiver.call("udp_socket", family=4, rcvbuf=4096)
    peer = sender.call("udp_socket", family=4)
    run = running_tcptop(tcptop, receiver)
    sender.call("udp_sendto", sid=peer["sid"], host=sock["addr"], port=sock["port"],
                size=500, count=200)
    snap = run.wait_after(time.time())
    queued = receiver.call("udp_drain", sid=sock["sid"])
    assert 0 < queued["count"] < 200, queued
    row = snap.one(proto="UDP", lport=sock["port"], raddr=peer["addr"], rport=peer["port"])
    assert (row["rx_packets"], row["rx_bytes"]) == (200, 100_000), row
    sent = snap.one(proto="UDP", lport=peer["port"], raddr=sock["addr"], rport=sock["port"])
    assert (sent["tx_packets"], sent["tx_bytes"]) == (200, 100_000), sent
    run.stop()


@compat_pass
def test_compat_tcp_in_flight_bytes_count_once_acknowledged(tcptop, agents):
    """The server reads nothing: compat shows the bytes the server's socket took in
    (acknowledged) on both rows, never more than the client wrote, and the rest still
    in the client's send buffer is not counted yet; once the server reads all, both rows
    show exactly what was written."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4)
    run = running_tcptop(tcptop, server)
    wrote = client.call("send_until_full", sid=pair.client_sid, nbytes=64 << 20)["sent"]
    snap = run.wait_after(time.time() + 0.3)
    cli = snap.one(proto="TCP", lport=pair.client_lport, rport=pair.port)
    srv = snap.one(proto="TCP", lport=pair.port, rport=pair.client_lport)
    assert 0 < cli["tx_bytes"] < wrote, (cli, wrote)
    assert cli["tx_bytes"] == srv["rx_bytes"], (cli, srv)
    server.call("recv_exact", sid=pair.server_sid, nbytes=wrote)
    snap = run.wait_after(time.time() + 0.3)
    cli = snap.one(proto="TCP", lport=pair.client_lport, rport=pair.port)
    srv = snap.one(proto="TCP", lport=pair.port, rport=pair.client_lport)
    assert cli["tx_bytes"] == srv["rx_bytes"] == wrote, (cli, srv, wrote)
    run.stop()


# --------------------------------------------------------------- without BPF iterators

@default_pass
@pytest.mark.parametrize("hooks", ["modern", "compat"])
@pytest.mark.parametrize("broken", ["iterators"], indirect=True)
def test_without_iterators_the_walk_uses_sock_diag_and_proc(broken, hooks, agents):
    """Kernels before 5.9/5.11 have no iter/tcp, iter/udp, iter/task_file: connections
    open before start still show with their owners and states, and count from start."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=6, host="::1")
    pair.transfer(30_000, 30_000)
    run = Tcptop(["--hooks", hooks, "-d", "250ms", "-v"])
    try:
        first, cli = run.wait_row(proto="TCP", lport=pair.client_lport, rport=pair.port)
        assert (cli["tx_bytes"], cli["rx_bytes"], cli["state"]) == (0, 0, "ESTABLISHED"), cli
        assert cli["laddr"] == cli["raddr"] == "::1", cli
        assert_owner(cli, client)
        listen = first.one(proto="TCP", lport=pair.port, state="LISTEN")
        assert_owner(listen, server)
        pair.transfer(5_000, 7_000)
        snap = run.wait_after(time.time())
        cli = snap.one(proto="TCP", lport=pair.client_lport, rport=pair.port)
        srv = snap.one(proto="TCP", lport=pair.port, rport=pair.client_lport)
        assert (cli["tx_bytes"], cli["rx_bytes"]) == (5_000, 7_000), cli
        assert (srv["tx_bytes"], srv["rx_bytes"]) == (7_000, 5_000), srv
        assert_owner(srv, server)
        client.call("close", sid=pair.client_sid)
        server.call("close", sid=pair.server_sid)
        _, closed = run.wait_row(proto="TCP", lport=pair.client_lport, rport=pair.port,
                                 state="CLOSE")
        assert (closed["tx_bytes"], closed["rx_bytes"]) == (5_000, 7_000), closed
        run.stop()
    finally:
        run.kill()
    assert "tcptop: start-up walk: sock_diag and /proc (the BPF iterators did not load)" \
        in run.stderr, run.stderr


@default_pass
@pytest.mark.parametrize("broken", ["iterators"], indirect=True)
def test_compat_without_iterators_finds_owners_of_accepted_sockets_in_proc(broken, agents):
    """An accepted socket is created in softirq, and a listener older than tcptop has
    no recorded owner to pass on: compat finds the holder by walking /proc when
    iter/task_file is missing, and -v says so."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4, connect=False)
    run = Tcptop(["--hooks", "compat", "-d", "250ms", "-v"])
    try:
        run.wait_row(proto="TCP", lport=pair.port, state="LISTEN")
        pair.connect()
        pair.transfer(1_000, 2_000)
        _, srv = run.wait_row(proto="TCP", lport=pair.port, rport=pair.client_lport,
                              pid=server.pid)
        assert_owner(srv, server)
        run.stop()
    finally:
        run.kill()
    assert "owners from /proc (no iter/task_file)" in hook_line(run.stderr), run.stderr


# --------------------------------------------------------------- both sets, counted apart

def test_udp_segmentation_offload_counts_each_set_its_way(tcptop, agents):
    """One send() of 400 bytes with UDP_SEGMENT 100 leaves as four datagrams. The modern
    set counts the sender's call (one datagram of 400 bytes), compat the datagrams on
    the wire (four); the receiver reads four of 100 bytes, and both sets count those."""
    receiver, sender = agents.new("rcv"), agents.new("snd")
    rsock = receiver.call("udp_socket", family=4)
    ssock = sender.call("udp_socket", family=4)
    sender.call("udp_connect", sid=ssock["sid"], host=rsock["addr"], port=rsock["port"])
    run = running_tcptop(tcptop, receiver)
    sender.call("udp_send_segmented", sid=ssock["sid"], size=400, segment=100)
    got = receiver.call("udp_recvfrom", sid=rsock["sid"], count=4)["datagrams"]
    assert [d[2] for d in got] == [100] * 4, got
    snap = run.wait_after(time.time())
    sent = snap.one(proto="UDP", lport=ssock["port"], rport=rsock["port"])
    rcvd = snap.one(proto="UDP", lport=rsock["port"], rport=ssock["port"])
    expected_sends = 4 if TEST_HOOKS == "compat" else 1
    assert (sent["tx_packets"], sent["tx_bytes"]) == (expected_sends, 400), sent
    assert (rcvd["rx_packets"], rcvd["rx_bytes"]) == (4, 400), rcvd
    run.stop()


# ------------------------------------------------------- the modern set's TCP slot array

@default_pass
def test_modern_keeps_flows_in_its_slot_array_not_in_the_flows_map(flow_map_room, agents):
    """The modern set keeps its flows in a slot array, which user space reads only where
    something changed. The start-up walk's TCP sockets move there at once, UDP flows go
    there from their first datagram: none of the test's flows stays in the flows map,
    which user space reads whole every interval. (Other programs' sockets may: one found
    closing by the walk, say.) Counts of a connection older than tcptop still start from
    zero and stay exact."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client)
    pair.transfer(1000, 2000)
    udp = client.call("udp_socket", family=4, host="127.0.0.1")
    sink = server.call("udp_socket", family=4, host="127.0.0.1")
    ours = {pair.client_lport, pair.port, udp["port"]}
    # A map of a few thousand places, so that bpftool dumps it quickly.
    run = Tcptop(["--hooks", "modern", "-d", "250ms", "--max-flows", str(flow_map_size())])
    try:
        run.wait_row(proto="TCP", lport=pair.client_lport, rport=pair.port)
        client.call("udp_sendto", sid=udp["sid"], host="127.0.0.1", port=sink["port"],
                    size=5, count=1)
        run.wait_row(proto="UDP", lport=udp["port"], rport=sink["port"])
        in_flows = [e for e in held_map_entries(run.proc.pid, "flows")
                    if e["value"]["id"]["lport"] in ours]
        assert not in_flows, in_flows
        slots = held_map_entries(run.proc.pid, "flow_slots")
        ports = {e["value"]["value"]["id"]["lport"] for e in slots
                 if e["value"]["key"]["cookie"]}
        assert ours <= ports, sorted(ports)
        assert_transfer_counted(run, pair, 3000, 4000, client)
        run.stop()
    finally:
        run.kill()


# ----------------------------------------------------- without a cgroup v2 mount

NO_CGROUP2 = r"""
run=$1; shift
for m in $(awk '$3 == "cgroup2" { print $2 }' /proc/self/mounts | sort -r); do
	umount -l "$m" || exit 1
done
if grep -q ' cgroup2 ' /proc/self/mounts; then echo "cgroup2 still mounted" >&2; exit 1; fi
mount --bind "$run" /run || exit 1
exec "$@"
"""


def test_without_a_cgroup2_mount_a_private_one_is_mounted_and_let_go(agents, scratch_dir):
    """Both sets attach cgroup programs to the cgroup v2 root (compat counts through them,
    modern learns unconnected UDP peers from them). With no cgroup2 mounted (here: in a
    mount namespace of the test's, all its cgroup2 mounts undone), tcptop mounts one in a
    directory of its own under /run, opens it, and unmounts and removes it at once. It
    still counts exactly, UDP peers included, and -v says it used a private mount; its
    mount namespace holds no cgroup2 while it runs, and its /run (a directory of the
    test's) is left empty."""
    run_dir = scratch_dir / "run"
    run_dir.mkdir()
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4)
    rsock = server.call("udp_socket", family=4)
    ssock = client.call("udp_socket", family=4)
    run = Tcptop(["-d", "250ms", "-v", "-p", "%d,%d" % (server.pid, client.pid)],
                 prefix=["unshare", "--mount", "--propagation", "private", "sh", "-c",
                         NO_CGROUP2, "no-cgroup2", str(run_dir)])
    try:
        run.wait_row(proto="TCP", lport=pair.client_lport, rport=pair.port)
        with open("/proc/%d/mounts" % run.proc.pid) as f:
            mounts = f.read()
        assert " cgroup2 " not in mounts, mounts
        assert_transfer_counted(run, pair, 12_345, 6_789, client)
        client.call("udp_sendto", sid=ssock["sid"], host=rsock["addr"], port=rsock["port"],
                    size=70, count=3)
        got = server.call("udp_recvfrom", sid=rsock["sid"], count=3)["datagrams"]
        assert [d[2] for d in got] == [70] * 3, got
        snap = run.wait_after(time.time())
        sent = snap.one(proto="UDP", lport=ssock["port"], rport=rsock["port"])
        rcvd = snap.one(proto="UDP", lport=rsock["port"], rport=ssock["port"])
        assert (sent["tx_packets"], sent["tx_bytes"]) == (3, 210), sent
        assert (rcvd["rx_packets"], rcvd["rx_bytes"]) == (3, 210), rcvd
        run.stop()
    finally:
        run.kill()
    line = hook_line(run.stderr)
    assert "on a private mount of cgroup2)" in line, line
    assert "refused" not in line and "without cgroup" not in line, line
    assert list(run_dir.iterdir()) == [], list(run_dir.iterdir())
