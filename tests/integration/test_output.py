"""What tcptop prints: CSV header and quoting, snapshot times, JSONL, --log, sorting,
rates, age and netns."""

import json
import time

import pytest

from tcptop_run import (COLUMNS, HEADER, INT_COLUMNS, NUMERIC_COLUMNS, REAL_COLUMNS,
                        TEST_HOOKS, TEXT_COLUMNS, assert_owner, parse_output, parse_time,
                        run_tcptop)
from traffic import TcpPair


def traffic_world(agents):
    """A listener, a TCP connection with traffic and a connected UDP pair."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4)
    pair.transfer(20_000, 10_000)
    ua = client.call("udp_socket", family=6, host="::1")
    ub = server.call("udp_socket", family=6, host="::1")
    client.call("udp_connect", sid=ua["sid"], host="::1", port=ub["port"])
    return server, client, pair, ua, ub


# ----------------------------------------------------------------------------------- CSV

def test_csv_header_once_then_rows_with_every_column(agents):
    traffic_world(agents)
    result = run_tcptop(["-b", "-d", "200ms", "-N", "3"])
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    assert lines[0] == HEADER
    assert lines.count(HEADER) == 1
    rows, snaps = parse_output(result.stdout)
    assert len(snaps) == 3, snaps
    for row in rows:
        assert row["proto"] in ("TCP", "UDP"), row
        assert row["laddr"] is not None and row["lport"] is not None, row
        if row["proto"] == "UDP":
            assert row["state"] == "-" and row["rtt_us"] is None, row


def test_snapshot_time_is_iso8601_utc_ms_shared_by_its_rows_and_increasing(agents):
    traffic_world(agents)
    before = time.time()
    result = run_tcptop(["-b", "-d", "250ms", "-N", "4"])
    after = time.time()
    assert result.returncode == 0, result
    _, snaps = parse_output(result.stdout)  # checks the format; a time never comes back
    assert len(snaps) == 4, snaps
    times = [s.time for s in snaps]
    assert times == sorted(times) and len(set(times)) == 4, times
    assert before - 1 <= times[0] and times[-1] <= after + 1, (before, times, after)


@pytest.mark.hooks_independent
def test_first_snapshot_comes_one_interval_after_start():
    start = time.time()
    result = run_tcptop(["-b", "-d", "500ms", "-N", "1", "--replay", "synthetic:5"])
    assert result.returncode == 0, result
    snap = parse_output(result.stdout)[1][0]
    assert snap.time - start >= 0.45, "first snapshot %.3fs after start" % (snap.time - start)
    assert snap.time - start < 3, "first snapshot %.3fs after start" % (snap.time - start)
    assert result.elapsed >= 0.45


@pytest.mark.hooks_independent
def test_snapshots_are_one_interval_apart():
    result = run_tcptop(["-b", "-d", "200ms", "-N", "6", "--replay", "synthetic:5"])
    assert result.returncode == 0, result
    times = [s.time for s in parse_output(result.stdout)[1]]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(gaps) == 5
    # The mean, not each gap: a snapshot delayed by scheduling makes the next gap short.
    mean = sum(gaps) / len(gaps)
    assert 0.17 <= mean <= 0.3, gaps


def test_csv_quotes_comm_with_comma_and_quote_rfc4180(agents, tag):
    """A process named tt,"q_NNNNN: its comm field is "tt,""q_NNNNN" in the CSV."""
    name = 'tt,"q_%s' % tag
    odd = agents.named(name)
    listen = odd.call("tcp_listen", family=4)
    result = run_tcptop(["-b", "-d", "200ms", "-N", "1", "--sport", str(listen["port"])])
    assert result.returncode == 0, result
    quoted = '"tt,""q_%s"' % tag
    lines = result.stdout.splitlines()[1:]
    assert len(lines) == 1, result
    assert ("," + quoted + ",") in lines[0], lines
    rows, _ = parse_output(result.stdout)
    assert rows[0]["comm"] == name, rows
    assert_owner(rows[0], odd)


def test_netns_column_is_network_namespace_inode(agents, netns_inode):
    server, client, pair, _, _ = traffic_world(agents)
    result = run_tcptop(["-b", "-d", "200ms", "-N", "1"])
    snap = parse_output(result.stdout)[1][0]
    for row in (snap.one(proto="TCP", lport=pair.client_lport, rport=pair.port),
                snap.one(proto="TCP", lport=pair.port, state="LISTEN")):
        assert row["netns"] == netns_inode, row


# --------------------------------------------------------------------------------- JSONL

def check_jsonl_types(obj):
    assert list(obj) == COLUMNS, list(obj)
    for key, value in obj.items():
        if value is None:
            assert key not in ("time", "proto", "laddr", "lport"), obj
            continue
        if key in INT_COLUMNS:
            assert type(value) is int and value >= 0, (key, obj)
        elif key in REAL_COLUMNS:
            assert type(value) in (int, float) and value >= 0, (key, obj)
        else:
            assert key in TEXT_COLUMNS and type(value) is str, (key, obj)
    parse_time(obj["time"])


def test_jsonl_lines_parse_with_exact_keys_numbers_and_nulls(tcptop, agents):
    server, client, pair, ua, ub = traffic_world(agents)
    run = tcptop("-d", "250ms", fmt="jsonl")
    run.wait_row(proto="TCP", lport=pair.client_lport, rport=pair.port)
    client.call("udp_send", sid=ua["sid"], size=33, count=3)
    server.call("udp_recv", sid=ub["sid"], count=3)
    pair.transfer(1111, 2222)
    run.wait_after(time.time())
    run.stop()
    text = run.stdout
    assert text.endswith("\n")
    objs = []
    for line in text.splitlines():
        obj = json.loads(line)  # every line is one JSON object
        assert isinstance(obj, dict), line
        check_jsonl_types(obj)
        objs.append(obj)
    last_time = objs[-1]["time"]
    last = [o for o in objs if o["time"] == last_time]
    lsn = [o for o in last if o["lport"] == pair.port and o["state"] == "LISTEN"]
    assert len(lsn) == 1 and lsn[0]["raddr"] is None and lsn[0]["rport"] is None \
        and lsn[0]["rtt_us"] is None, lsn
    cli = [o for o in last if o["lport"] == pair.client_lport and o["rport"] == pair.port]
    assert len(cli) == 1, last
    assert cli[0]["proto"] == "TCP" and cli[0]["pid"] == client.pid \
        and cli[0]["comm"] == client.comm, cli
    assert (cli[0]["tx_bytes"], cli[0]["rx_bytes"]) == (1111, 2222), cli
    assert type(cli[0]["rtt_us"]) is int and cli[0]["rtt_us"] > 0, cli
    udp = [o for o in last if o["proto"] == "UDP" and o["lport"] == ua["port"]]
    assert len(udp) == 1 and udp[0]["rtt_us"] is None and udp[0]["state"] == "-", udp
    assert (udp[0]["tx_packets"], udp[0]["tx_bytes"]) == (3, 99), udp


@pytest.mark.hooks_independent
def test_jsonl_replay_rows_have_typed_values():
    result = run_tcptop(["-b", "-d", "50ms", "-N", "2", "--format", "jsonl",
                         "--replay", "synthetic:20"])
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    assert len(lines) == 40, result
    objs = [json.loads(line) for line in lines]
    for obj in objs:
        check_jsonl_types(obj)
        if obj["proto"] == "UDP":
            assert obj["rtt_us"] is None and obj["state"] == "-", obj
        else:
            assert type(obj["rtt_us"]) is int, obj


@pytest.mark.hooks_independent
def test_jsonl_and_csv_show_the_same_values():
    csv_rows, _ = parse_output(run_tcptop(["-b", "-d", "50ms", "-N", "1", "--replay",
                                           "synthetic:30"]).stdout)
    json_rows, _ = parse_output(run_tcptop(["-b", "-d", "50ms", "-N", "1", "--format", "jsonl",
                                            "--replay", "synthetic:30"]).stdout, "jsonl")
    skip = {"time", "tx_rate", "rx_rate", "age_s"}
    def key(r):
        return tuple(r[c] for c in COLUMNS if c not in skip)
    assert sorted(map(key, csv_rows), key=repr) == sorted(map(key, json_rows), key=repr)


# ----------------------------------------------------------------------------------- log

@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_log_file_gets_the_same_snapshots_as_stdout(agents, scratch_dir, fmt):
    traffic_world(agents)
    log = scratch_dir / ("flows." + fmt)
    result = run_tcptop(["-b", "-d", "200ms", "-N", "3", "--format", fmt, "-l", str(log)])
    assert result.returncode == 0, result
    written = log.read_text()
    assert written == result.stdout, "log differs from stdout"
    _, snaps = parse_output(written, fmt)  # CSV: header exactly once, first
    assert len(snaps) == 3, snaps


@pytest.mark.hooks_independent
def test_log_long_option_with_replay(scratch_dir):
    log = scratch_dir / "replay.csv"
    result = run_tcptop(["-b", "-d", "50ms", "-N", "2", "--log", str(log),
                         "--replay", "synthetic:10"])
    assert result.returncode == 0, result
    assert log.read_text() == result.stdout
    assert len(result.stdout.splitlines()) == 21


# ---------------------------------------------------------------------------------- sort

def check_sorted(snaps, column):
    """Within each snapshot: numbers high to low, text A to Z (empty values ignored)."""
    assert snaps
    for snap in snaps:
        if column == "rate":
            values = [r["tx_rate"] + r["rx_rate"] for r in snap.rows]
        else:
            values = [r[column] for r in snap.rows if r[column] is not None]
        if column in NUMERIC_COLUMNS or column == "rate":
            expected = sorted(values, reverse=True)
        else:
            expected = sorted(values)
        assert values == expected, "-s %s: snapshot %s not in order: %r" % (
            column, snap.time_text, values)


@pytest.mark.hooks_independent
@pytest.mark.parametrize("column", [c for c in COLUMNS if c != "time"] + ["rate"])
def test_sort_orders_replay_rows_within_each_snapshot(column):
    result = run_tcptop(["-b", "-d", "50ms", "-N", "3", "-s", column,
                         "--replay", "synthetic:200:50"])
    assert result.returncode == 0, result
    _, snaps = parse_output(result.stdout)
    assert len(snaps) == 3 and all(len(s.rows) == 200 for s in snaps), snaps
    check_sorted(snaps, column)


@pytest.mark.hooks_independent
def test_default_sort_is_rate_descending():
    result = run_tcptop(["-b", "-d", "50ms", "-N", "3", "--replay", "synthetic:200:50"])
    assert result.returncode == 0, result
    _, snaps = parse_output(result.stdout)
    check_sorted(snaps, "rate")
    # Only the 50 active flows move after the first drain: they come first.
    assert all(r["tx_rate"] + r["rx_rate"] > 0 for r in snaps[-1].rows[:50])
    assert all(r["tx_rate"] + r["rx_rate"] == 0 for r in snaps[-1].rows[50:])


@pytest.mark.parametrize("column", ["tx_bytes", "comm", "lport"])
def test_sort_orders_live_rows(tcptop, agents, column):
    server, client = agents.new("srv"), agents.new("cli")
    pairs = [TcpPair(server, client, family=4) for _ in range(3)]
    run = tcptop("-d", "200ms", "-s", column)
    run.wait_row(proto="TCP", lport=pairs[0].client_lport)
    for i, pair in enumerate(pairs):
        pair.transfer(10_000 * (i + 1), 3000 * (3 - i))
    run.wait_after(time.time())
    _, snaps = run.stop()
    check_sorted(snaps, column)


# --------------------------------------------------------------------------- rates & age

def sent_by(log, t, upper):
    """From a paced sender's log ([[time, bytes sent by then], ...]): the least (or with
    upper, the most) it can have sent by time t."""
    if upper:
        return next((n for when, n in log if when >= t), log[-1][1])
    return ([0] + [n for when, n in log if when <= t])[-1]


RATE, SENDING_S, INTERVAL_S = 200_000, 3.0, 0.4
# The drain that a snapshot's time stamps reads the counters just after: by this long at
# most, even on a loaded machine.
DRAIN_LAG_S = 0.05
# How long after a send a set may count it at the sender: modern counts the send itself,
# compat what the peer acknowledged (a delayed ACK waits up to 200 ms).
COUNT_LAG_S = 0.2 if TEST_HOOKS == "compat" else 0.0


def test_rates_follow_a_paced_sender(tcptop, agents):
    """The client sends 200 kB/s for 3 s, paced by its own clock, and logs what it had
    sent when. For each interval, the client's tx_rate times the interval is what the
    sender's log puts in it (give or take DRAIN_LAG_S of sending at each end, and under
    compat the ACK's delay); each rate
    is the row's own byte increase over the interval; the rates over all intervals add up
    to what was sent, on both rows; nothing flows back; once idle, both rates are 0."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4)
    run = tcptop("-d", "%dms" % (INTERVAL_S * 1000))
    run.wait_row(proto="TCP", lport=pair.client_lport, rport=pair.port)
    total = int(RATE * SENDING_S)
    server.start("recv_exact", sid=pair.server_sid, nbytes=total)
    log = client.call("send_paced", sid=pair.client_sid, rate=RATE, seconds=SENDING_S,
                      timeout=60)["log"]
    server.result()
    done = time.time()
    run.wait_for(lambda s: s.time > done + 2 * INTERVAL_S + COUNT_LAG_S + 0.1,
                 what="two idle snapshots")
    snaps = [s for s in run.snapshots() if s.time > log[0][0] - 2 * INTERVAL_S]
    keys = {"cli": dict(proto="TCP", lport=pair.client_lport, rport=pair.port),
            "srv": dict(proto="TCP", lport=pair.port, rport=pair.client_lport)}
    moved = {"cli": 0.0, "srv": 0.0}
    inside = 0
    slack = RATE * DRAIN_LAG_S
    for s0, s1 in zip(snaps, snaps[1:]):
        dt = s1.time - s0.time
        for side, column, rate, back in (("cli", "tx_bytes", "tx_rate", "rx_rate"),
                                         ("srv", "rx_bytes", "rx_rate", "tx_rate")):
            r0, r1 = s0.one(**keys[side]), s1.one(**keys[side])
            delta = r1[column] - r0[column]
            assert abs(r1[rate] - delta / dt) <= 0.01 * delta / dt + 1, \
                "%s %s=%s but %d bytes in %.3fs" % (side, rate, r1[rate], delta, dt)
            assert r1[back] == 0, "%s: %s: nothing flows back" % (side, r1)
            moved[side] += r1[rate] * dt
        counted = s1.one(**keys["cli"])["tx_rate"] * dt
        low = sent_by(log, s1.time - COUNT_LAG_S, False) - sent_by(log, s0.time, True)
        high = sent_by(log, s1.time, True) - sent_by(log, s0.time - COUNT_LAG_S, False)
        assert low - slack <= counted <= high + slack, \
            "client tx_rate %.0f over %.3fs: %.0f bytes, but the sender sent %d to %d " \
            "between %s and %s" % (counted / dt, dt, counted, low, high, s0.time_text,
                                   s1.time_text)
        inside += log[0][0] < s0.time and s1.time < log[-1][0]
    assert inside >= 4, "only %d intervals fell inside the sending time" % inside
    for side in ("cli", "srv"):
        assert abs(moved[side] - total) <= 0.01 * total, \
            "%s: rates over the intervals add up to %.0f bytes, %d were sent" % (
                side, moved[side], total)
    last = snaps[-1].one(**keys["cli"])
    assert last["tx_rate"] == 0 and last["rx_rate"] == 0, last
    run.stop()


def test_age_grows_between_snapshots(tcptop, agents):
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4)
    run = tcptop("-d", "200ms")
    snaps = run.wait_snapshots(3)
    key = dict(proto="TCP", lport=pair.client_lport, rport=pair.port)
    ages = [s.one(**key)["age_s"] for s in snaps[:3]]
    assert ages[0] >= 0 and ages[0] < ages[1] < ages[2], ages
    assert abs((ages[2] - ages[1]) - (snaps[2].time - snaps[1].time)) < 0.1, ages
    run.stop()
