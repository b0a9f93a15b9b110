"""The 2 s / 10 s / 40 s window averages (tx_rate_2s ... rx_rate_40s, extra columns): their
CSV and JSONL form on the replay backend's steady synthetic rates, and their values against
a paced sender on loopback (the live view's w key is in test_tui.py)."""

import csv
import json
import subprocess

import pytest

from tcptop_run import COLUMNS, HOOK_ARGS, TEST_HOOKS, parse_time, run_tcptop, tcptop_binary
from traffic import TcpPair

WINDOWS = ["tx_rate_2s", "rx_rate_2s", "tx_rate_10s", "rx_rate_10s", "tx_rate_40s",
           "rx_rate_40s"]


@pytest.mark.hooks_independent
def test_window_columns_in_csv_and_jsonl_follow_a_steady_rate():
    """Replay: each active synthetic flow moves the same bytes every interval, so after
    a second every window shows its average rate (the flow is younger than every
    window: they average over its age). Extra columns: not in the default header."""
    args = ["-b", "-d", "50ms", "-N", "20", "--replay", "synthetic:6:3"]
    result = run_tcptop(args, timeout=20)
    assert result.returncode == 0, result
    assert result.stdout.splitlines()[0] == ",".join(COLUMNS)
    result = run_tcptop(args + ["-o", "+" + ",".join(WINDOWS)], timeout=20)
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    assert lines[0] == ",".join(COLUMNS + WINDOWS), lines[0]
    rows = list(csv.DictReader(lines))
    last = [r for r in rows if r["time"] == rows[-1]["time"]]
    moving = [r for r in last if float(r["tx_rate"]) > 0]
    assert len(moving) == 3, last
    for r in moving:
        # Its average rate from the first snapshot to the last: the drains move the same
        # bytes each, so on a loaded host one interval's rate can be off by far more.
        first = next(f for f in rows if f["lport"] == r["lport"])
        span = parse_time(r["time"]) - parse_time(first["time"])
        for w in WINDOWS:
            d = w[:2] + "_bytes"
            rate = (int(r[d]) - int(first[d])) / span
            assert abs(float(r[w]) - rate) <= 0.1 * rate, (w, r, rate)
    assert all(float(r[w]) == 0 for r in last if r not in moving for w in WINDOWS), last
    result = run_tcptop(args + ["--format", "jsonl", "-o", "pid,tx_rate," + ",".join(WINDOWS)],
                        timeout=20)
    assert result.returncode == 0, result
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(list(o) == ["time", "pid", "tx_rate"] + WINDOWS for o in objs), objs[0]
    assert all(isinstance(o[w], (int, float)) for o in objs for w in WINDOWS), objs[0]
    assert any(o["tx_rate_2s"] > 0 for o in objs)


def sent_between(log, t0, t1):
    """Bytes a paced sender's log ([[time, sent by then], ...]) puts between t0 and t1,
    as if sent evenly between its entries."""
    def sent_at(t):
        if t <= log[0][0]:
            return 0
        for (a, na), (b, nb) in zip(log, log[1:]):
            if a <= t <= b:
                return na + (nb - na) * (t - a) / (b - a) if b > a else nb
        return log[-1][1]
    return sent_at(t1) - sent_at(t0)


RATE, SENDING_S, INTERVAL_MS = 200_000, 3.0, 100
# The 2 s window's buckets: bytes leave it with the whole of the oldest one.
BUCKET_S = 0.5


def test_windows_follow_a_paced_sender(agents):
    """The client sends 200 kB/s for 3 s. While it sends, its tx_rate_2s is what the
    sender's log puts in the last 2 s, over 2 s; tx_rate_10s and tx_rate_40s (the flow is
    younger) are its bytes over its age; the server's rx windows match; once it has been
    idle for 2 s (and the 2 s window's last bucket has gone), the 2 s window is 0 and the longer ones what was sent over the age."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4)
    snapshots = int((SENDING_S + 3.2) * 1000 / INTERVAL_MS) + 3
    cols = "pid,lport,rport," + ",".join(WINDOWS)
    proc = subprocess.Popen([tcptop_binary()] + HOOK_ARGS +
                            ["-b", "-d", "%dms" % INTERVAL_MS, "-N", str(snapshots), "-o", cols,
                             "--port", str(pair.port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    header = proc.stdout.readline()
    assert header.startswith("time,pid"), (header, proc.stderr.read() if not header else "")
    proc.stdout.readline()  # a first snapshot: the counters are taken
    server.start("recv_exact", sid=pair.server_sid, nbytes=int(RATE * SENDING_S))
    log = client.call("send_paced", sid=pair.client_sid, rate=RATE, seconds=SENDING_S,
                      timeout=60)["log"]
    server.result()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    rows = list(csv.DictReader([header] + out.splitlines()))
    begin, end = log[0][0], log[-1][0]
    lag = 0.25 if TEST_HOOKS == "compat" else 0.05  # compat counts acknowledged bytes
    checked = {"sending": 0, "idle": 0}
    for r in rows:
        t = parse_time(r["time"])
        if r["rport"] not in (str(pair.port), str(pair.client_lport)):
            continue  # the listener
        side = "cli" if r["lport"] == str(pair.client_lport) else "srv"
        tx, rx = ("tx", "rx") if side == "cli" else ("rx", "tx")
        age = t - begin
        if begin + 2.3 < t < end - 0.1:
            checked["sending"] += 1
            want = sent_between(log, t - 2.0, t) / 2.0
            assert abs(float(r[tx + "_rate_2s"]) - want) <= 0.15 * want, (side, r, want)
            for w in ("10s", "40s"):
                assert abs(float(r["%s_rate_%s" % (tx, w)]) - RATE) <= 0.15 * RATE, (side, r)
            assert all(float(r["%s_rate_%s" % (rx, w)]) == 0 for w in ("2s", "10s", "40s")), r
        elif t > end + 2.0 + BUCKET_S + INTERVAL_MS / 1000 + lag:
            checked["idle"] += 1
            assert float(r[tx + "_rate_2s"]) == 0, (side, r)
            want = RATE * SENDING_S / age
            for w in ("10s", "40s"):
                assert abs(float(r["%s_rate_%s" % (tx, w)]) - want) <= 0.15 * want, (side, r)
    assert checked["sending"] >= 4 and checked["idle"] >= 2, (checked, rows[-1])
