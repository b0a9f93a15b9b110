"""Signals against a stalled world: SIGINT/SIGTERM end tcptop within a second even when
stdout's reader stopped reading; the log still gets every snapshot meanwhile; and while
the stop waits for a log that cannot take its last snapshot, a second signal ends tcptop
at once."""

import array
import fcntl
import os
import pty
import signal
import subprocess
import sys
import termios
import time

import pytest

from tcptop_run import HOOK_ARGS, TCPTOP, check_no_sanitizer_report, parse_output

HERE = os.path.dirname(os.path.abspath(__file__))


def queued(fd):
    """Bytes waiting in a pipe or terminal, unread."""
    n = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, n)
    return n[0]


def wait_until_stalled(read_fd, proc, timeout=20):
    """Until what is queued for the reader stops growing: the writer is blocked."""
    deadline, last, same = time.monotonic() + timeout, -1, 0
    while same < 5:
        assert time.monotonic() < deadline, "stdout never filled up"
        assert proc.poll() is None, proc.stderr.read()
        now = queued(read_fd)
        same = same + 1 if now == last and now > 0 else 0
        last = now
        time.sleep(0.1)


def unread_stdout(kind):
    """(write end for tcptop, read end the test never reads)."""
    if kind == "pipe":
        r, w = os.pipe()
        return w, r
    master, slave = pty.openpty()
    return slave, master


@pytest.mark.hooks_independent
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("kind", ["pipe", "terminal"])
def test_signal_ends_tcptop_within_a_second_while_stdout_is_not_read(scratch_dir, kind, sig):
    """`tcptop -b | (sleep 1000)`: the reader never reads, stdout fills up; the signal ends
    tcptop within a second all the same, exit 0, and it says what stdout missed. The log,
    written by a writer of its own, has every snapshot of the run, whole."""
    log = scratch_dir / "log.csv"
    write_end, read_end = unread_stdout(kind)
    proc = subprocess.Popen([TCPTOP] + HOOK_ARGS +
                            ["-b", "-d", "100ms", "--replay", "synthetic:2000",
                             "--log", str(log)],
                            stdout=write_end, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    os.close(write_end)
    started = time.monotonic()
    try:
        wait_until_stalled(read_end, proc)
        time.sleep(1.0)  # a second of snapshots stdout cannot take
        sent = time.monotonic()
        proc.send_signal(sig)
        status = proc.wait(timeout=10)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(read_end)
    ran = sent - started
    err = proc.stderr.read().decode(errors="replace")
    check_no_sanitizer_report(err)
    assert status == 0, err
    assert took < 1.0, "took %.2f s to end after the signal" % took
    lost = [line for line in err.splitlines() if line.startswith("tcptop: lost so far: ")]
    assert lost and "snapshots skipped (output too slow)" in lost[-1], err
    assert "log" not in lost[-1], err
    rows, snaps = parse_output(log.read_text())
    assert [len(s.rows) for s in snaps] == [2000] * len(snaps)
    # Every interval of the run: none skipped while stdout was stalled.
    assert len(snaps) >= ran / 0.1 * 0.8, "%d snapshots in %.1f s" % (len(snaps), ran)
    gaps = [b.time - a.time for a, b in zip(snaps, snaps[1:])]
    assert max(gaps) < 0.19, "the log skipped an interval: %.2f s gap" % max(gaps)


@pytest.fixture
def hung_filesystem(scratch_dir):
    """A FUSE filesystem (hangfs.py) mounted for the test, and its server's pid: SIGSTOP
    to it makes every request wait, as when a network filesystem's server goes away."""
    mount = scratch_dir / "hung"
    mount.mkdir()
    server = subprocess.Popen([sys.executable, os.path.join(HERE, "hangfs.py"), str(mount),
                               str(scratch_dir / "hold")])
    deadline = time.monotonic() + 10
    while not os.path.ismount(mount):
        assert server.poll() is None and time.monotonic() < deadline, "hangfs did not mount"
        time.sleep(0.05)
    try:
        yield mount, server.pid
    finally:
        os.kill(server.pid, signal.SIGCONT)
        subprocess.run(["umount", str(mount)], check=False)
        server.wait(timeout=10)


def main_thread_state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


PF_EXITING = 0x4


def exiting(pid):
    """The process is being torn down by the kernel: its main thread is a zombie, or is in
    do_exit (PF_EXITING) — where, as the last thread, it may close the log's file and wait
    in the kernel for the stopped server, as any process's exit would."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return fields[0] == "Z" or int(fields[6]) & PF_EXITING != 0


@pytest.mark.hooks_independent
def thread_states(pid):
    """Each thread's name, state, kernel wait channel and stack, for a failure's message."""
    out = []
    for tid in sorted(os.listdir("/proc/%d/task" % pid)):
        base = "/proc/%d/task/%s/" % (pid, tid)
        fields = []
        for name in ("comm", "wchan", "stack"):
            try:
                with open(base + name) as f:
                    fields.append(f.read().strip().replace("\n", " | "))
            except OSError as e:
                fields.append(str(e))
        out.append("%s %s %s wchan=%s stack=%s" % (tid, fields[0], main_thread_state(pid)
                                                   if tid == str(pid) else "", fields[1],
                                                   fields[2]))
    return "; ".join(out)


def test_second_signal_ends_tcptop_at_once_while_the_log_hangs(hung_filesystem):
    """The log is on a filesystem whose server stopped answering. The first SIGTERM stops
    tcptop but it waits for the log, and says so; the second ends it at once, by the
    signal's default action (what is left is the kernel closing a file on that
    filesystem, which waits for the server like any process's would)."""
    mount, server = hung_filesystem
    log = mount / "log.csv"
    proc = subprocess.Popen([TCPTOP] + HOOK_ARGS +
                            ["-b", "-d", "100ms", "--replay", "synthetic:50", "--log",
                             str(log)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not (log.exists() and log.stat().st_size > 1000):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        os.kill(server, signal.SIGSTOP)
        time.sleep(0.5)  # the log's writer now waits in a write
        proc.send_signal(signal.SIGTERM)
        time.sleep(2.0)
        assert proc.poll() is None, "ended without flushing the log"
        assert not exiting(proc.pid), "ended without flushing the log"
        proc.send_signal(signal.SIGTERM)
        # Without the default action it would wait as long as the server does, forever.
        deadline = time.monotonic() + 2.0
        while not exiting(proc.pid):
            assert time.monotonic() < deadline, "the second SIGTERM did not end tcptop: " + \
                thread_states(proc.pid)
            time.sleep(0.02)
        os.kill(server, signal.SIGCONT)
        status = proc.wait(timeout=10)
    finally:
        os.kill(server, signal.SIGCONT)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read().decode(errors="replace")
    check_no_sanitizer_report(err)
    assert status == -signal.SIGTERM, err
    assert "a second SIGINT or SIGTERM ends tcptop" in err, err
