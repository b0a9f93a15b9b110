"""The closed-connection log (--closed): every connection and UDP flow the test made,
once, with its final counts and how it ended, when it ends; the file rules --log has."""

import csv
import gzip
import io
import json
import os
import stat
import subprocess
import time
from collections import Counter

import pytest

from tcptop_run import Tcptop, flow_map_size, parse_output, parse_time, run_tcptop
from test_owners import ANSWER, REQUEST, connect, server  # noqa: F401 (a fixture)
from traffic import TcpPair

CLOSED_COLUMNS = ["end", "start", "duration_s", "reason", "pid", "comm", "proto", "laddr",
                  "lport", "raddr", "rport", "tx_bytes", "rx_bytes", "tx_packets",
                  "rx_packets", "rtt_us", "retrans", "netns"]
INTEGERS = {"pid", "lport", "rport", "tx_bytes", "rx_bytes", "tx_packets", "rx_packets",
            "rtt_us", "retrans", "netns"}


def read_closed(path):
    """The closed log's records, typed, from CSV or JSONL (either gzipped)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as f:
        text = f.read()
    assert text == "" or text.endswith("\n"), "the log ends in half a line"
    if ".jsonl" in str(path):
        rows = [json.loads(line) for line in text.splitlines()]
        for r in rows:
            assert list(r) == CLOSED_COLUMNS, list(r)
        return rows
    lines = text.splitlines()
    assert lines and lines[0] == ",".join(CLOSED_COLUMNS), lines[:1]
    assert ",".join(CLOSED_COLUMNS) not in lines[1:], "the header comes back"
    rows = []
    for fields in csv.reader(io.StringIO("\n".join(lines[1:]))):
        assert len(fields) == len(CLOSED_COLUMNS), fields
        row = dict(zip(CLOSED_COLUMNS, fields))
        for k in INTEGERS:
            row[k] = int(row[k]) if row[k] != "" else None
        row["duration_s"] = float(row["duration_s"])
        rows.append(row)
    return rows


def check_times(r):
    start, end = parse_time(r["start"]), parse_time(r["end"])
    assert start <= end, r
    assert abs((end - start) - float(r["duration_s"])) < 0.0015, r


def run_while(args, action):
    """tcptop -b -v with args while action() runs, from once its hooks are on (-v says so)
    to a stop; its exit checked. Returns action's result and tcptop's rows. What ended
    after the last drain is drained at the stop."""
    run = Tcptop(["-d", "250ms", "-v"] + args)
    try:
        deadline = time.monotonic() + 20
        while "hook set:" not in run.stderr and "replay" not in run.stderr:
            assert time.monotonic() < deadline and run.proc.poll() is None, run.stderr
            time.sleep(0.05)
        result = action()
        time.sleep(0.3)
        rows, _ = run.stop()
    finally:
        run.kill()
    return result, rows


def test_every_connection_of_a_churn_once_with_exact_bytes_both_ends(server, tag,
                                                                    scratch_dir):
    """1000 short connections: each appears once per end, closed normally, with its exact
    bytes, its process, and a start no later than its end."""
    path = scratch_dir / "closed.csv"
    srv = server("simple")
    cli, _ = run_while(["--closed", str(path), "--port", str(srv["port"])],
                       lambda: connect(tag, srv["port"], count=1000))
    rows = [r for r in read_closed(path) if r["proto"] == "TCP"]
    server_side = [r for r in rows if r["lport"] == srv["port"]]
    client_side = [r for r in rows if r["rport"] == srv["port"]]
    expected = Counter(cli["ports"])
    assert Counter(r["rport"] for r in server_side) == expected
    assert Counter(r["lport"] for r in client_side) == expected
    for r in server_side:
        assert (r["tx_bytes"], r["rx_bytes"]) == (ANSWER, REQUEST), r
        assert (r["pid"], r["comm"], r["reason"]) == (srv["pids"][0], srv["name"], "close"), r
        check_times(r)
    for r in client_side:
        assert (r["tx_bytes"], r["rx_bytes"]) == (REQUEST, ANSWER), r
        assert (r["pid"], r["comm"], r["reason"]) == (cli["pid"], cli["name"], "close"), r
        check_times(r)


CHURN = os.path.join(os.environ.get("TCPTOP_TEST_BIN", ""), "churn")


def test_ten_thousand_connections_a_second_each_once_with_exact_bytes(flow_map_alone,
                                                                       scratch_dir):
    """20000 connections at the rate a C client and server reach here (about 10k a second,
    both ends on this host): every one is in the closed log once per end, 64 bytes each
    way, or the log says how many it lost (it must lose none at these numbers)."""
    assert os.access(CHURN, os.X_OK), "no %s: make check builds it (TCPTOP_TEST_BIN)" % CHURN
    path = scratch_dir / "closed.csv.gz"
    holder = {}

    def churn():
        out = subprocess.run([CHURN, "20000"], stdout=subprocess.PIPE, check=True,
                             timeout=60).stdout
        holder.update(json.loads(out))
        return holder

    run = Tcptop(["-d", "250ms", "-v", "--closed", str(path), "-t"])
    try:
        deadline = time.monotonic() + 20
        while "hook set:" not in run.stderr:
            assert time.monotonic() < deadline and run.proc.poll() is None, run.stderr
            time.sleep(0.05)
        churn()
        time.sleep(0.3)
        _, snaps = run.stop()
    finally:
        run.kill()
    assert "not in the closed log" not in run.stderr, run.stderr
    port = holder["port"]
    rows = read_closed(path)
    server_side = [r for r in rows if r["lport"] == port and r["rport"] is not None]
    client_side = [r for r in rows if r["rport"] == port]
    # What tcptop still showed of the test's connections at the end says where one went.
    last = [r for r in (snaps[-1].rows if snaps else [])
            if port in (r["lport"], r["rport"]) and r["state"] != "LISTEN"]
    assert len(server_side) == holder["count"] == len(client_side), \
        (len(server_side), len(client_side), holder, last[:4], run.stderr[-800:])
    assert Counter(r["rport"] for r in server_side) == Counter(r["lport"] for r in client_side)
    wrong = [r for r in server_side + client_side
             if (r["tx_bytes"], r["rx_bytes"], r["pid"]) != (64, 64, holder["pid"])]
    assert not wrong, "%d rows without exact bytes or process, e.g. %r" % (len(wrong), wrong[:3])


def test_connections_opened_and_closed_as_tcptop_starts_leave_its_view(flow_map_alone):
    """A churn of short connections (5k a second) runs across three starts of tcptop, so
    that connections open, carry their bytes and close while the hooks attach and the
    start-up walk lists the sockets: none of them may stay in the view afterwards. (Each
    start once left some there: a socket walked after it took its slot, or counted by the
    byte hooks before the state hook was attached, was shown open for good.)"""
    assert os.access(CHURN, os.X_OK), "no %s: make check builds it (TCPTOP_TEST_BIN)" % CHURN
    churn = subprocess.Popen([CHURN, "100000000", "5000", "announce"],
                             stdout=subprocess.PIPE, text=True)
    try:
        port = json.loads(churn.stdout.readline())["listening"]
        for _ in range(3):
            result = run_tcptop(["-b", "-n", "--format", "jsonl", "-d", "100ms", "-N", "15",
                                 "--port", str(port)])
            assert result.returncode == 0, result
            _, snaps = parse_output(result.stdout, "jsonl")
            # Each connection lives well under a millisecond: one a second old is stuck.
            stuck = [r for r in snaps[-1].rows
                     if r["state"] not in ("LISTEN", "CLOSE") and r["age_s"] > 1.0]
            assert not stuck, "%d rows stuck open, e.g. %r" % (len(stuck), stuck[:4])
            assert churn.poll() is None, "the churn stopped"
    finally:
        churn.kill()
        churn.wait()


def test_flows_the_writer_cannot_take_are_counted_and_said(flow_map_alone, scratch_dir):
    """The smallest ring (1024, at --max-flows 1024) and 10k connections a second: each
    drain hands the writer thousands of ends at once, more than the ring holds. What does
    not fit is counted and said on stderr, and every connection of the test is in the log
    or counted (in the closed log's losses, or as a flow the full store refused)."""
    assert os.access(CHURN, os.X_OK), "no %s: make check builds it (TCPTOP_TEST_BIN)" % CHURN
    path = scratch_dir / "closed.csv"
    run = Tcptop(["-d", "250ms", "-v", "--max-flows", "1024", "--closed", str(path), "-t"])
    try:
        deadline = time.monotonic() + 20
        while "hook set:" not in run.stderr:
            assert time.monotonic() < deadline and run.proc.poll() is None, run.stderr
            time.sleep(0.05)
        done = json.loads(subprocess.run([CHURN, "20000"], stdout=subprocess.PIPE, check=True,
                                         timeout=60).stdout)
        time.sleep(0.5)
        run.stop()
    finally:
        run.kill()
    said = [line for line in run.stderr.splitlines() if line.startswith("tcptop: lost so far: ")]
    assert said and "ended flows not in the closed log" in said[-1], run.stderr

    def counted(text):
        for part in said[-1].split(": ", 2)[2].split(", "):
            if text in part:
                return int(part.split()[0])
        return 0

    mine = [r for r in read_closed(path) if done["port"] in (r["lport"], r["rport"])]
    missing = 2 * done["count"] - len(mine)
    ends = Counter(r["lport"] if r["rport"] == done["port"] else r["rport"] for r in mine)
    assert 0 <= missing <= counted("not in the closed log") + counted("flow map full"), \
        (len(mine), said[-1], [port for port, n in ends.items() if n != 2][:6])


def test_reset_connections_say_reset_on_both_ends(agents, scratch_dir):
    """A client that closes with SO_LINGER 0 resets the connection: both ends say reset,
    with the bytes they moved."""
    path = scratch_dir / "closed.jsonl"
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4)

    def reset():
        pair.transfer(1234, 4321)
        client.call("close", sid=pair.client_sid, linger0=True)
        time.sleep(0.2)
        server.call("close", sid=pair.server_sid)

    run_while(["--closed", str(path), "--port", str(pair.port)], reset)
    rows = read_closed(path)
    cli = [r for r in rows if r["lport"] == pair.client_lport and r["rport"] == pair.port]
    srv = [r for r in rows if r["lport"] == pair.port and r["rport"] == pair.client_lport]
    assert len(cli) == 1 and len(srv) == 1, rows
    assert (cli[0]["reason"], cli[0]["tx_bytes"], cli[0]["rx_bytes"]) == ("reset", 1234, 4321)
    assert (srv[0]["reason"], srv[0]["tx_bytes"], srv[0]["rx_bytes"]) == ("reset", 4321, 1234)
    assert cli[0]["pid"] == client.pid and srv[0]["pid"] == server.pid


def test_udp_flows_end_by_timeout_with_their_datagrams(agents, scratch_dir):
    """A UDP exchange, then silence longer than --udp-timeout: each side's flow ends with
    reason timeout and its datagrams and bytes."""
    path = scratch_dir / "closed.csv"
    a, b = agents.new("ua"), agents.new("ub")
    sa = a.call("udp_socket")
    sb = b.call("udp_socket")

    def exchange():
        a.call("udp_sendto", sid=sa["sid"], host="127.0.0.1", port=sb["port"], size=100,
               count=7)
        b.call("udp_recvfrom", sid=sb["sid"], count=7)
        time.sleep(2.5)  # past the timeout, and a drain after it

    run_while(["--closed", str(path), "--udp-timeout", "1s", "-u", "--port", str(sb["port"])],
              exchange)
    rows = [r for r in read_closed(path) if r["proto"] == "UDP"]
    sent = [r for r in rows if r["lport"] == sa["port"] and r["rport"] == sb["port"]]
    got = [r for r in rows if r["lport"] == sb["port"] and r["rport"] == sa["port"]]
    assert len(sent) == 1 and len(got) == 1, rows
    assert (sent[0]["reason"], sent[0]["tx_packets"], sent[0]["tx_bytes"]) == \
        ("timeout", 7, 700), sent
    assert (got[0]["reason"], got[0]["rx_packets"], got[0]["rx_bytes"]) == \
        ("timeout", 7, 700), got
    assert sent[0]["pid"] == a.pid and got[0]["pid"] == b.pid


def test_idle_udp_flows_are_evicted_for_new_ones_when_the_store_is_full(flow_map_alone, agents,
                                                                        scratch_dir):
    """With --max-flows 64 beyond the flows tcptop tracks now (the host's, in every
    namespace), peers beyond it are refused until idle flows make room: the idle ones end
    with reason evicted and their counts, and the new peers are counted once they have
    room. Alone (no churn test meanwhile), and 300 flows of its own: the host's flows that
    go away meanwhile leave the map still far too small."""
    path = scratch_dir / "closed.csv"
    receiver, sender = agents.new("ur"), agents.new("us")
    r = receiver.call("udp_socket")
    old = [sender.call("udp_socket") for _ in range(150)]
    new = [sender.call("udp_socket") for _ in range(20)]

    def fill_then_more():
        for s in old:
            sender.call("udp_sendto", sid=s["sid"], host="127.0.0.1", port=r["port"], size=10,
                        count=1)
        receiver.call("udp_recvfrom", sid=r["sid"], count=len(old))
        time.sleep(1.2)  # the old flows idle for a whole interval and more
        for _ in range(3):  # refused, then evicted for: sent again each interval
            for s in new:
                sender.call("udp_sendto", sid=s["sid"], host="127.0.0.1", port=r["port"],
                            size=20, count=1)
            time.sleep(0.6)

    max_flows = str(flow_map_size(room=64))
    _, shown = run_while(["--closed", str(path), "--max-flows", max_flows, "-u", "--dport",
                          str(r["port"])], fill_then_more)
    evicted = [x for x in read_closed(path)
               if x["reason"] == "evicted" and x["rport"] == r["port"]]
    ports = {s["port"] for s in old}
    mine = [x for x in evicted if x["lport"] in ports]
    assert mine, "no idle flow of the test was evicted: %r" % evicted[:5]
    for x in mine:
        assert (x["tx_packets"], x["tx_bytes"], x["pid"]) == (1, 10, sender.pid), x
    newcomers = {row["lport"] for row in shown if row["rport"] == r["port"] and
                 row["lport"] in {s["port"] for s in new} and row["tx_bytes"]}
    assert newcomers, "no new peer was counted after the eviction"


def test_closed_log_follows_the_log_file_rules(scratch_dir, tag):
    """Opened after the BPF load like --log: a symbolic link is refused (exit 1, target
    untouched), a new file is 0600, an existing one is appended to with its header once,
    gzip by the name, JSONL by the name."""
    target = scratch_dir / "target"
    target.write_text("precious\n")
    link = scratch_dir / "closed.csv"
    os.symlink(target, link)
    result = run_tcptop(["-b", "-N", "1", "--closed", str(link)])
    assert result.returncode == 1, result
    assert len(result.stderr.splitlines()) == 1 and "--closed" in result.stderr, result
    assert target.read_text() == "precious\n"

    plain = scratch_dir / "ended.csv"
    old_umask = os.umask(0o022)
    try:
        for _ in range(2):
            result = run_tcptop(["-b", "-N", "1", "-d", "100ms", "--closed", str(plain)])
            assert result.returncode == 0, result
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(os.stat(plain).st_mode) == 0o600
    read_closed(plain)  # one header, whole lines

    for name in ("ended.jsonl", "ended.csv.gz", "ended.jsonl.gz"):
        result = run_tcptop(["-b", "-N", "1", "-d", "100ms", "--closed", str(scratch_dir / name)])
        assert result.returncode == 0, result
        read_closed(scratch_dir / name)
    with gzip.open(scratch_dir / "ended.csv.gz", "rt") as f:
        assert f.readline().startswith("end,start,duration_s,reason,")
