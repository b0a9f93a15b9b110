"""Time navigation in -r's live view (issue 20): P pauses and plays, ] and [ step one
snapshot on and back (across a key record, reading what -r -b prints for it), J jumps to
the first snapshot at or after a time, +/- set the speed; the header shows the recorded
time as the CSV prints it and "snapshot i of n". One recording, made by a real tcptop -w
run on the synthetic backend, serves every test; the times it must show come from -r -b."""

import re
import time

import pytest

from tcptop_run import run_tcptop
from tui_run import Tui

# 70 snapshots 20 ms apart: a key record at the 1st and the 61st (RECORD_KEY_EVERY 60).
SNAPSHOTS = 70
HEADER = re.compile(r"^tcptop (\S+Z)  snapshot (\d+) of (\d+) \[(paused|playing (\d+)x)\]",
                    re.M)

pytestmark = pytest.mark.hooks_independent


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """The recording's path and its snapshots' times, in order, as -r -b prints them."""
    path = tmp_path_factory.mktemp("timenav") / "rec"
    made = run_tcptop(["-b", "-N", str(SNAPSHOTS), "-w", str(path), "--replay",
                       "synthetic:300:30", "-d", "20ms"])
    assert made.returncode == 0, made
    printed = run_tcptop(["-r", str(path), "-b"])
    assert printed.returncode == 0, printed
    times = []
    for line in printed.stdout.splitlines()[1:]:
        when = line.split(",", 1)[0]
        if not times or times[-1] != when:
            times.append(when)
    assert len(times) >= SNAPSHOTS - 5, times
    return path, times


@pytest.fixture
def view(recording):
    runs = []

    def start(height=30):
        run = Tui(["-r", str(recording[0]), "-n"], width=160, height=height)
        runs.append(run)
        run.wait(HEADER.search, "the recorded time in the header")
        return run

    yield start
    try:
        for run in runs:
            if not run.finished:
                run.keys("q")
                run.wait_exit()
    finally:
        for run in runs:
            run.close()


def parse_header(screen):
    """(time, snapshot number from 1, count, state) of a screen, or None."""
    m = HEADER.search(screen)
    return m and (m.group(1), int(m.group(2)), int(m.group(3)), m.group(4))


def header(run):
    """The header of the screen now (retried: a capture can fall between erase and draw)."""
    return wait_header(run, "a header", lambda h: True)


def wait_header(run, what, pred):
    """The first screen whose header pred accepts: one capture, parsed once."""
    screen = run.wait(lambda s: parse_header(s) and pred(parse_header(s)), what, timeout=5)
    return parse_header(screen)


def jump(run, text):
    run.keys("J")
    run.wait_text("Jump to:")
    run.type(text)
    run.keys("Enter")


def test_pause_stops_the_recorded_time_and_play_goes_on(view, recording):
    times = recording[1]
    run = view()
    jump(run, times[0])  # back to the start: playing on from there has 2 s to go
    run.keys("P")
    wait_header(run, "[paused]", lambda h: h[3] == "paused")
    time.sleep(0.1)  # a snapshot the replay had on its way when P came may show still
    when, i, n, state = header(run)
    assert n == len(times) and times[i - 1] == when
    time.sleep(0.3)  # 15 recorded intervals
    assert header(run) == (when, i, n, "paused")
    run.keys("P")
    later = wait_header(run, "playing on", lambda h: h[1] > i and h[3] == "playing 1x")
    assert times[later[1] - 1] == later[0]


def test_steps_and_jumps_land_on_the_snapshots_r_b_prints(view, recording):
    times = recording[1]
    run = view()
    run.keys("P")  # a jump keeps playing or paused as it was
    wait_header(run, "[paused]", lambda h: h[3] == "paused")
    # Snapshot 63, then back across the key record at 61 to 59, one at a time.
    jump(run, times[62])
    wait_header(run, "snapshot 63", lambda h: h[1] == 63)
    for number in (62, 61, 60, 59):
        run.keys("[")
        got = wait_header(run, "snapshot %d" % number, lambda h: h[1] != number + 1)
        assert got[:3] == (times[number - 1], number, len(times)), got
    for number in (60, 61):
        run.keys("]")
        got = wait_header(run, "snapshot %d" % number, lambda h: h[1] != number - 1)
        assert got[:3] == (times[number - 1], number, len(times)), got
    # At the start, [ stays; a time of day goes to that second's first snapshot.
    jump(run, times[0])
    wait_header(run, "snapshot 1", lambda h: h[1] == 1)
    run.keys("[", "]")
    assert wait_header(run, "snapshot 2", lambda h: h[1] != 1)[:2] == (times[1], 2)
    second = times[40][11:19]
    first = next(k for k, t in enumerate(times) if t[11:19] >= second)
    jump(run, second)
    # That second's first snapshot may be snapshot 2 itself (70 snapshots at 20 ms can
    # start late in a second): wait for the prompt to close on the snapshot expected.
    got = parse_header(run.wait(lambda s: "Jump to:" not in s and parse_header(s) and
                                parse_header(s)[1] == first + 1, "the jump to %s" % second,
                                timeout=5))
    assert got[:2] == (times[first], first + 1), (second, got)
    # A time that is not one, or one after the end: a line, and nothing moves.
    for bad, said in (("3am", "Not a time: '3am'"), ("2099-01-01", "No snapshot at or after")):
        jump(run, bad)
        run.wait_text(said)
        time.sleep(0.1)
        assert header(run)[:2] == got[:2]


def test_plus_and_minus_set_the_speed(view):
    run = view()
    for key, speed in (("-", 1), ("+", 2), ("+", 4), ("+", 8), ("-", 4)):
        run.keys(key)
        wait_header(run, "playing %dx" % speed, lambda h: h[3] == "playing %dx" % speed)
    for _ in range(6):
        run.keys("+")
    wait_header(run, "playing 64x", lambda h: h[3] == "playing 64x")


def test_help_lists_the_keys(view):
    run = view(height=60)  # the whole help, its recording keys last
    run.keys("?")
    screen = run.wait_text("Reading a recording")
    for line in ("  P   ", "  ], [   ", "  +, -   ", "  J   "):
        assert line in screen, screen
    run.keys("?")  # any key leaves the help; then q quits
    run.wait_text("P:Play/Pause")
