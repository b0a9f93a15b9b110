"""The --log file (issue 13): opened only after the BPF load, safely as root (no symbolic
links, regular files only, 0600), appended to under the same header, gzip for .gz with
one member per snapshot, reopened on SIGHUP for logrotate, and kept to whole rows on a
full disk, where tcptop says so once, counts, and resumes by itself."""

import os
import re
import signal
import stat
import subprocess
import time
import zlib

import pytest

import tcptop_run
from tcptop_run import HEADER, group_snapshots, parse_csv_rows, run_tcptop

REPLAY = ["--replay", "synthetic:5"]


def replay_run(log, *args, **kwargs):
    return run_tcptop(["-b", "-N", "2", "-d", "20ms"] + REPLAY + ["-l", str(log)] + list(args),
                      timeout=20, **kwargs)


def assert_refused(result, *words):
    tcptop_run.assert_refused(result, "-l/--log", *words)


def data_lines(text):
    """The rows of a CSV log: whole lines, the header first and only there."""
    assert text.endswith("\n"), "the log ends with half a row: %r" % text[-200:]
    lines = text.splitlines()
    assert lines and lines[0] == HEADER, "the log starts with %r" % lines[:1]
    assert HEADER not in lines[1:], "the header comes back inside the log"
    parse_csv_rows(lines[1:])  # 19 fields each
    return lines[1:]


def snapshot_lines(lines):
    """{time: [lines]} of CSV rows."""
    by_time = {}
    for line in lines:
        by_time.setdefault(line.split(",", 1)[0], []).append(line)
    return by_time


def zcat(path):
    out = subprocess.run(["zcat", str(path)], capture_output=True)
    return out.returncode, out.stdout.decode(), out.stderr.decode()


def gzip_test(path):
    out = subprocess.run(["gzip", "-t", str(path)], capture_output=True, text=True)
    return out.returncode, out.stderr


def gzip_members(data):
    """The decompressed text of each gzip member of data."""
    members = []
    while data:
        d = zlib.decompressobj(wbits=31)
        members.append(d.decompress(data).decode())
        assert d.eof, "a gzip member is cut short"
        data = d.unused_data
    return members


# ----------------------------------------------------------------------------- opening


def test_log_is_opened_only_after_the_bpf_programs_load(scratch_dir, monkeypatch):
    """A run whose BPF load fails creates no log, and leaves an existing one untouched."""
    monkeypatch.setenv("TCPTOP_BREAK_HOOKS", "modern,compat")
    new = scratch_dir / "new.csv"
    result = run_tcptop(["-b", "-N", "1", "-l", str(new)], timeout=30)
    assert result.returncode == 1, result
    assert not new.exists(), "the log was created before the BPF load failed"
    old = scratch_dir / "old.csv"
    old.write_text("earlier run\n")
    result = run_tcptop(["-b", "-N", "1", "-l", str(old)], timeout=30)
    assert result.returncode == 1, result
    assert old.read_text() == "earlier run\n"


def test_symbolic_link_is_refused_and_its_target_untouched(scratch_dir):
    target = scratch_dir / "target"
    target.write_text("precious\n")
    link = scratch_dir / "flows.csv"
    link.symlink_to(target)
    assert_refused(replay_run(link), "symbolic link")
    assert target.read_text() == "precious\n"
    dangling = scratch_dir / "dangling.csv"
    dangling.symlink_to(scratch_dir / "nowhere")
    assert_refused(replay_run(dangling), "symbolic link")
    assert not (scratch_dir / "nowhere").exists()


def make_fifo(path):
    os.mkfifo(path)


def make_null_device(path):
    os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # /dev/null's numbers


@pytest.mark.parametrize("make,word", [(os.mkdir, "directory"), (make_fifo, "FIFO"),
                                       (make_null_device, "device")],
                         ids=["directory", "fifo", "device"])
def test_anything_but_a_regular_file_is_refused(scratch_dir, make, word):
    """A FIFO without a reader cannot hang the open (run_tcptop's timeout would fail)."""
    path = scratch_dir / "flows.csv"
    make(str(path))
    assert_refused(replay_run(path), word)


def test_missing_directory_is_a_run_time_failure(scratch_dir):
    """Exit 1, like any failure to open the log: 2 is for a bad option or value."""
    path = scratch_dir / "missing" / "flows.csv"
    assert_refused(replay_run(path), "does not exist")
    assert not path.parent.exists()


@pytest.mark.parametrize("umask", [0o022, 0o077], ids=["umask022", "umask077"])
def test_new_log_is_private(scratch_dir, umask):
    path = scratch_dir / "flows.csv"
    result = replay_run(path, preexec=lambda: os.umask(umask))
    assert result.returncode == 0, result
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# ----------------------------------------------------------------------------- appending


def test_existing_log_is_appended_to_with_the_header_once(scratch_dir):
    path = scratch_dir / "flows.csv"
    first = replay_run(path)
    assert first.returncode == 0, first
    after_first = path.read_text()
    second = replay_run(path)
    assert second.returncode == 0, second
    text = path.read_text()
    assert text.startswith(after_first)
    data_lines(text)  # the header once, at the top
    # The second run's rows follow, whole: not compared with stdout, which may take other
    # snapshots than the log at 20 ms on a loaded host (each says what it skipped).
    added = data_lines(HEADER + "\n" + text[len(after_first):])
    assert len(added) >= 5 and len(data_lines(after_first)) >= 5, text


def test_header_of_another_schema_is_refused_and_file_untouched(scratch_dir):
    path = scratch_dir / "flows.csv"
    old = HEADER.replace(",netns", ",foo") + "\n1,2\n"
    path.write_text(old)
    before = path.stat()
    assert_refused(replay_run(path), "column 19", "'netns'", "'foo'")
    assert path.read_text() == old and path.stat().st_mtime_ns == before.st_mtime_ns
    shorter = HEADER.rsplit(",", 1)[0] + "\n"
    path.write_text(shorter)
    assert_refused(replay_run(path), "18 columns", "19")
    assert path.read_text() == shorter


def test_jsonl_run_refuses_a_csv_log(scratch_dir):
    path = scratch_dir / "flows.log"
    assert replay_run(path).returncode == 0
    before = path.read_text()
    assert_refused(replay_run(path, "--format", "jsonl"), "JSON")
    assert path.read_text() == before


def test_partial_last_row_of_a_killed_run_is_cut_off(scratch_dir):
    path = scratch_dir / "flows.csv"
    assert replay_run(path).returncode == 0
    whole = path.read_text()
    with open(path, "a") as f:
        f.write("2026-11-23T14:05:01.250Z,1234,half")
    result = replay_run(path)
    assert result.returncode == 0, result
    text = path.read_text()
    assert text.startswith(whole)
    data_lines(text)


# ----------------------------------------------------------------------------- gzip


def gzip_run(tcptop, path, flows="synthetic:300:30"):
    run = tcptop("-d", "20ms", "--replay", flows, "-l", str(path))
    run.wait_snapshots(4)
    return run


@pytest.mark.parametrize("signals", [[signal.SIGINT], [signal.SIGTERM],
                                     [signal.SIGHUP, signal.SIGTERM]],
                         ids=["SIGINT", "SIGTERM", "SIGHUP-SIGTERM"])
def test_gzip_log_holds_every_snapshot_one_member_each(tcptop, scratch_dir, signals):
    path = scratch_dir / "flows.csv.gz"
    run = gzip_run(tcptop, path)
    for sig in signals[:-1]:
        run.proc.send_signal(sig)
        run.wait_after(time.time())  # SIGHUP reopens the log: tcptop goes on
        run.wait_after(time.time())
    rows, snaps = run.stop(signals[-1])
    status, text, err = zcat(path)
    assert status == 0, err
    assert gzip_test(path) == (0, "")
    members = gzip_members(path.read_bytes())
    assert members[0].startswith(HEADER + "\n")
    members[0] = members[0][len(HEADER) + 1:]
    # At 20 ms a loaded host can leave stdout a snapshot behind: stdout then skips it
    # and says so, while the log still gets it (the log never waits for stdout); and at
    # the stop the log takes the newest snapshot if it raced with the signal, which stdout
    # may not have printed. Every stdout snapshot must be in the log, whole (below).
    # Under a sanitizer the log's writer can fall behind too: it skips to the newest
    # snapshot and says at the stop how many it did not log; all others must be there.
    said = re.search(r"(\d+) snapshots? of this run could not be logged", run.stderr)
    not_logged = int(said.group(1)) if said else 0
    if "snapshots skipped (output too slow)" not in run.stderr and not not_logged:
        assert len(snaps) <= len(members) <= len(snaps) + 1, "not one member per snapshot"
        assert text.startswith(run.stdout[:len(HEADER) + 1]), "the log's header"
    logged = {}
    for member in members:
        assert member.endswith("\n")
        times = {line.split(",", 1)[0] for line in member.splitlines()}
        assert len(times) == 1, "a gzip member holds more than one snapshot"
        logged[times.pop()] = member
    assert len(logged) == len(members) >= len(snaps) - not_logged
    shown = run.stdout.splitlines()[1:]
    missing = [snap for snap in snaps if snap.time_text not in logged]
    assert len(missing) <= not_logged, "a snapshot on stdout is not in the log"
    for snap in snaps:
        if snap.time_text not in logged:
            continue
        assert logged[snap.time_text].splitlines() == \
            [line for line in shown if line.startswith(snap.time_text + ",")]


def test_gzip_log_after_sigkill_reads_every_whole_snapshot(tcptop, scratch_dir):
    path = scratch_dir / "flows.csv.gz"
    run = gzip_run(tcptop, path, "synthetic:3000:100")
    time.sleep(0.33)
    run.proc.kill()
    run.proc.wait()
    status, text, err = zcat(path)
    assert status == 0 or "unexpected end of file" in err, err
    lines = text.splitlines()
    assert lines[0] == HEADER
    snaps = group_snapshots(parse_csv_rows(lines[1:] if text.endswith("\n") else lines[1:-1]))
    # A kill during the last member's write (likelier on a loaded host) tears that member:
    # what zcat gives of it is a torn tail, not a snapshot.
    if "unexpected end of file" in err:
        snaps = snaps[:-1]
    assert len(snaps) >= 4 and all(len(s.rows) == 3000 for s in snaps), snaps
    status, err = gzip_test(path)
    assert status == 0 or set(err.strip().splitlines()) <= {
        "gzip: %s: unexpected end of file" % path}, err
    # A run appending to it first cuts off a member cut short, else zcat would read the
    # new members as its continuation.
    result = replay_run(path)
    assert result.returncode == 0, result
    assert gzip_test(path) == (0, "")


@pytest.mark.parametrize("cut", [5, 170], ids=["in-its-header", "in-its-data"])
def test_gzip_member_cut_short_is_cut_off_before_appending(scratch_dir, cut):
    path = scratch_dir / "flows.csv.gz"
    first = replay_run(path)
    assert first.returncode == 0, first
    whole = path.read_bytes()
    logged = zcat(path)[1]
    deflate = zlib.compressobj(1, zlib.DEFLATED, 31)
    member = deflate.compress(bytes(range(256)) * 20) + deflate.flush(zlib.Z_SYNC_FLUSH)
    assert len(member) > cut
    path.write_bytes(whole + member[:cut])
    second = replay_run(path)
    assert second.returncode == 0, second
    assert "cut it off" in second.stderr, second
    assert path.read_bytes().startswith(whole)
    assert gzip_test(path) == (0, "")
    # What the first run logged, then whole rows of the second (no header again): not
    # compared with stdout, which may skip a snapshot the log keeps on a loaded host.
    text = zcat(path)[1]
    assert text.startswith(logged), text[:300]
    added = data_lines(HEADER + "\n" + text[len(logged):])
    assert added and all(len(line.split(",")) == len(HEADER.split(",")) for line in added), added


# ----------------------------------------------------------------------------- rotation


def test_sighup_without_a_log_does_not_end_tcptop(tcptop):
    run = tcptop("-d", "20ms", "--replay", "synthetic:3")
    run.wait_snapshots(2)
    run.proc.send_signal(signal.SIGHUP)
    run.wait_after(time.time())
    run.wait_after(time.time())
    run.stop()


@pytest.mark.skipif(subprocess.run(["sh", "-c", "command -v logrotate"],
                                   capture_output=True).returncode != 0,
                    reason="logrotate is not installed")
def test_logrotate_under_load_loses_and_tears_no_row(tcptop, scratch_dir):
    """logrotate renames the log, creates a new one and sends SIGHUP, five times while
    tcptop writes every 20 ms: each file starts with the header, and every row of every
    snapshot is in exactly one file, whole."""
    path = scratch_dir / "flows.csv"
    run = tcptop("-d", "20ms", "--replay", "synthetic:200:20", "-l", str(path))
    run.wait_snapshots(2)
    conf = scratch_dir / "logrotate.conf"
    conf.write_text("%s {\n\trotate 50\n\tcreate 0600 root root\n\tmissingok\n\tnocompress\n"
                    "\tpostrotate\n\t\tkill -HUP %d\n\tendscript\n}\n" % (path, run.proc.pid))
    rotations = 5
    for _ in range(rotations):
        subprocess.run(["logrotate", "-f", "-s", str(scratch_dir / "state"), str(conf)],
                       check=True, capture_output=True)
        run.wait_after(time.time())
    rows, snaps = run.stop(signal.SIGTERM)
    files = [path] + [scratch_dir / ("flows.csv.%d" % i) for i in range(1, rotations + 1)]
    assert not (scratch_dir / ("flows.csv.%d" % (rotations + 1))).exists()
    seen = {}
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
        for time_text, lines in snapshot_lines(data_lines(f.read_text())).items():
            assert time_text not in seen, "snapshot %s in two files" % time_text
            seen[time_text] = lines
    expected = snapshot_lines(run.stdout.splitlines()[1:])
    # A loaded host can leave either writer a snapshot behind at 20 ms: it skips it and
    # says so (stdout: "snapshots skipped", the log: "snapshots not logged"); the other
    # keeps it. No snapshot may be torn or differ, and none go missing unsaid.
    said = [int(n) for n in re.findall(r"lost so far: (\d+) snapshots not logged", run.stderr)]
    for t in set(seen) & set(expected):
        assert seen[t] == expected[t], "snapshot %s differs in the rotated logs" % t
    assert len(set(expected) - set(seen)) <= max(said, default=0), \
        "snapshots on stdout missing from the rotated logs, unsaid: %r" % run.stderr
    # Under a sanitizer the log's writer can fall behind too: it skips to the newest
    # snapshot and says at the stop how many it did not log; all others must be there.
    said = re.search(r"(\d+) snapshots? of this run could not be logged", run.stderr)
    not_logged = int(said.group(1)) if said else 0
    if "snapshots skipped (output too slow)" not in run.stderr and not not_logged:
        # (but the one that raced with the stop, which the log takes: output.c, finish)
        assert len(set(seen) - set(expected)) <= 1, "the logs hold snapshots stdout lacks"


# ----------------------------------------------------------------------------- full disk


def wait_stderr(run, text, timeout=10):
    deadline = time.monotonic() + timeout
    while text not in run.stderr:
        assert time.monotonic() < deadline and run.proc.poll() is None, \
            "no %r on stderr within %ss: %r" % (text, timeout, run.stderr)
        time.sleep(0.05)


def full_disk_run(tcptop, path, fill):
    """tcptop logs to path; the disk fills, stays full for a while, and is emptied. Returns
    the run, stopped, and the number of snapshots it said it could not log."""
    run = tcptop("-d", "50ms", "--replay", "synthetic:5", "-l", str(path))
    run.wait_snapshots(3)
    empty = fill()
    wait_stderr(run, "is failing: No space left on device")
    run.wait_snapshots(len(run.snapshots()) + 5)
    assert run.stderr.count("is failing") == 1, run.stderr
    assert run.proc.poll() is None
    empty()
    wait_stderr(run, "works again")
    run.wait_after(time.time())
    run.stop()
    # The log says once that it fails and once that it works again; the loss line says
    # the count in each interval it grew (issue 17), with stdout's skipped snapshots when a
    # loaded host made it skip one at this pace, and the summary comes last.
    lines = [line for line in run.stderr.splitlines()
             if not re.fullmatch(r"tcptop: lost so far: \d+ snapshots not logged"
                                 r"(, \d+ snapshots skipped \(output too slow\))?", line)]
    assert len(lines) == 3, lines
    assert "lost so far: " in run.stderr, run.stderr
    summary = lines[2].split(": ")[-1]
    assert summary.endswith("snapshots of this run could not be logged"), lines
    return run, int(summary.split()[0])


def assert_log_holds_whole_rows_of_stdout(run, log_lines, lost):
    """Every row logged is one of stdout's, whole; the snapshots not logged whole are the
    ones tcptop counted, and the last ones are logged again."""
    logged = snapshot_lines(log_lines)
    printed = snapshot_lines(run.stdout.splitlines()[1:])
    for time_text, lines in logged.items():
        assert set(lines) <= set(printed[time_text])
    missing = [t for t in printed if logged.get(t) != printed[t]]
    assert len(missing) == lost >= 5, (missing, lost)
    assert logged[list(printed)[-1]] == printed[list(printed)[-1]]


def test_full_disk_keeps_whole_rows_counts_and_resumes(tcptop, small_disk):
    mount, fill = small_disk
    path = mount / "flows.csv"
    run, lost = full_disk_run(tcptop, path, fill)
    assert_log_holds_whole_rows_of_stdout(run, data_lines(path.read_text()), lost)


def test_full_disk_keeps_gzip_log_readable(tcptop, small_disk):
    mount, fill = small_disk
    path = mount / "flows.csv.gz"
    run, lost = full_disk_run(tcptop, path, fill)
    status, text, err = zcat(path)
    assert status == 0, err
    assert gzip_test(path) == (0, "")
    assert_log_holds_whole_rows_of_stdout(run, data_lines(text), lost)
