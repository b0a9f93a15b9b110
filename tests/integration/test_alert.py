"""--alert RATE: the alert column of CSV and JSONL against a paced sender on loopback, and
the live view's marks and bell (once per crossing) on the replay backend's steady rates.
Bad values are in test_cli_errors.py, the parser's units in tests/unit/test_parse.c."""

import csv
import json
import subprocess

import pytest

from tcptop_run import COLUMNS, HOOK_ARGS, run_tcptop, tcptop_binary
from traffic import TcpPair

RATE, SENDING_S, INTERVAL_MS = 400_000, 2.0, 200


def paced_run(agents, fmt):
    """tcptop -b --alert 100KiB/s watching one connection whose client sends 400 kB/s
    for 2 s; its rows keyed by (lport, time)."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4)
    snapshots = int((SENDING_S + 1.0) * 1000 / INTERVAL_MS) + 2
    proc = subprocess.Popen([tcptop_binary()] + HOOK_ARGS +
                            ["-b", "-d", "%dms" % INTERVAL_MS, "-N", str(snapshots),
                             "--format", fmt, "--alert", "100KiB/s", "--port", str(pair.port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    assert first, proc.stderr.read()
    server.start("recv_exact", sid=pair.server_sid, nbytes=int(RATE * SENDING_S))
    client.call("send_paced", sid=pair.client_sid, rate=RATE, seconds=SENDING_S, timeout=60)
    server.result()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    if fmt == "csv":
        rows = list(csv.DictReader([first] + out.splitlines()))
        assert list(rows[0]) == COLUMNS + ["alert"], first
    else:
        rows = [json.loads(line) for line in [first] + out.splitlines()]
        assert all(list(r) == COLUMNS + ["alert"] for r in rows), rows[0]
    return pair, rows


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_alert_column_is_1_exactly_while_a_rate_is_above(agents, fmt):
    """Each row's alert is 1 when its tx_rate or its rx_rate exceeds 100 KiB/s, else 0:
    the sending client's tx and the server's rx go above while the sender runs; the
    listener never does."""
    pair, rows = paced_run(agents, fmt)
    threshold = 100 * 1024
    seen = {"above": set(), "below": 0}
    for r in rows:
        above = float(r["tx_rate"]) > threshold or float(r["rx_rate"]) > threshold
        assert int(r["alert"]) == int(above), r
        if above:
            seen["above"].add(str(r["lport"]))
        else:
            seen["below"] += 1
    assert seen["above"] == {str(pair.port), str(pair.client_lport)}, seen
    assert seen["below"] >= 3, seen


@pytest.mark.hooks_independent
def test_alert_column_follows_columns_option():
    """-o places the alert column or removes it; a plain list gains it at the end."""
    base = ["-b", "-N", "1", "--replay", "synthetic:2", "--alert", "1MiB/s"]
    for columns, header in (("pid,tx_rate", "time,pid,tx_rate,alert"),
                            ("alert,pid", "time,alert,pid"),
                            ("-alert", ",".join(COLUMNS)),
                            ("-netns", ",".join(c for c in COLUMNS if c != "netns") + ",alert")):
        result = run_tcptop(base + ["-o", columns], timeout=20)
        assert result.returncode == 0, result
        assert result.stdout.splitlines()[0] == header, (columns, result.stdout)
    result = run_tcptop(["-b", "-N", "1", "--replay", "synthetic:2"], timeout=20)
    assert result.stdout.splitlines()[0] == ",".join(COLUMNS), result.stdout
