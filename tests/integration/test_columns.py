"""-o/--columns: the columns CSV, JSONL and --log write (the live view's are in
test_tui.py), on real flows; its usage errors are in test_cli_errors.py."""

import csv
import json

from tcptop_run import COLUMNS, run_tcptop
from traffic import TcpPair


def client_flow(agents):
    """A loopback TCP connection that moved bytes both ways; (pair, client agent)."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4)
    pair.transfer(20_000, 10_000)
    return pair, client


def csv_rows(text):
    lines = text.splitlines()
    return lines[0], list(csv.DictReader(lines))


def is_client_row(row, pair, client):
    return row["pid"] == str(client.pid) and row["rport"] == str(pair.port)


def test_chosen_columns_in_csv_are_written_in_their_order_after_time(agents):
    pair, client = client_flow(agents)
    result = run_tcptop(["-b", "-d", "200ms", "-N", "2", "-o", "rport,pid,lport,comm"])
    assert result.returncode == 0, result
    header, rows = csv_rows(result.stdout)
    assert header == "time,rport,pid,lport,comm", header
    mine = [r for r in rows if is_client_row(r, pair, client)]
    assert len(mine) == 2, rows
    assert all(r["comm"] == client.comm and r["lport"] == str(pair.client_lport) for r in mine)
    assert all(len(r) == 5 and None not in r for r in rows), rows


def test_chosen_columns_in_jsonl_are_the_keys_in_their_order(agents):
    pair, client = client_flow(agents)
    result = run_tcptop(["-b", "-d", "200ms", "-N", "2", "--format", "jsonl",
                         "--columns", "pid,rport,age_s,rtt_us"])
    assert result.returncode == 0, result
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    assert objs and all(list(o) == ["time", "pid", "rport", "age_s", "rtt_us"] for o in objs)
    mine = [o for o in objs if o["pid"] == client.pid and o["rport"] == pair.port]
    assert mine and all(o["age_s"] > 0 and o["rtt_us"] > 0 for o in mine), objs


def test_plus_and_minus_change_the_default_columns(agents):
    pair, client = client_flow(agents)
    result = run_tcptop(["-b", "-d", "200ms", "-N", "1",
                         "-o", "-laddr,-raddr,-state,+state,-time"])
    assert result.returncode == 0, result
    header, rows = csv_rows(result.stdout)
    want = [c for c in COLUMNS if c not in ("laddr", "raddr", "state")] + ["state"]
    assert header == ",".join(want), header
    assert any(is_client_row(r, pair, client) and r["state"] == "ESTABLISHED" for r in rows)


def test_log_holds_the_chosen_columns_and_refuses_other_ones(agents, scratch_dir):
    pair, client = client_flow(agents)
    log = scratch_dir / "flows.csv"
    args = ["-b", "-d", "200ms", "-N", "1", "-l", str(log)]
    result = run_tcptop(args + ["-o", "pid,rport"])
    assert result.returncode == 0, result
    header, rows = csv_rows(log.read_text())
    assert header == "time,pid,rport", header
    assert any(is_client_row(r, pair, client) for r in rows), rows
    result = run_tcptop(args + ["-o", "pid,lport"])
    assert result.returncode == 1, result
    assert "'lport'" in result.stderr and "'rport'" in result.stderr, result
    assert log.read_text().splitlines()[0] == "time,pid,rport"
