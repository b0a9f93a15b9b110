"""How TCP listeners are doing: backlog (the accept queue), backlog_max (listen()'s backlog)
and drops (connections the listener dropped, the kernel's sk_drops) with drop_rate, against
the kernel's own ListenDrops counter; and the live view's header line. A listener with
backlog 2 that never accepts, hit by 20 connects."""

import csv
import errno
import re
import socket
import subprocess
import time

from tcptop_run import HOOK_ARGS, run_tcptop, tcptop_binary
from test_tui import tui  # noqa: F401 (a fixture)

CONNECTS = 20


def listen_drops():
    """TcpExt ListenDrops of this network namespace, as nstat reads it."""
    with open("/proc/net/netstat") as f:
        lines = f.read().splitlines()
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            return int(dict(zip(names.split(), values.split()))["ListenDrops"])
    raise AssertionError("no TcpExt in /proc/net/netstat")


def listener(backlog=2):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(backlog)
    return sock


def connect_all(port, count=CONNECTS):
    """Non-blocking connects: the first few fill the accept queue, the rest wait in SYN_SENT
    while the listener drops their SYNs."""
    socks = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex(("127.0.0.1", port))
        assert err in (0, errno.EINPROGRESS), err
        socks.append(s)
    return socks


def test_a_full_accept_queue_shows_its_backlog_and_drops_as_the_kernel_counts_them():
    """Before the clients' first SYN retransmission (1 s) they close, so that the drops
    stop: then the row's drops equal the ListenDrops the connects made, backlog is 2-3
    (the kernel queues backlog + 1) of backlog_max 2, and drop_rate was above 0 while they
    came. Other listeners' queue columns are theirs; a flow that is no listener has none."""
    lsock = listener()
    port = lsock.getsockname()[1]
    proc = subprocess.Popen([tcptop_binary()] + HOOK_ARGS +
                            ["-b", "-d", "200ms", "-N", "12", "--port", str(port), "-o",
                             "lport,rport,state,backlog,backlog_max,drops,drop_rate"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    header = proc.stdout.readline()
    assert header.startswith("time,lport"), (header, proc.stderr.read())
    first = next(csv.DictReader([header, proc.stdout.readline()]))  # the listener alone
    before = listen_drops()
    clients = connect_all(port)
    time.sleep(0.5)
    for s in clients:
        s.close()
    dropped = listen_drops() - before
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    rows = list(csv.DictReader([header] + out.splitlines()))
    listens = [r for r in rows if r["state"] == "LISTEN" and r["lport"] == str(port)]
    assert listens, rows
    last = listens[-1]
    assert dropped >= CONNECTS - 3, dropped
    # (ListenDrops is the namespace's: another test's listener may add to it meanwhile.)
    assert int(last["drops"]) == dropped or CONNECTS - 3 <= int(last["drops"]) < dropped, \
        (last, dropped)
    assert int(last["backlog"]) in (2, 3) and last["backlog_max"] == "2", last
    assert any(float(r["drop_rate"]) > 0 for r in listens), listens
    assert (first["state"], first["backlog"], first["drops"]) == ("LISTEN", "0", "0"), first
    others = [r for r in rows if r["state"] != "LISTEN"]
    assert others and all(r["backlog"] == r["drops"] == r["drop_rate"] == "" for r in others), \
        others
    lsock.close()


def test_listener_columns_are_extras_and_null_in_replay():
    result = run_tcptop(["-b", "-N", "1", "-d", "50ms", "--replay", "synthetic:4:2"],
                        timeout=20)
    assert "backlog" not in result.stdout.splitlines()[0]
    result = run_tcptop(["-b", "-N", "1", "-d", "50ms", "--replay", "synthetic:4:2",
                         "-o", "lport,backlog,backlog_max,drops,drop_rate"], timeout=20)
    assert result.returncode == 0, result
    assert all(line.endswith(",,,,") for line in result.stdout.splitlines()[1:]), result.stdout


def test_live_view_header_says_the_listen_drops_of_the_last_interval(tui):
    lsock = listener()
    port = lsock.getsockname()[1]
    # The server's side only (the listener and the connections in its queue): the 20
    # clients would push the listener's row off the screen.
    run = tui("-d", "500ms", "-n", "--sport", str(port), "-o", "+backlog,backlog_max,drops",
              width=200, height=20, env=["NO_COLOR=1"])
    run.wait(lambda s: "Listen drops: " in s and "LISTEN" in s and "BACKLOG" in s and
             "DROPS" in s, "the header")
    clients = connect_all(port)
    try:
        # The header and the listener's row (3 queued of 2) in one frame.
        run.wait(lambda s: re.search(r"Listen drops: [1-9]", s) and
                 re.search(r"LISTEN +3 +2 +\d+", s), "the drops")
    finally:
        for s in clients:
            s.close()
        lsock.close()
