"""Limits: a flow map too small for the host's flows says so on stderr and goes on."""

import subprocess
import time

from tcptop_run import assert_owner


def test_full_flow_map_is_reported_once_on_stderr_and_tracked_flows_stay_exact(tcptop, agents):
    sender = agents.new("snd")
    marker = sender.call("tcp_listen", family=4)
    sock = sender.call("udp_socket", family=4, host="127.0.0.1")
    # Room for what the host has now plus some of ours, never all of ours: the map fills.
    host_sockets = len(subprocess.run(["ss", "-tuanH"], capture_output=True, text=True,
                                      check=True).stdout.splitlines())
    max_flows = max(64, host_sockets + 64)
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
