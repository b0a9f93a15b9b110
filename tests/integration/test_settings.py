"""The settings file, tcptoprc ($XDG_CONFIG_HOME/tcptop/tcptoprc; conftest gives each test
a directory of its own): read at start in batch mode too, under the command line; broken
lines are one warning each, naming the file and line; --no-config ignores it; an
unreadable file never stops tcptop. (The live view writing it is in test_tui.py.)"""

import os

import pytest

from tcptop_run import COLUMNS, run_tcptop

BASE = ["-b", "-N", "2", "-d", "50ms", "--replay", "synthetic:6:3"]


def write_settings(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.hooks_independent
def test_batch_output_follows_the_file_under_the_command_line(own_settings):
    write_settings(own_settings, "# mine\nsort = lport\nreverse = yes\n"
                   "columns = pid,lport,tx_bytes\ninterval = 50ms\n")
    result = run_tcptop(BASE, timeout=20)
    assert result.returncode == 0 and result.stderr == "", result
    lines = result.stdout.splitlines()
    assert lines[0] == "time,pid,lport,tx_bytes", lines[0]
    # sort = lport: numbers high to low (reverse is the live view's order only)
    ports = [int(line.split(",")[2]) for line in lines[1:7]]
    assert ports == sorted(ports, reverse=True) and len(ports) == 6, lines
    result = run_tcptop(BASE + ["-o", "pid,comm", "-s", "pid"], timeout=20)
    lines = result.stdout.splitlines()
    assert lines[0] == "time,pid,comm", lines[0]
    pids = [int(line.split(",")[1]) for line in lines[1:7]]
    assert pids == sorted(pids, reverse=True), lines
    result = run_tcptop(BASE + ["--no-config"], timeout=20)
    assert result.stdout.splitlines()[0] == ",".join(COLUMNS), result.stdout


@pytest.mark.hooks_independent
def test_each_broken_line_is_one_warning_naming_file_and_line(own_settings):
    write_settings(own_settings, "sort = tx_bytes\nthis is not a setting\nbits = maybe\n"
                   "frobnicate = 1\ninterval = 1ms\ncolumns = pid,nosuch\n[section]\n"
                   "alert = fast\ncolumns = pid,tx_bytes\n")
    result = run_tcptop(BASE, timeout=20)
    assert result.returncode == 0, result
    warnings = result.stderr.splitlines()
    assert [w.split(":")[3] for w in warnings] == ["2", "3", "4", "5", "6", "7", "8"], warnings
    assert all(w.startswith("tcptop: warning: %s:" % own_settings) for w in warnings), warnings
    assert result.stdout.splitlines()[0] == "time,pid,tx_bytes", result.stdout


@pytest.mark.hooks_independent
def test_an_unreadable_settings_file_is_one_warning_and_tcptop_runs(own_settings):
    own_settings.mkdir(parents=True)  # a directory where the file should be
    result = run_tcptop(BASE, timeout=20)
    assert result.returncode == 0, result
    assert result.stderr.count("\n") == 1 and str(own_settings) in result.stderr, result
    assert result.stdout.splitlines()[0] == ",".join(COLUMNS), result.stdout
    os.rmdir(own_settings)
    own_settings.write_bytes(b"\xff\xfe\x00garbage\x00\n" * 3)
    result = run_tcptop(BASE, timeout=20)
    assert result.returncode == 0 and result.stdout.splitlines()[0] == ",".join(COLUMNS), result


@pytest.mark.hooks_independent
def test_a_files_flow_sort_gives_way_to_rate_in_a_grouping_without_it(own_settings):
    """sort = lport means nothing per process: --group process sorts by rate, as if the
    file said nothing; -s lport on the command line is still a usage error."""
    write_settings(own_settings, "sort = lport\n")
    result = run_tcptop(BASE + ["--group", "process", "-o", "pid,flows"], timeout=20)
    assert result.returncode == 0 and result.stderr == "", result
    assert result.stdout.splitlines()[0] == "time,pid,flows", result.stdout
    result = run_tcptop(BASE + ["--group", "process", "-s", "lport"], timeout=20)
    assert result.returncode == 2 and "lport" in result.stderr, result
