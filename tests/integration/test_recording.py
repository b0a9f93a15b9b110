"""Looking back (issue 20): -w records every snapshot of a live run to a compressed file,
and -r replays it through the same output without BPF or privilege: the same rows, byte
for byte; --begin/--end; a recording cut short by SIGKILL; appending after a restart;
files that are not recordings of this format refused with one line."""

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import threading
import time
import zlib

import pytest

import tcptop_run
import tcptop_run
from tcptop_run import parse_output, run_tcptop
from traffic import TcpPair

UNPRIVILEGED = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all"]
SYNTHETIC = ["--replay", "synthetic:300:30", "-d", "50ms"]


def snapshot_lines(text):
    """{time: [lines]} of CSV output, and the times in order."""
    lines = text.splitlines()[1:]
    by_time, order = {}, []
    for line in lines:
        when = line.split(",", 1)[0]
        if when not in by_time:
            order.append(when)
        by_time.setdefault(when, []).append(line)
    return by_time, order


def replay(path, *args, prefix=()):
    return run_tcptop(["-r", str(path), "-b"] + list(args), timeout=60, prefix=prefix)


def assert_refused(result, *words):
    tcptop_run.assert_refused(result, "-r/--read", *words)


class Workload:
    """A loopback TCP connection that moves a known number of bytes each way, in steps,
    from a thread of its own while tcptop records."""

    def __init__(self, agents, steps=12, chunk=10000):
        self.server, self.client = agents.new("rsrv"), agents.new("rcli")
        self.pair = TcpPair(self.server, self.client)
        self.steps, self.chunk = steps, chunk
        self.error = None
        self.thread = threading.Thread(target=self._run)

    def _run(self):
        try:
            for _ in range(self.steps):
                self.pair.transfer(self.chunk, self.chunk // 2)
                time.sleep(0.1)
        except Exception as e:  # reported by join()
            self.error = e

    def start(self):
        self.thread.start()

    def join(self):
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "the workload did not finish"
        assert self.error is None, self.error


def record_live(path, agents, *extra):
    """A live run of real BPF with -w: the workload runs from its first snapshot on, and
    tcptop ends (SIGINT) a few snapshots after it; its stdout."""
    work = Workload(agents)
    proc = subprocess.Popen([tcptop_run.tcptop_binary()] + tcptop_run.HOOK_ARGS +
                            ["-b", "-n", "-d", "200ms", "-w", str(path)] + list(extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    chunks = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(
        lambda: os.read(proc.stdout.fileno(), 65536), b"")))
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while b"".join(chunks).count(b"\n") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b"".join(chunks).count(b"\n") >= 2, "no first snapshot within 30 s"
        work.start()
        work.join()
        time.sleep(1.0)  # five intervals: the last bytes are in a snapshot
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=30)
    err = proc.stderr.read().decode()
    tcptop_run.check_no_sanitizer_report(err)
    assert proc.returncode == 0, err
    return b"".join(chunks).decode(), work


def test_replay_prints_the_live_runs_rows_byte_for_byte(scratch_dir, agents):
    path = scratch_dir / "rec"
    live, work = record_live(path, agents)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    result = replay(path)
    assert result.returncode == 0 and result.stderr == "", result
    assert result.stdout.splitlines()[0] == live.splitlines()[0]
    live_snaps, live_order = snapshot_lines(live)
    replayed, order = snapshot_lines(result.stdout)
    # The recorder and stdout's writer each read the newest snapshot: either may have
    # missed one on a busy host, never both, and none is changed.
    common = [t for t in live_order if t in replayed]
    assert len(common) >= len(live_order) - 2, (live_order, order)
    for when in common:
        assert replayed[when] == live_snaps[when], when
    # The workload's bytes, as the kernel counted them, are in the last snapshot.
    last = parse_output(result.stdout)[1][-1]
    row = last.one(comm=work.client.comm, rport=work.pair.port)
    assert row["tx_bytes"] == work.steps * work.chunk, row
    assert row["rx_bytes"] == work.steps * work.chunk // 2, row
    # Filters and sort apply to the replay as they would have live.
    filtered = replay(path, "-c", work.client.comm, "-s", "tx_bytes")
    assert filtered.returncode == 0, filtered
    rows, _ = parse_output(filtered.stdout)
    assert rows and all(r["comm"] == work.client.comm for r in rows)
    assert len(rows) == sum(line.count("," + work.client.comm + ",")
                            for line in result.stdout.splitlines())


@pytest.mark.hooks_independent
def test_jsonl_replay_matches_the_recorded_runs_jsonl(scratch_dir):
    path = scratch_dir / "rec"
    live = run_tcptop(["-b", "-N", "6", "--format", "jsonl", "-w", str(path)] + SYNTHETIC)
    assert live.returncode == 0, live
    result = replay(path, "--format", "jsonl")
    assert result.returncode == 0, result

    def by_time(text):
        """Rows by snapshot; the live run's loss lines (stdout skipped a snapshot on a
        loaded host) are about its stdout, not the recording."""
        snaps = {}
        for line in text.splitlines():
            if "dropped" not in json.loads(line):
                snaps.setdefault(json.loads(line)["time"], []).append(line)
        return snaps

    live_snaps, replayed = by_time(live.stdout), by_time(result.stdout)
    common = [t for t in live_snaps if t in replayed]
    assert len(common) >= len(live_snaps) - 2, (list(live_snaps), list(replayed))
    for when in common:
        assert replayed[when] == live_snaps[when], when


@pytest.mark.hooks_independent
def test_begin_and_end_select_snapshots_at_the_precision_given(scratch_dir):
    path = scratch_dir / "rec"
    assert run_tcptop(["-b", "-N", "10", "-w", str(path)] + SYNTHETIC).returncode == 0
    whole = replay(path)
    by_time, order = snapshot_lines(whole.stdout)
    assert len(order) >= 8, order
    begin, end = order[2], order[5]
    part = replay(path, "--begin", begin, "--end", end)
    assert part.returncode == 0, part
    assert snapshot_lines(part.stdout)[1] == order[2:6]
    assert part.stdout.splitlines()[1:] == sum((by_time[t] for t in order[2:6]), [])
    # At the precision given: the whole second of the last snapshot, then its minute.
    second = order[-1][:19]
    tail = replay(path, "--begin", second)
    assert snapshot_lines(tail.stdout)[1] == [t for t in order if t[:19] >= second]
    minute = replay(path, "--end", order[0][:16] + "Z")
    assert snapshot_lines(minute.stdout)[1] == [t for t in order if t[:16] <= order[0][:16]]
    # HH:MM:SS on the recording's day.
    clock = replay(path, "--begin", second[11:19])
    assert snapshot_lines(clock.stdout)[1] == [t for t in order if t[:19] >= second]
    bad = run_tcptop(["-r", str(path), "-b", "--begin", "3am"])
    assert bad.returncode == 2 and "--begin" in bad.stderr, bad


@pytest.mark.hooks_independent
def test_sigkill_leaves_every_whole_snapshot_readable_and_a_restart_appends(scratch_dir):
    path = scratch_dir / "rec"
    proc = subprocess.Popen([tcptop_run.tcptop_binary(), "-q", "-w", str(path)] + SYNTHETIC,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not path.exists() or path.stat().st_size < 20000):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=20)
    size = path.stat().st_size
    before = replay(path)
    assert before.returncode == 0, before
    _, order = snapshot_lines(before.stdout)
    assert len(order) >= 2
    # A record cut in its middle, as a power cut leaves it: one warning, the rest read.
    with open(path, "ab") as f:
        f.write(b"TREC\x02\x00\x00\x00" + struct.pack("<IIQ", 5000, 9000, 0) + b"x" * 100)
    torn = replay(path)
    assert torn.returncode == 0, torn
    assert torn.stdout == before.stdout
    warnings = torn.stderr.splitlines()
    assert len(warnings) == 1 and "incomplete record" in warnings[0], torn.stderr
    # The restart (systemd) cuts the torn record off and continues the file.
    again = run_tcptop(["-b", "-N", "4", "-w", str(path)] + SYNTHETIC)
    assert again.returncode == 0, again
    assert "incomplete record" in again.stderr, again
    after = replay(path)
    assert after.returncode == 0 and after.stderr == "", after
    _, order_after = snapshot_lines(after.stdout)
    assert order_after[:len(order)] == order
    assert len(order_after) >= len(order) + 3, (order, order_after)
    assert size > 0


@pytest.mark.hooks_independent
def test_replay_needs_no_privilege(scratch_dir, monkeypatch):
    os.chmod(scratch_dir, 0o755)
    path = scratch_dir / "rec"
    assert run_tcptop(["-b", "-N", "3", "-w", str(path)] + SYNTHETIC).returncode == 0
    os.chmod(path, 0o644)
    copy = scratch_dir / "tcptop"
    shutil.copy2(tcptop_run.tcptop_binary(), copy)
    os.chmod(copy, 0o755)
    monkeypatch.setattr(tcptop_run, "TCPTOP", str(copy))
    as_root = replay(path)
    as_nobody = replay(path, prefix=UNPRIVILEGED)
    assert as_nobody.returncode == 0, as_nobody
    assert as_nobody.stdout == as_root.stdout and len(as_root.stdout.splitlines()) > 300


def recording_with_version(source, version):
    data = bytearray(source.read_bytes())
    data[8] = data[10] = version
    data[12:16] = struct.pack("<I", zlib.crc32(bytes(data[:12])))
    return bytes(data)


@pytest.mark.hooks_independent
def test_files_that_are_not_recordings_are_refused_with_one_line(scratch_dir):
    good = scratch_dir / "good"
    assert run_tcptop(["-b", "-N", "2", "-w", str(good)] + SYNTHETIC).returncode == 0
    cases = {
        "empty": (b"", "empty"),
        "random": (os.urandom(4096), "not a tcptop recording"),
        "gzip": (subprocess.run(["gzip", "-c"], input=b"a,b\n1,2\n", capture_output=True,
                                check=True).stdout, "not a tcptop recording"),
        "newer": (recording_with_version(good, good.read_bytes()[8] + 1), "newer tcptop"),
        "older": (recording_with_version(good, good.read_bytes()[8] - 1), "older tcptop"),
    }
    for name, (data, words) in cases.items():
        path = scratch_dir / name
        path.write_bytes(data)
        assert_refused(replay(path), words)
    # -w refuses to append to a newer recording, the same way, before writing anything.
    newer = scratch_dir / "newer"
    before = newer.read_bytes()
    result = run_tcptop(["-b", "-N", "1", "-w", str(newer)] + SYNTHETIC)
    assert result.returncode == 1 and "newer tcptop" in result.stderr, result
    assert newer.read_bytes() == before


@pytest.mark.hooks_independent
def test_write_follows_the_log_file_rules(scratch_dir):
    target = scratch_dir / "target"
    target.write_bytes(b"")
    link = scratch_dir / "link"
    link.symlink_to(target)
    result = run_tcptop(["-b", "-N", "1", "-w", str(link)] + SYNTHETIC)
    assert result.returncode == 1 and "symbolic link" in result.stderr, result
    assert target.read_bytes() == b""


def long_options(text):
    return set(re.findall(r"--([a-z][a-z-]*[a-z])", text))


@pytest.mark.hooks_independent
def test_help_and_man_page_list_the_same_options():
    help_text = run_tcptop(["--help"]).stdout
    options_part = help_text.split("DUR is a number")[0]
    man = open(os.path.join(os.environ.get("TCPTOP_SRCDIR", "."), "doc", "tcptop.8")).read()
    man_options = man.split(".SH OPTIONS")[1].split("\n.SH ")[0].replace("\\-", "-")
    # Each option's entry: the line after .TP names it.
    listed = long_options("\n".join(re.findall(r"^\.TP\n(.*)$", man_options, re.M)))
    assert {"write", "read", "begin", "end"} <= long_options(options_part)
    assert long_options(options_part) == listed, (long_options(options_part) ^ listed)


@pytest.mark.hooks_independent
def test_sighup_reopens_the_recording_and_each_file_reads_whole(scratch_dir):
    path, rotated = scratch_dir / "rec", scratch_dir / "rec.1"
    proc = subprocess.Popen([tcptop_run.tcptop_binary(), "-q", "-w", str(path)] + SYNTHETIC,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not path.exists() or
                                                path.stat().st_size < 20000):
            time.sleep(0.05)
        os.rename(path, rotated)
        proc.send_signal(signal.SIGHUP)
        while time.monotonic() < deadline + 20 and (not path.exists() or
                                                     path.stat().st_size < 20000):
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read().decode()
    tcptop_run.check_no_sanitizer_report(err)
    first, second = replay(rotated), replay(path)
    assert first.returncode == 0 and first.stderr == "", first
    assert second.returncode == 0 and second.stderr == "", second
    _, old = snapshot_lines(first.stdout)
    _, new = snapshot_lines(second.stdout)
    assert len(old) >= 2 and len(new) >= 2 and old[-1] < new[0], (old, new)
