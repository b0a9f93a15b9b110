"""--group: real traffic from several processes, grouped live (per-process bytes within 1%
of what each process sent) and recorded; the recording replayed in every grouping, in CSV
and JSONL, sums to what its flows sum to."""
import csv
import io
import json
import os
import signal
import subprocess
import threading
import time

import pytest

from tcptop_run import HOOK_ARGS, run_tcptop, tcptop_binary
from traffic import TcpPair

GROUPINGS = ["process", "remote", "port", "cgroup"]
SUMMED = ["tx_bytes", "rx_bytes", "tx_packets", "rx_packets", "flows"]
STATES = ["established", "opening", "closing", "listen", "closed", "udp"]


def typed(value):
    if value in ("", None):
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def snapshots_of(text, fmt):
    """{time: [row dict, ...]} in order, values typed alike for CSV and JSONL."""
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    else:
        rows = [json.loads(line) for line in text.splitlines() if line]
        rows = [r for r in rows if "dropped" not in r]
    snaps = {}
    for row in rows:
        snaps.setdefault(row["time"], []).append({k: typed(v) for k, v in row.items()})
    return snaps


class GroupedRun:
    """tcptop -b --group process in the background, its stdout kept."""

    def __init__(self, args):
        self.proc = subprocess.Popen([tcptop_binary()] + HOOK_ARGS + ["-b"] + args,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def text(self):
        return "".join(self.lines)

    def wait_row(self, pid, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for rows in snapshots_of(self.text(), "csv").values():
                if any(r["pid"] == pid for r in rows):
                    return
            time.sleep(0.05)
        raise AssertionError("no row of pid %d: %s%s" % (pid, self.text(), self.proc.stderr))

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        _, err = self.proc.communicate(timeout=15)
        self.reader.join(5)
        assert self.proc.returncode == 0, err
        return self.text()


@pytest.fixture
def traffic(agents, scratch_dir):
    """Three clients send 100, 200 and 300 kB to one server (which answers a tenth) under
    tcptop --group process, which also records: the live text, the recording, the pids and
    what each client sent."""
    server = agents.new("srv")
    clients = [agents.new("c%d" % i) for i in range(3)]
    pids = ",".join(str(a.pid) for a in [server] + clients)
    recording = str(scratch_dir / "rec")
    run = GroupedRun(["-d", "200ms", "-p", pids, "--group", "process", "-w", recording])
    try:
        server.call("tcp_listen", family=4)
        run.wait_row(server.pid)
        sent = {}
        for i, client in enumerate(clients):
            up, down = 100000 * (i + 1), 10000 * (i + 1)
            TcpPair(server, client).transfer(up, down)
            sent[client.pid] = (up, down)
        done = time.time()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            times = list(snapshots_of(run.text(), "csv"))
            if len(times) > 1 and times[-2] > time.strftime("%Y-%m-%dT%H:%M:%S",
                                                            time.gmtime(done + 1)):
                break
            time.sleep(0.1)
    finally:
        text = run.stop()
    return {"live": text, "recording": recording, "pids": pids, "server": server.pid,
            "sent": sent}


def replay(traffic, grouping, fmt):
    result = run_tcptop(["-r", traffic["recording"], "-b", "-p", traffic["pids"], "--group",
                         grouping, "--format", fmt])
    assert result.returncode == 0, result
    return snapshots_of(result.stdout, fmt)


def assert_per_process(rows, traffic):
    by_pid = {r["pid"]: r for r in rows}
    for pid, (up, down) in traffic["sent"].items():
        row = by_pid[pid]
        assert abs(row["tx_bytes"] - up) <= 0.01 * up, row
        assert abs(row["rx_bytes"] - down) <= 0.01 * down, row
        assert row["flows"] == row["established"] == 1, row
    server = by_pid[traffic["server"]]
    ups = sum(up for up, _ in traffic["sent"].values())
    downs = sum(down for _, down in traffic["sent"].values())
    assert abs(server["rx_bytes"] - ups) <= 0.01 * ups, server
    assert abs(server["tx_bytes"] - downs) <= 0.01 * downs, server
    assert (server["listen"], server["established"]) == (4, 3), server


def test_process_grouping_shows_each_process_bytes_live(traffic):
    snaps = snapshots_of(traffic["live"], "csv")
    header = traffic["live"].splitlines()[0]
    assert header == ("time,pid,comm,flows,tx_bytes,rx_bytes,tx_packets,rx_packets,tx_rate,"
                      "rx_rate,rtt_us,retrans,established,opening,closing,listen,closed,udp")
    assert_per_process(list(snaps.values())[-2], traffic)


def test_every_grouping_sums_its_flows_in_csv_and_jsonl(traffic):
    flows = replay(traffic, "flow", "csv")
    last = list(flows)[-1]
    for grouping in GROUPINGS:
        csv_snaps = replay(traffic, grouping, "csv")
        jsonl_snaps = replay(traffic, grouping, "jsonl")
        assert csv_snaps == jsonl_snaps, grouping
        groups = csv_snaps[last]
        for column in ["tx_bytes", "rx_bytes", "tx_packets", "rx_packets"]:
            assert sum(g[column] for g in groups) == sum(f[column] for f in flows[last]), \
                (grouping, column)
        assert sum(g["flows"] for g in groups) == len(flows[last]), grouping
        for g in groups:
            assert sum(g[s] for s in STATES) == g["flows"], g
    assert_per_process(replay(traffic, "process", "jsonl")[last], traffic)
    ports = {g["port"]: g for g in replay(traffic, "port", "csv")[last]}
    for f in flows[last]:
        if f["state"] == "LISTEN":
            # Its listener, the connection it accepted and the one the client opened.
            assert (ports[f["lport"]]["flows"], ports[f["lport"]]["listen"]) in [(1, 1), (3, 1)]
    result = run_tcptop(["-r", traffic["recording"], "-b", "-p", traffic["pids"], "--group",
                         "process", "-o", "comm,flows", "-s", "flows"])
    lines = result.stdout.splitlines()
    assert lines[0] == "time,comm,flows", result
    chosen = snapshots_of(result.stdout, "csv")[last]
    assert [g["flows"] for g in chosen] == sorted((g["flows"] for g in chosen), reverse=True)
    assert chosen[0]["flows"] == 7, chosen  # the server: 4 listeners, 3 connections
    remotes = {g["raddr"]: g for g in replay(traffic, "remote", "csv")[last]}
    assert remotes["127.0.0.1"]["flows"] == 6 and remotes[None]["listen"] == 4, remotes


@pytest.mark.hooks_independent
@pytest.mark.parametrize("args, words", [
    (["--group", "host"], ["--group", "'host'", "flow, process, remote, port or cgroup"]),
    (["--group", "process", "-o", "+laddr"], ["-o/--columns", "laddr", "--group process"]),
    (["--group", "port", "-s", "pid"], ["-s/--sort", "pid", "--group port"]),
    (["-o", "+flows"], ["-o/--columns", "flows", "--group"]),
])
def test_bad_grouping_is_a_usage_error(args, words):
    result = run_tcptop(["-b", "-N", "1"] + args)
    assert (result.returncode, result.stdout) == (2, ""), result
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tcptop: " + words[0]), result
    for word in words[1:]:
        assert word in lines[0], result
