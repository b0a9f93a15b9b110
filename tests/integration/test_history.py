"""The history column: each row's rate (tx + rx) over its last 40 intervals, oldest first,
in CSV (space-separated, one field) and JSONL (an array), for flows and groups; against the
replay backend's known rates and a real sender that sends, pauses and sends again. The
live view's sparkline is in test_tui_groups.py."""

import csv
import json
import subprocess
import time

import pytest

from tcptop_run import HOOK_ARGS, run_tcptop, tcptop_binary
from traffic import TcpPair

REPLAY = ["-b", "-d", "50ms", "--replay", "synthetic:6:3"]


def by_snapshot(rows):
    snaps = {}
    for r in rows:
        snaps.setdefault(r["time"], []).append(r)
    return [snaps[t] for t in sorted(snaps)]


def rate(r):
    return float(r["tx_rate"]) + float(r["rx_rate"])


def matches(history, rates):
    """The newest is the row's rate (the CSV rounds each: within 1 B/s); those before it
    are kept within 0.034%."""
    return len(history) == len(rates) and all(
        abs(h - w) <= 1 + 0.00035 * w for h, w in zip(history, rates))


@pytest.mark.hooks_independent
def test_history_holds_each_flows_last_forty_rates_in_csv_and_jsonl():
    """45 snapshots of 6 synthetic flows (3 moving): in each snapshot a flow's history is
    the rates its row had in the snapshots so far, the last 40 of them, oldest first.
    Extra: not in the default header."""
    result = run_tcptop(REPLAY + ["-N", "45", "-o", "lport,tx_rate,rx_rate,history"],
                        timeout=30)
    assert result.returncode == 0 and result.stderr == "", result
    lines = result.stdout.splitlines()
    assert lines[0] == "time,lport,tx_rate,rx_rate,history", lines[0]
    snaps = by_snapshot(csv.DictReader(lines))
    assert len(snaps) == 45
    seen = {}
    for n, snap in enumerate(snaps, 1):
        assert len(snap) == 6, snap
        for r in snap:
            seen.setdefault(r["lport"], []).append(rate(r))
            history = [int(x) for x in r["history"].split()]
            want = seen[r["lport"]][-40:]
            assert len(history) == min(n, 40), (n, r)
            assert matches(history, want), (history, want)
    assert sum(1 for rates in seen.values() if rates[-1] > 0) == 3, seen
    result = run_tcptop(REPLAY + ["-N", "3", "--format", "jsonl", "-o", "lport,history"],
                        timeout=30)
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(list(o) == ["time", "lport", "history"] for o in objs), objs[0]
    last = [o for o in objs if o["time"] == objs[-1]["time"]]
    assert all(isinstance(o["history"], list) and len(o["history"]) == 3 and
               all(isinstance(x, int) for x in o["history"]) for o in last), last
    assert sorted(o["history"][-1] > 0 for o in last) == [False] * 3 + [True] * 3, last
    result = run_tcptop(REPLAY + ["-N", "1"], timeout=30)
    assert "history" not in result.stdout.splitlines()[0]


@pytest.mark.hooks_independent
def test_a_groups_history_is_its_summed_rate():
    result = run_tcptop(REPLAY + ["-N", "12", "--group", "process",
                                  "-o", "pid,tx_rate,rx_rate,history"], timeout=30)
    assert result.returncode == 0 and result.stderr == "", result
    snaps = by_snapshot(csv.DictReader(result.stdout.splitlines()))
    seen = {}
    for n, snap in enumerate(snaps, 1):
        for r in snap:
            seen.setdefault(r["pid"], []).append(rate(r))
            history = [int(x) for x in r["history"].split()]
            assert len(history) == n, (n, r)
            assert matches(history, seen[r["pid"]]), r


@pytest.mark.hooks_independent
def test_history_is_no_sort_key():
    result = run_tcptop(REPLAY + ["-N", "1", "-s", "history"], timeout=30)
    assert result.returncode == 2 and result.stdout == "", result
    assert result.stderr.startswith("tcptop: -s/--sort 'history'"), result


INTERVAL_S = 0.2


def test_history_of_a_sender_that_pauses_shows_both_bursts_and_their_bytes(agents):
    """The client sends 60000 bytes, pauses a second, sends 20000: its last history has
    both bursts with idle intervals between them, and its rates times the interval add up
    to the bytes it sent (within 10%: the rates are over measured intervals)."""
    pair = TcpPair(agents.new("srv"), agents.new("cli"))
    proc = subprocess.Popen([tcptop_binary()] + HOOK_ARGS +
                            ["-b", "-d", "%dms" % (INTERVAL_S * 1000), "-N", "16",
                             "-o", "lport,tx_bytes,history", "--port", str(pair.port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    header = proc.stdout.readline()
    assert header == "time,lport,tx_bytes,history\n", (header, proc.stderr.read())
    proc.stdout.readline()  # the first snapshot: counting has started
    pair.transfer(60000, 0)
    time.sleep(1.0)
    pair.transfer(20000, 0)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    rows = [r for r in csv.DictReader([header] + out.splitlines())
            if r["lport"] == str(pair.client_lport)]
    last = rows[-1]
    history = [int(x) for x in last["history"].split()]
    assert int(last["tx_bytes"]) == 80000, last
    busy = [i for i, h in enumerate(history) if h > 0]
    assert busy and any(history[i] == 0 for i in range(busy[0], busy[-1])), history
    moved = sum(history) * INTERVAL_S
    assert abs(moved - 80000) <= 8000, (moved, history)
