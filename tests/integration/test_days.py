"""Running for days: nothing tcptop keeps grows without bound or outlives the flow it was
for, and what it must drop it counts."""

import json
import os
import subprocess
import time

import pytest

from tcptop_run import Tcptop, check_no_sanitizer_report

TEST_BIN = os.environ.get("TCPTOP_TEST_BIN", "")


def tool(name):
    path = os.path.join(TEST_BIN, name)
    assert os.access(path, os.X_OK), "no %s: make check builds it (TCPTOP_TEST_BIN)" % path
    return path


def test_connections_reset_while_sending_leave_no_flow_behind(flow_map_alone):
    """Sixteen threads send on connections the server resets under them, with the flow
    store small enough that most sockets wait for a slot: a slot taken by a send counted
    while the connection's close ran on another CPU would never be given back, and its flow
    would stay in every snapshot. Once the load is over, no flow of it is left."""
    run = Tcptop(["-d", "250ms", "--max-flows", "4096", "-t"])
    try:
        run.wait_snapshots(1)
        done = json.loads(subprocess.run([tool("close_race"), "5", "16"], check=True,
                                         stdout=subprocess.PIPE, timeout=60).stdout)
        time.sleep(1.0)  # the last closes drained, their final rows shown once
        snap = run.wait_after(time.time())
        run.stop()
    finally:
        run.kill()
    assert done["connections"] > 1000, done
    left = [r for r in snap.rows if done["port"] in (r["lport"], r["rport"]) and
            r["state"] != "LISTEN"]
    assert not left, "%d flows outlived their connections, e.g. %r" % (len(left), left[:3])


def loss_lines(stderr):
    return [line for line in stderr.splitlines() if line.startswith("tcptop: lost so far: ")]


def test_closed_flows_beyond_the_bound_go_unshown_counted_and_still_logged(flow_map_alone,
                                                                           scratch_dir):
    """8000 connections open and close within one 2 s interval, with --max-flows 1024: the
    closed flows waiting to be shown are kept to 1024; the others are counted (stderr and
    a JSONL line of their own) and still go to the closed log, where each one is, or is
    counted as lost in its own counter (its ring is as small as the bound here)."""
    path = scratch_dir / "closed.csv"
    run = Tcptop(["-d", "2s", "-v", "--max-flows", "1024", "-t", "--closed", str(path)],
                 fmt="jsonl")
    try:
        deadline = time.monotonic() + 20
        while "hook set:" not in run.stderr:
            assert time.monotonic() < deadline and run.proc.poll() is None, run.stderr
            time.sleep(0.05)
        done = json.loads(subprocess.run([tool("churn"), "4000"], check=True,
                                         stdout=subprocess.PIPE, timeout=60).stdout)
        time.sleep(2.5)
        run.stop()
    finally:
        run.kill()
    said = [line for line in loss_lines(run.stderr) if "closed flows not shown" in line]
    assert said, run.stderr
    unshown = [json.loads(line)["dropped"]["closed_unshown"]
               for line in run.stdout.splitlines() if '"dropped"' in line]
    assert unshown and unshown[-1] > 0, run.stdout[-2000:]
    shown = sum(1 for s in run.snapshots() for r in s.rows
                if done["port"] in (r["lport"], r["rport"]) and r["state"] == "CLOSE")
    assert shown < 2 * done["count"], shown
    with open(path) as f:
        logged = sum(1 for line in f if (",%d," % done["port"]) in line)
    losses = [json.loads(line)["dropped"] for line in run.stdout.splitlines() if '"dropped"' in line]
    closed_lost = max([d["closed_log_lost"] for d in losses] + [0])
    final = [line for line in loss_lines(run.stderr) if "not in the closed log" in line]
    if final:
        closed_lost = max(closed_lost, int(final[-1].split(" ended flows not in")[0].split()[-1]))
    assert 0 <= 2 * done["count"] - logged <= closed_lost, (logged, closed_lost)


@pytest.mark.hooks_independent
def test_snapshots_a_stalled_reader_missed_are_counted(scratch_dir):
    """A reader that stops reading stdout for two seconds: tcptop keeps writing the newest
    snapshot when it can and counts the ones it skipped, on stderr."""
    err = open(scratch_dir / "stderr", "w+")
    proc = subprocess.Popen(["sh", "-c", 'sleep 2; cat > /dev/null',],
                            stdin=subprocess.PIPE)
    tcptop = subprocess.Popen([os.environ["TCPTOP"], "-b", "-d", "20ms", "-N", "150",
                               "--replay", "synthetic:3000"],
                              stdout=proc.stdin, stderr=err)
    proc.stdin.close()
    assert tcptop.wait(timeout=60) == 0
    proc.wait(timeout=10)
    err.seek(0)
    text = err.read()
    check_no_sanitizer_report(text)
    said = [line for line in loss_lines(text) if "snapshots skipped (output too slow)" in line]
    assert said, text
