"""Command line: bad values and unknown options are usage errors (one line on stderr
naming the option, exit 2, nothing on stdout); --help and --version; accepted durations;
the privilege check. All but --version (which probes the hook set) are the same whichever
hook set would run: hooks_independent, default pass only."""

import os
import re
import shutil

import pytest

import tcptop_run
from tcptop_run import COLUMNS, parse_output, run_tcptop

INTERVAL = r"-d|--interval|interval"
BAD_ARGS = [
    # (arguments, pattern the one stderr line must contain to name the option)
    (["-d", "0"], INTERVAL),
    (["-d", "abc"], INTERVAL),
    (["-d", "-5ms"], INTERVAL),
    (["--interval=-5ms"], INTERVAL),
    (["-d", "250mss"], INTERVAL),
    (["--interval", "5ms"], INTERVAL),  # below the 10ms minimum
    (["0"], INTERVAL),
    (["abc"], INTERVAL),
    (["250mss"], INTERVAL),
    (["--port", "70000"], r"--port"),
    (["--sport", "70000"], r"--sport"),
    (["--dport", "70000"], r"--dport"),
    (["-p", "12ab"], r"-p\b|--pid"),
    (["--pid", "12ab"], r"-p\b|--pid"),
    (["--bogus"], r"--bogus"),
    (["-Z"], r"-Z"),
    (["-p"], r"-p\b|--pid"),
    (["--format", "xml"], r"--format"),
    (["--udp-mode", "per-flow"], r"--udp-mode"),
    (["--format=yaml"], r"--format"),
    (["-s", "nosuchcolumn"], r"-s\b|--sort"),
    (["--sort", "bogus"], r"-s\b|--sort"),
    (["-o", "bogus"], r"-o/--columns"),
    (["--columns", "pid,,comm"], r"-o/--columns"),
    (["--columns=+rate"], r"-o/--columns"),
    (["-o", "time"], r"-o/--columns"),
    (["--alert", "10"], r"--alert"),
    (["--alert", "-1MiB/s"], r"--alert"),
    (["--alert", "1 MiB/s"], r"--alert"),
    (["--alert", "5mib/s"], r"--alert"),
    (["--alert", "1e30B/s"], r"--alert"),
    (["--alert", "99999999999999999999GiB/s"], r"--alert"),
    (["--alert"], r"--alert"),
    (["-o", "+alert"], r"-o/--columns.*--alert"),
    (["-l", ""], r"-l\b|--log"),
    (["-i", "tt_noif0"], r"-i\b|--interface"),
    (["--interface", "tt_noif0"], r"-i\b|--interface"),
]


@pytest.mark.hooks_independent
@pytest.mark.parametrize("args,names", BAD_ARGS, ids=[" ".join(a) for a, _ in BAD_ARGS])
def test_bad_argument_is_usage_error_naming_option(args, names):
    result = run_tcptop(["-b", "-N", "1"] + args, timeout=20)
    assert result.returncode == 2, result
    assert result.stdout == "", result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, "expected one line on stderr: %r" % result.stderr
    assert re.search(names, lines[0]), "stderr %r does not name the option (%s)" % (
        lines[0], names)


@pytest.mark.hooks_independent
def test_unknown_column_lists_the_valid_names_in_its_one_line():
    result = run_tcptop(["-b", "-N", "1", "-o", "pid,nosuch"], timeout=20)
    assert result.returncode == 2 and result.stdout == "", result
    assert result.stderr.count("\n") == 1, result
    assert "'nosuch'" in result.stderr and ",".join(COLUMNS) in result.stderr, result


@pytest.mark.hooks_independent
def test_usage_error_creates_no_log_file(scratch_dir):
    """A usage error never creates the log file it names."""
    log = scratch_dir / "never.csv"
    result = run_tcptop(["-b", "-l", str(log), "--format", "xml"], timeout=20)
    assert result.returncode == 2, result
    assert not log.exists()


@pytest.mark.hooks_independent
@pytest.mark.parametrize("option", ["-h", "--help"])
def test_help_prints_usage_and_exits_0(option):
    result = run_tcptop([option], timeout=20)
    assert result.returncode == 0, result
    assert result.stderr == "", result
    assert "usage" in result.stdout.lower(), result
    for opt in ("--interval", "--count", "--batch", "--format", "--log", "--pid", "--process",
                "--port", "--sport", "--dport", "--tcp", "--udp", "--interface", "--sort",
                "--version", "--help", "--max-flows", "--udp-timeout", "--columns"):
        assert opt in result.stdout, "--help does not mention %s" % opt
    text = re.sub(r"\s+", "", result.stdout)
    assert ",".join(COLUMNS) in text, "--help does not list the columns"


@pytest.mark.parametrize("option", ["-V", "--version"])
def test_version_prints_version_and_hook_set_and_exits_0(option):
    """The version, then the hook set this kernel takes (probed: the suite runs as root)."""
    result = run_tcptop([option], timeout=20)
    assert result.returncode == 0, result
    assert re.match(r"^tcptop \S+\nhook set: (modern|compat) \(.*\)\n$", result.stdout), result
    assert result.stderr == "", result


@pytest.mark.hooks_independent
@pytest.mark.parametrize("interval,seconds", [("250ms", 0.25), ("0.5s", 0.5), ("2s", 2.0),
                                              ("2", 2.0), ("10ms", 0.01)])
def test_accepted_interval_forms(interval, seconds):
    result = run_tcptop(["-b", "-N", "2", "-d", interval, "--replay", "synthetic:3"],
                        timeout=20)
    assert result.returncode == 0, result
    _, snaps = parse_output(result.stdout)
    assert len(snaps) == 2 and all(len(s.rows) == 3 for s in snaps), snaps
    # Two snapshots take two intervals. (Single gaps jitter with scheduling: the timer is
    # periodic, so a late snapshot is followed by an early one.)
    assert result.elapsed >= 2 * seconds * 0.9, result.elapsed


@pytest.mark.hooks_independent
def test_positional_interval_and_count():
    result = run_tcptop(["-b", "--replay", "synthetic:4", "0.05", "3"], timeout=20)
    assert result.returncode == 0, result
    _, snaps = parse_output(result.stdout)
    assert len(snaps) == 3 and all(len(s.rows) == 4 for s in snaps), snaps


@pytest.mark.hooks_independent
def test_long_options_count_and_batch():
    result = run_tcptop(["--batch", "--count", "2", "--interval", "50ms", "--replay",
                         "synthetic:4"], timeout=20)
    assert result.returncode == 0, result
    assert len(parse_output(result.stdout)[1]) == 2


@pytest.mark.hooks_independent
def test_verbose_and_no_resolve_keep_stdout_clean():
    result = run_tcptop(["-b", "-v", "-n", "-N", "2", "-d", "50ms", "--replay", "synthetic:4"],
                        timeout=20)
    assert result.returncode == 0, result
    assert len(parse_output(result.stdout)[1]) == 2


# setpriv (util-linux) drops to nobody with no capabilities left at all.
UNPRIVILEGED = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all"]


@pytest.fixture
def reachable_tcptop(scratch_dir, monkeypatch):
    """The binary copied where nobody can run it (the build tree may not be readable by
    other users); run_tcptop runs the copy for the rest of the test."""
    os.chmod(scratch_dir, 0o755)
    copy = scratch_dir / "tcptop"
    shutil.copy2(os.environ["TCPTOP"], copy)
    os.chmod(copy, 0o755)
    monkeypatch.setattr(tcptop_run, "TCPTOP", str(copy))
    return copy


@pytest.mark.hooks_independent
def test_unprivileged_run_says_to_use_sudo_and_exits_1(reachable_tcptop):
    result = run_tcptop(["-b", "-N", "1"], prefix=UNPRIVILEGED, timeout=20)
    assert result.returncode == 1, result
    assert result.stdout == "", result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result
    assert re.search(r"sudo|CAP_BPF|CAP_PERFMON|CAP_NET_ADMIN|capabilit", lines[0]), lines


@pytest.mark.hooks_independent
def test_unprivileged_version_prints_version_and_says_hooks_were_not_probed(reachable_tcptop):
    result = run_tcptop(["--version"], prefix=UNPRIVILEGED, timeout=20)
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    assert re.match(r"^tcptop \S+$", lines[0]), result
    assert lines[1].startswith("hook set: not probed ("), result
    assert len(lines) == 2 and result.stderr == "", result
