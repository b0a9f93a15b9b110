"""How tcptop ends: on SIGINT/SIGTERM after a complete last snapshot, when stdout's reader
goes away (EPIPE), and after --count snapshots."""

import signal
import subprocess
import time

import pytest

from tcptop_run import HOOK_ARGS, TCPTOP, check_no_sanitizer_report


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_exits_0_after_last_complete_snapshot_live(tcptop, agents, sig):
    owner = agents.new("sig")
    listen = owner.call("tcp_listen", family=4)
    run = tcptop("-d", "200ms")
    run.wait_row(proto="TCP", lport=listen["port"], state="LISTEN")
    run.wait_snapshots(2)
    rows, snaps = run.stop(sig, timeout=10)  # exit 0, no sanitizer report, no partial line
    assert len(snaps) >= 2
    for snap in snaps:
        assert snap.find(proto="TCP", lport=listen["port"], state="LISTEN"), snap


@pytest.mark.hooks_independent
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_during_large_snapshots_leaves_only_complete_snapshots(tcptop, sig):
    """3000 synthetic flows every 20ms: whenever the signal lands, every snapshot printed
    has all 3000 rows and the output ends with a full line."""
    run = tcptop("-d", "20ms", "--replay", "synthetic:3000:100")
    run.wait_snapshots(3, timeout=20)
    time.sleep(0.37)
    rows, snaps = run.stop(sig, timeout=10)
    assert len(snaps) >= 3
    assert [len(s.rows) for s in snaps] == [3000] * len(snaps)


@pytest.mark.hooks_independent
def test_count_stops_after_n_snapshots(tcptop):
    run = tcptop("-d", "100ms", "-N", "4", "--replay", "synthetic:7")
    rows, snaps = run.wait_exit(timeout=20)
    assert len(snaps) == 4 and len(rows) == 28


def _pipe_to_head(args):
    """tcptop ARGS | head -1 with a real pipe; returns (tcptop exit, seconds after head
    exited, head's output, tcptop's stderr)."""
    producer = subprocess.Popen([TCPTOP] + HOOK_ARGS + args, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    head = subprocess.Popen(["head", "-1"], stdin=producer.stdout, stdout=subprocess.PIPE)
    producer.stdout.close()  # only head holds the read end now
    try:
        first, _ = head.communicate(timeout=30)
        closed = time.monotonic()
        status = producer.wait(timeout=15)
        waited = time.monotonic() - closed
    finally:
        if producer.poll() is None:
            producer.kill()
            producer.wait()
    err = producer.stderr.read().decode(errors="replace")
    producer.stderr.close()
    check_no_sanitizer_report(err, "tcptop " + " ".join(args))
    return status, waited, first.decode(), err


def test_closed_stdout_pipe_ends_tcptop_promptly_with_exit_0(agents):
    owner = agents.new("pip")
    owner.call("tcp_listen", family=4)  # something to print in every snapshot
    status, waited, first, err = _pipe_to_head(["-b", "-d", "200ms"])
    assert first.startswith("time,pid,comm"), first
    assert status == 0, "exit %s, stderr %r" % (status, err)
    assert waited < 5, "tcptop took %.1fs to notice the closed pipe" % waited


def test_head_ends_tcptop_before_the_first_snapshot_with_a_long_interval():
    """The header reaches head at once and tcptop notices the closed pipe without waiting
    for its next write: with a 10 s interval, well before the first snapshot."""
    started = time.monotonic()
    status, waited, first, err = _pipe_to_head(["-b", "-d", "10s"])
    assert first.startswith("time,pid,comm"), first
    assert status == 0, "exit %s, stderr %r" % (status, err)
    assert time.monotonic() - started < 5, "took %.1fs" % (time.monotonic() - started)


@pytest.mark.hooks_independent
def test_closed_stdout_pipe_with_replay_exits_0():
    status, waited, first, err = _pipe_to_head(["-b", "-d", "50ms", "--replay",
                                                "synthetic:1000"])
    assert status == 0, "exit %s, stderr %r" % (status, err)
    assert waited < 5, waited


@pytest.mark.hooks_independent
def test_pipe_closed_by_reader_before_any_output():
    """The reader closes its end without reading: tcptop still exits 0."""
    producer = subprocess.Popen([TCPTOP, "-b", "-d", "50ms", "--replay", "synthetic:10"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    producer.stdout.close()
    try:
        status = producer.wait(timeout=10)
    finally:
        if producer.poll() is None:
            producer.kill()
            producer.wait()
    err = producer.stderr.read().decode(errors="replace")
    producer.stderr.close()
    check_no_sanitizer_report(err)
    assert status == 0, err
