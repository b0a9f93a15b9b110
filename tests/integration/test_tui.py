"""The live view in a real terminal (tui_run.Tui: tcptop inside a detached tmux session,
in a mount namespace where names come only from the test's hosts file); the tests read
the screen with capture-pane while agents make loopback traffic."""

import os
import re
import signal
import subprocess
import time

import pytest

from traffic import TcpPair
from tcptop_run import check_no_sanitizer_report
from tui_run import Tui


@pytest.fixture
def tui():
    """Starts a live view: tui(ARGS..., width=, height=, env=, stderr_to_pane=). A run the
    test left running is ended with q and must then exit 0 with nothing on stderr (and,
    with -n, no name looked up), like one the test ended itself."""
    started = []

    def start(*args, **options):
        run = Tui(list(args), **options)
        started.append(run)
        return run

    yield start
    try:
        for run in started:
            if not run.finished:
                run.keys("q")
                run.wait_exit()
    finally:
        for run in started:
            run.close()


@pytest.fixture
def pair(agents):
    """A loopback TCP connection between two agents, both ends in the view."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4)
    pair.transfer(100_000, 20_000)
    return pair


def own_args(pair, names=False):
    """Only the agents' flows, whatever else the host runs; addresses, not names, unless
    the test is about names."""
    args = ["-d", "250ms", "-p", "%d,%d" % (pair.server.pid, pair.client.pid)]
    return args if names else args + ["-n"]


def title_index(lines):
    for i, line in enumerate(lines):
        if "PROCESS" in line:
            return i
    raise AssertionError("no column titles on screen:\n" + "\n".join(lines))


def table_rows(screen):
    """The lines between the column titles and the key bar that are not empty."""
    lines = screen.rstrip("\n").split("\n")
    return [line for line in lines[title_index(lines) + 1:-1] if line.strip()]


def comms_in_order(screen, pair):
    """The agents' names, in the order their rows are on screen."""
    names = (pair.server.comm, pair.client.comm)
    return [n for line in table_rows(screen) for n in names if n in line]


def test_live_view_shows_header_and_rows_then_q_restores_terminal(tui, pair):
    run = tui(*own_args(pair))
    screen = run.wait_text(pair.client.comm)
    assert re.search(r"Flows: \d+ \(TCP \d+, UDP \d+\), 3 shown", screen), screen
    assert "Sort: rate" in screen and "Filter: none" in screen, screen
    for title in ("PID", "PROCESS", "LOCAL", "REMOTE", "STATE", "RX/s", "TX/s"):
        assert title in screen, screen
    rows = table_rows(screen)
    client_row = [r for r in rows if pair.client.comm in r and "ESTABLISHED" in r]
    assert len(client_row) == 1, screen
    assert str(pair.client.pid) in client_row[0]
    assert "127.0.0.1:%d" % pair.port in client_row[0]
    run.keys("q")
    after = run.wait_exit()
    assert "PROCESS" not in after, "the live view is still on screen:\n" + after


def test_ctrl_c_exits_0_and_restores_terminal(tui, pair):
    run = tui(*own_args(pair))
    run.wait_text(pair.server.comm)
    run.keys("C-c")
    after = run.wait_exit()
    assert "PROCESS" not in after, after


def test_sigterm_exits_0_and_restores_terminal(tui, pair):
    run = tui(*own_args(pair))
    run.wait_text(pair.server.comm)
    subprocess.run(["pkill", "-TERM", "-x", "-n", run.comm, "-P", str(run.pane_pid())],
                   check=True)
    after = run.wait_exit()
    assert "PROCESS" not in after, after


def tcptop_in_pane(run):
    """The pid of tcptop in run's pane (env execs it, a child of the pane's shell)."""
    return int(subprocess.run(["pgrep", "-P", str(run.pane_pid()), "-x", run.comm],
                              capture_output=True, text=True, check=True).stdout.split()[0])


def process_state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


@pytest.mark.hooks_independent
def test_ctrl_z_suspends_with_the_terminal_restored_and_fg_redraws_at_once(tui):
    """At a shell with job control: Ctrl-Z stops tcptop with the shell's screen back, and
    fg shows the whole view again at once, not at the next snapshot (5 s away)."""
    run = tui("-d", "5s", "-n", "--replay", "synthetic:5", shell=True)
    run.wait_text("replay4", timeout=20)
    pid = tcptop_in_pane(run)
    run.keys("C-z")
    screen = run.wait_text("Stopped")
    assert "PROCESS" not in screen, "the live view is still on screen:\n" + screen
    assert process_state(pid) == "T"
    run.type("clear")
    run.keys("Enter")
    run.wait(lambda s: "Stopped" not in s, "a cleared screen")
    run.type("fg")
    run.keys("Enter")
    screen = run.wait(lambda s: "PROCESS" in s and "replay4" in s and "Sort:" in s,
                      "the whole view redrawn", timeout=1.0)
    assert process_state(pid) in "SR"
    run.keys("q")
    # The stop ended the command line's list: fg's status is tcptop's.
    run.wait(lambda s: s.rstrip().endswith("$"), "the prompt")
    run.type("echo EXIT=$?")
    run.keys("Enter")
    after = run.wait_exit()
    assert "PROCESS" not in after, after


def test_sort_keys_change_column_and_direction(tui, pair):
    run = tui(*own_args(pair), "-s", "comm")
    screen = run.wait_text(pair.server.comm)
    assert "Sort: comm" in screen
    order = comms_in_order(screen, pair)
    assert order.index(pair.client.comm) < order.index(pair.server.comm), screen
    run.keys("r")
    screen = run.wait(lambda s: comms_in_order(s, pair)[:1] == [pair.server.comm], "reversed")
    run.keys(">")
    run.wait_text("Sort: proto")
    run.keys("<", "<")
    run.wait_text("Sort: pid")


def test_sort_list_picks_a_column(tui, pair):
    run = tui(*own_args(pair))
    run.wait_text(pair.server.comm)
    run.keys("s")
    run.wait_text("Sort by")
    run.keys("Down", "Down", "Enter")
    # tmux can capture a frame half written (the new header over the old list): wait for
    # one with the list gone.
    screen = run.wait(lambda s: "Sort: comm" in s and "Sort by" not in s and
                      pair.client.comm in s, "rows sorted by comm, the list closed")
    assert pair.client.comm in screen


def test_slash_filter_narrows_rows_and_escape_cancels(tui, pair):
    run = tui(*own_args(pair))
    run.wait_text(pair.client.comm)
    run.keys("/")
    run.type("proc:" + pair.server.comm)
    run.keys("Enter")
    screen = run.wait(lambda s: pair.client.comm not in "\n".join(table_rows(s)),
                      "filtered rows")
    assert "Filter: proc:" + pair.server.comm in screen
    assert "), 2 shown" in screen, screen
    run.keys("/", "C-u")
    run.type("port:x")
    run.keys("Enter")
    run.wait_text("need a number")
    run.keys("Escape")
    run.wait(lambda s: "Filter: proc:" in s and "need a number" not in s, "cancelled edit")
    run.keys("/", "C-u", "Enter")
    run.wait(lambda s: pair.client.comm in s and "Filter: none" in s, "cleared filter")


def test_pause_freezes_rows_and_says_paused(tui, pair):
    run = tui(*own_args(pair))
    run.wait_text(pair.client.comm)
    run.keys("p")
    frozen = run.wait_text("PAUSED").split("\n")
    pair.transfer(3_000_000, 0)
    time.sleep(1.0)
    later = run.lines()
    assert later[0] == frozen[0], "snapshot time moved while paused"
    assert later[title_index(later):] == frozen[title_index(frozen):], "rows changed"
    run.keys("r")
    run.wait(lambda s: "PAUSED" in s and s.split("\n")[0] == frozen[0]
             and comms_in_order(s, pair) != [], "sorting while paused")
    run.keys("p")
    run.wait(lambda s: "PAUSED" not in s and s.split("\n")[0] != frozen[0], "resumed")


def test_resize_small_and_back_keeps_lines_within_width(tui, pair):
    run = tui(*own_args(pair))
    run.wait_text(pair.client.comm)
    # What each width must show once redrawn: columns drop in order as it narrows.
    for width, height, shown, dropped in ((40, 12, "REMOTE", "PID"), (25, 6, "RX/s", "REMOTE"),
                                          (80, 24, "LOCAL", "AGE"), (200, 50, "AGE", None)):
        run.resize(width, height)
        screen = run.wait(lambda s: len(s.split("\n")) >= height
                          and all(len(line) <= width for line in s.split("\n"))
                          and "PROCESS" in s and shown in s and (not dropped or dropped not in s),
                          "screen at %dx%d" % (width, height))
        assert pair.client.comm[:8] in screen or height < 10, screen
    run.keys("q")
    run.wait_exit()


def test_help_lists_keys_and_any_key_returns(tui, pair):
    run = tui(*own_args(pair))
    run.wait_text(pair.client.comm)
    run.keys("?")
    keys = ("tcptop keys", "q, F10, Ctrl-C", "/, \\, F4", "p, Z", "KiB/s")
    run.wait(lambda s: all(key in s for key in keys), "the help's keys")
    run.keys("x")
    run.wait(lambda s: "tcptop keys" not in s and pair.client.comm in s, "rows again")


def test_log_keeps_writing_while_live_view_runs(tui, pair, scratch_dir):
    log = scratch_dir / "flows.csv"
    run = tui(*own_args(pair), "-l", str(log))
    run.wait_text(pair.client.comm)
    time.sleep(0.6)
    run.keys("q")
    run.wait_exit()
    lines = log.read_text().splitlines()
    assert lines[0].startswith("time,pid,comm,"), lines[:2]
    assert any(pair.client.comm in line for line in lines[1:]), lines[:5]


@pytest.mark.hooks_independent
def test_header_shows_a_failing_log_and_sighup_reopens_it(tui, small_disk):
    """The disk under the log fills: the header says so (and how many snapshots were lost)
    until it is emptied. SIGHUP (logrotate's) reopens the log and the view goes on: only
    the terminal's own hangup ends it."""
    mount, fill = small_disk
    log = mount / "flows.csv"
    run = tui("-d", "100ms", "-n", "--replay", "synthetic:5", "-l", str(log), width=140)
    run.wait_text("PROCESS")
    empty = fill()
    screen = run.wait_text("log failing: No space left on device")
    assert re.search(r"log failing: No space left on device \(\d+ snapshots? lost\)", screen)
    empty()
    run.wait(lambda s: "log failing" not in s, "the failure gone from the header")
    log.rename(mount / "flows.csv.1")
    os.kill(tcptop_in_pane(run), signal.SIGHUP)
    deadline = time.monotonic() + 10
    while not (log.exists() and len(log.read_text().splitlines()) > 5):
        assert time.monotonic() < deadline, "no new log after SIGHUP: " + run.screen()
        time.sleep(0.1)
    assert log.read_text().startswith("time,pid,comm,")
    run.keys("q")
    run.check_ended(stderr_empty=False)
    err = run.stderr()
    assert err.count("is failing: No space left on device") == 1, err
    assert "works again" in err, err


def client_row(screen, pair):
    if "PROCESS" not in screen:
        return ""
    rows = [r for r in table_rows(screen) if pair.client.comm in r and "ESTABLISHED" in r]
    return rows[0] if rows else ""


def test_peer_names_arrive_and_n_toggles_them(tui, pair):
    """127.0.0.1 is tt-loopback in the test's hosts file (tui_run.HOSTS), the only source
    of names the live view has: the name replaces the address once the resolver has it,
    and n switches between the two."""
    run = tui(*own_args(pair, names=True))
    peer = ":%d" % pair.port
    screen = run.wait(lambda s: "tt-loopback" + peer in client_row(s, pair), "peer name")
    assert "Names: DNS" in screen, screen
    run.keys("n")
    screen = run.wait(lambda s: "127.0.0.1" + peer in client_row(s, pair), "peer address")
    assert "Names: off" in screen, screen
    run.keys("n")
    run.wait(lambda s: "tt-loopback" + peer in client_row(s, pair), "peer name again")


def test_no_resolve_option_starts_with_addresses(tui, pair):
    """-n: addresses, and no name looked up at all (the fixture's end checks that)."""
    run = tui(*own_args(pair))
    screen = run.wait(lambda s: "127.0.0.1:%d" % pair.port in client_row(s, pair), "address")
    assert "Names: off" in screen and "tt-loopback" not in screen, screen


@pytest.mark.hooks_independent
def test_unknown_terminal_fails_with_one_line_and_exit_1(tui):
    run = tui("-d", "250ms", "-n", "--replay", "synthetic:5", env=["TERM=no-such-terminal"])
    run.check_ended(status="1", stderr_empty=False)
    err = run.stderr()
    assert err.startswith("tcptop: cannot use the terminal") and err.count("\n") == 1, err


COLOUR_SGR = re.compile(r"\x1b\[(?:[0-9]+;)*(?:3[0-7]|4[0-7]|9[0-7]|38;5;[0-9]+)m")


@pytest.mark.hooks_independent
@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
def test_colour_only_without_no_color_and_titles_stand_out_either_way(tui, no_color):
    run = tui("-d", "250ms", "-n", "--replay", "synthetic:5",
              env=["NO_COLOR=1"] if no_color else ["TERM=tmux-256color"])
    run.wait_text("PROCESS")
    styled = run.styled_screen()
    assert bool(COLOUR_SGR.search(styled)) != no_color, repr(styled[:400])
    if no_color:
        assert "\x1b[7m" in styled, "titles are not in reverse video: %r" % styled[:400]
    run.keys("q")
    run.wait_exit()


@pytest.mark.hooks_independent
def test_terminal_hangup_ends_tcptop(tui):
    """Closing the terminal (tmux kills the pane: SIGHUP) must not leave tcptop running
    without a screen; it ends with nothing on stderr."""
    run = tui("-d", "250ms", "-n", "--replay", "synthetic:5")
    run.wait_text("PROCESS")
    pid = subprocess.run(["pgrep", "-P", str(run.pane_pid()), "-x", run.comm],
                         capture_output=True, text=True, check=True).stdout.split()[0]
    run.tmux("kill-server")
    deadline = time.monotonic() + 10
    while os.path.exists("/proc/%s" % pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists("/proc/%s" % pid), "tcptop still runs after the hangup"
    err = run.stderr()
    check_no_sanitizer_report(err, "tcptop (live view)")
    assert err == "", err
    run.check_lookups()
    run.finished = True


def first_and_last_port(screen):
    rows = table_rows(screen)
    ports = [int(re.search(r":(2\d{4})\b", r).group(1)) for r in (rows[0], rows[-1])]
    return ports[0], ports[-1], len(rows)


SGR = re.compile(r"\x1b\[([0-9;]*)m")


def reverse_lines(styled):
    """For each line of capture-pane -e output: is its first visible cell in reverse video?
    (tmux carries attributes over line ends, so the state is followed through the text.)"""
    result, reverse = [], False
    for line in styled.rstrip("\n").split("\n"):
        first = None
        for i, part in enumerate(SGR.split(line)):
            if i % 2 == 1:
                codes = part.split(";") if part else ["0"]
                reverse = ("7" in codes) or (reverse and "0" not in codes and "27" not in codes)
            elif part.strip() and first is None:
                first = reverse
        result.append((line, bool(first)))
    return result


def highlighted_port(run):
    """The local port of the row in reverse video (NO_COLOR: the highlight is A_REVERSE)."""
    lines = reverse_lines(run.styled_screen())
    title = title_index([text for text, _ in lines])
    marked = [text for text, rev in lines[title + 1:-1] if rev]
    assert len(marked) == 1, "%d highlighted rows: %r" % (len(marked), marked)
    return int(re.search(r":(2\d{4})\b", marked[0]).group(1))


@pytest.mark.hooks_independent
def test_arrows_pages_home_and_end_move_the_highlight_and_the_page(tui):
    """200 synthetic flows with local ports 20000..20199, sorted by local port (high to
    low) in a terminal with 15 lines for rows."""
    run = tui("-d", "250ms", "-n", "--replay", "synthetic:200", "-s", "lport", width=100,
              height=20,
              env=["NO_COLOR=1"])
    run.wait_text(":20199")
    assert first_and_last_port(run.screen()) == (20199, 20185, 15), run.screen()
    assert highlighted_port(run) == 20199
    steps = [("NPage", 20184, 20184), ("Down", 20184, 20183), ("Up", 20184, 20184),
             ("End", 20014, 20000), ("PPage", 20029, 20015), ("Home", 20199, 20199)]
    for key, first, selected in steps:
        run.keys(key)
        run.wait(lambda s: "PROCESS" in s and first_and_last_port(s)[:2] == (first, first - 14)
                 and highlighted_port(run) == selected,
                 "rows from %d, %d highlighted, after %s" % (first, selected, key))
    run.keys("q")
    run.wait_exit()


def test_full_flow_map_shows_in_header_and_stderr_waits_for_exit(tui, agents):
    """Reports from other threads must not write over the screen: the "lost so far" line
    for the full flow map appears on the terminal only after the view is gone."""
    sender = agents.new("snd")
    sink = sender.call("udp_socket", family=4, host="0.0.0.0")
    sock = sender.call("udp_socket", family=4, host="127.0.0.1")
    run = tui("-d", "250ms", "--max-flows", "64", "-n", stderr_to_pane=True)
    run.wait_text("PROCESS")
    # 100 peers of our own, more than the map holds whatever else the host has.
    sender.call("udp_sendto_many", sid=sock["sid"], port=sink["port"], count=100)
    screen = run.wait_text("flow map full")
    time.sleep(0.5)
    assert "tcptop: " not in run.screen(), screen
    run.keys("q")
    after = run.wait_exit()
    assert re.search(r"tcptop: lost so far: .*flow map full", after), after
    assert "PROCESS" not in after, after


def test_hide_keys_and_bits_change_rows_and_units(tui, pair):
    run = tui(*own_args(pair))
    screen = run.wait(lambda s: "LISTEN" in "\n".join(table_rows(s)) if "PROCESS" in s
                      else False, "the LISTEN row")
    assert " B/s" in screen and " b/s" not in screen, screen
    run.keys("l")
    screen = run.wait(lambda s: "LISTEN" not in "\n".join(table_rows(s)), "LISTEN hidden")
    assert "-LISTEN" in screen and "), 2 shown" in screen, screen
    run.keys("b")
    run.wait(lambda s: " b/s" in s and " B/s" not in s, "bits/s")
    # The pair is idle once its transfer is over: i hides every row.
    run.keys("i")
    run.wait(lambda s: "-idle" in s and "), 0 shown" in s, "idle rows hidden")
    run.keys("i", "l", "b")
    run.wait(lambda s: "), 3 shown" in s and " B/s" in s, "all rows back")


@pytest.mark.hooks_independent
def test_keys_between_fast_snapshots_never_touch_released_rows(tui):
    """Snapshots every 10ms while keys arrive: a key handled after a new snapshot came
    in must see rows of that snapshot (under ASan, a stale row is a use after free)."""
    run = tui("-d", "10ms", "-n", "--replay", "synthetic:3000:300")
    run.wait_text("PROCESS")
    for _ in range(15):
        run.keys("NPage", "Down", "Up", "End", "PPage", "Home", ">", "r")
        time.sleep(0.03)
    run.keys("q")
    run.wait_exit()


UNITS = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3}
AMOUNT = r"([\d.]+) (B|KiB|MiB|GiB)"
ROW = re.compile(r"\s(replay\d+)\s+(TCP|UDP)\s.*\s%s/s\s+%s/s\s+%s\s+%s\s" % ((AMOUNT,) * 4))


def amount(number, unit):
    """A size or rate as the screen shows it: (bytes, how far off its rounding may be)."""
    decimals = len(number.partition(".")[2])
    return float(number) * UNITS[unit], 0.5 * 10 ** -decimals * UNITS[unit]


def header_and_rows(screen):
    """The header's counts and totals, and each row's name, protocol, rates and totals,
    each amount as (bytes, rounding)."""
    lines = screen.split("\n")
    counts = re.search(r"Flows: (\d+) \(TCP (\d+), UDP (\d+)\), (\d+) shown", lines[0])
    totals = re.search(r"Shown: RX %s/s  TX %s/s    Since start \(all flows\): (about )?RX %s  "
                       r"TX %s" % ((AMOUNT,) * 4), lines[1])
    assert counts and totals, screen
    g = totals.groups()
    header = {"flows": tuple(map(int, counts.groups())),
              "rx_rate": amount(*g[0:2]), "tx_rate": amount(*g[2:4]), "estimated": bool(g[4]),
              "rx_total": amount(*g[5:7]), "tx_total": amount(*g[7:9])}
    rows = []
    for line in table_rows(screen):
        m = ROW.search(line)
        assert m, "cannot read the row %r" % line
        v = m.groups()
        rows.append({"index": int(v[0][len("replay"):]), "proto": v[1],
                     "rx_rate": amount(*v[2:4]), "tx_rate": amount(*v[4:6]),
                     "rx_total": amount(*v[6:8]), "tx_total": amount(*v[8:10])})
    return header, rows


def assert_sum(what, total, parts, slack=0.0):
    """total (bytes, rounding) equals the sum of parts [(bytes, rounding), ...] within their
    roundings, plus slack (a fraction of the total)."""
    value = sum(p[0] for p in parts)
    allowed = total[1] + sum(p[1] for p in parts) + slack * value
    assert abs(total[0] - value) <= allowed, "%s: header %.0f, rows add up to %.0f (+-%.0f)" % (
        what, total[0], value, allowed)


@pytest.mark.hooks_independent
def test_header_totals_are_the_sums_of_the_rows(tui):
    """12 synthetic flows, 6 active (the replay script: flow i moves 1000 + 100 i bytes out
    and 500 + 10 i in at each drain, the first of which, at start, is its first sight).
    Paused, so that header and rows are of one snapshot: the header counts every flow by
    protocol and the rows shown, its rates are the sums of the rows shown (all, then those a
    filter leaves), and "since start" is what all flows moved after their first sight."""
    run = tui("-d", "250ms", "-n", "--replay", "synthetic:12:6", width=200, height=30)
    # A few intervals' worth of bytes since start, rates in KiB/s (three digits).
    run.wait(lambda s: re.search(r"Since start \(all flows\): (about )?RX [\d.]+ KiB  "
                                 r"TX [2-9]\d\.\d KiB", s) and "KiB/s" in s, "20 KiB sent")
    run.keys("p")
    screen = run.wait_text("PAUSED")
    header, rows = header_and_rows(screen)
    tcp = sum(r["proto"] == "TCP" for r in rows)
    assert header["flows"] == (12, tcp, 12 - tcp, 12) and len(rows) == 12, (header, rows)
    # Estimated totals (a snapshot the view missed) count its bytes at the next one's rates.
    slack = 0.05 if header["estimated"] else 0.0
    for direction, first_sight in (("rx", lambda i: 500 + 10 * i),
                                   ("tx", lambda i: 1000 + 100 * i)):
        assert_sum(direction + " rate", header[direction + "_rate"],
                   [r[direction + "_rate"] for r in rows])
        assert_sum(direction + " since start", header[direction + "_total"],
                   [(r[direction + "_total"][0] - first_sight(r["index"]),
                     r[direction + "_total"][1]) for r in rows], slack)
    run.keys("/")
    run.type("proc:replay1")  # replay1, replay10 and replay11: one of them active
    run.keys("Enter")
    screen = run.wait(lambda s: "Filter: proc:replay1" in s, "the filter")
    shown, rows = header_and_rows(screen)
    assert sorted(r["index"] for r in rows) == [1, 10, 11], rows
    assert shown["flows"] == (12, tcp, 12 - tcp, 3), shown
    for direction in ("rx", "tx"):
        assert_sum(direction + " rate shown", shown[direction + "_rate"],
                   [r[direction + "_rate"] for r in rows])
        # All flows, filter or not; paused, it goes on counting (a loaded host can take
        # an interval to type the filter), so it is at least what it was.
        assert shown[direction + "_total"][0] >= header[direction + "_total"][0], \
            (shown, header)


def title_words(screen):
    """The column titles: the line under the three header lines."""
    return screen.split("\n")[3].split()


def test_columns_option_and_chooser_change_the_columns_shown(tui, pair):
    """-o picks the view's columns (those it can show, in its own order); c opens a list
    where Space shows or hides the highlighted column at once, and Enter closes it."""
    run = tui(*own_args(pair), "-o", "tx_rate,comm,lport,pid")
    screen = run.wait_text(pair.client.comm)
    assert title_words(screen) == ["PID", "PROCESS", "TX/s\u25bc"] or \
        title_words(screen) == ["PID", "PROCESS", "TX/sv"], screen
    run.keys("c")
    screen = run.wait_text("Columns (")
    assert "[x] pid" in screen and "[ ] state" in screen and "[x] comm" in screen, screen
    run.keys("Space")  # pid, the first in the list
    run.wait_text("[ ] pid")
    run.keys("Down", "Down", "Down", "Down", "Down", "Space")  # state
    run.wait_text("[x] state")
    run.keys("Enter")
    screen = run.wait(lambda s: "Columns (" not in s and pair.client.comm in s, "rows again")
    words = title_words(screen)
    assert words[:2] == ["PROCESS", "STATE"] and "PID" not in words, screen
    assert any(pair.client.comm in line and "ESTABLISHED" in line
               for line in screen.split("\n")[4:]), screen


def cost_line(screen):
    lines = [line for line in screen.split("\n") if line.startswith("Cost: ")]
    return lines[0] if lines else None


def test_o_shows_tcptops_own_cost_and_its_programs_ns_per_event(tui, pair):
    """o adds a header line (the table moves down one) with tcptop's CPU share and, while
    BPF stats are on (this test holds a BPF_ENABLE_STATS fd; tcptop never turns them on),
    its programs' ns per event and events per second; o again takes it away."""
    from test_metrics import enable_bpf_stats
    run = tui(*own_args(pair))
    before = title_index(run.wait_text(pair.client.comm).split("\n"))
    run.keys("o")
    screen = run.wait(lambda s: cost_line(s) and "measuring" not in cost_line(s),
                      "the cost line")
    assert re.match(r"Cost: tcptop \d+\.\d% CPU; ", cost_line(screen)), cost_line(screen)
    assert title_index(screen.split("\n")) == before + 1, screen
    fd = enable_bpf_stats()
    try:
        deadline = time.monotonic() + 15
        while True:
            pair.transfer(50_000, 50_000)
            line = cost_line(run.screen()) or ""
            m = re.search(r"BPF (\d+) ns/event x ([\d.]+)([kM]?) events/s = ([\d.]+)% CPU "
                          r"\((\d+) programs\)", line)
            if m and float(m.group(2)) > 0:
                break
            assert time.monotonic() < deadline, "no ns/event on the cost line: %r" % line
            time.sleep(0.2)
    finally:
        os.close(fd)
    assert 1 <= int(m.group(1)) < 100_000, line
    assert int(m.group(5)) >= 3, line
    run.keys("o")
    run.wait(lambda s: cost_line(s) is None and
             title_index(s.split("\n")) == before, "the cost line gone")


def test_cost_line_without_bpf_says_so(tui):
    run = tui("-d", "100ms", "--replay", "synthetic:20")
    run.wait_text("PROCESS")
    run.keys("o")
    run.wait(lambda s: cost_line(s) and "no BPF programs" in cost_line(s),
             "no BPF programs on the cost line")


@pytest.mark.hooks_independent
def test_w_cycles_the_rate_window_and_the_header_says_which(tui):
    """w: the rate columns show the last interval, then the 2 s, 10 s and 40 s averages,
    then the last interval again; the third header line names the one shown."""
    run = tui("-d", "100ms", "-n", "--replay", "synthetic:4:2")
    run.wait(lambda s: "replay3" in s and "Rates: last interval" in s, "the first rows")
    for name in ("2s avg", "10s avg", "40s avg", "last interval"):
        run.keys("w")
        screen = run.wait(lambda s, n=name: "Rates: " + n in s, "rates: " + name)
        assert "replay3" in screen and " B/s" in screen, screen


@pytest.mark.hooks_independent
def test_live_view_marks_rows_above_and_rings_the_bell_once(tui):
    """Replay at 100 ms: three flows move 10-12 kB/s, three are idle. With --alert
    5KiB/s the busy rows carry the "!" mark and the idle ones not, the header counts 3
    above, and the bell rang once when they first crossed, not at every refresh."""
    run = tui("-d", "100ms", "-n", "--alert", "5KiB/s", "--replay", "synthetic:6:3",
              bells=True)
    screen = run.wait(lambda s: "Alert: 3 above 5.00 KiB/s" in s and "replay5" in s,
                      "three rows above")
    run.wait(lambda s: run.bells() >= 1, "the bell", timeout=5)
    time.sleep(2.0)  # twenty refreshes with the same rows above
    screen = run.screen()
    marked = {line.split()[1] for line in screen.split("\n") if line.startswith("!")}
    plain = {w for line in screen.split("\n") if not line.startswith("!")
             for w in line.split() if w.startswith("replay")}
    assert marked and all(m.isdigit() for m in marked), screen
    assert len([line for line in screen.split("\n") if line.startswith("!")]) == 3, screen
    assert {"replay3", "replay4", "replay5"} <= plain, screen
    assert run.bells() == 1, "the bell rang %d times" % run.bells()
    run.keys("q")
    run.wait_exit()


@pytest.mark.hooks_independent
def test_mouse_sorts_by_a_clicked_title_highlights_a_clicked_row_and_wheel_scrolls(tui):
    """200 flows sorted by local port, 15 lines for rows: a click on the PROCESS title
    sorts by comm (again: the other way, as the header says); a click on the fifth row
    highlights it; the wheel moves the page three rows. With --no-mouse tcptop does not ask
    the terminal for mouse events (which then stay the terminal's: selecting text)."""
    run = tui("-d", "250ms", "-n", "--replay", "synthetic:200", "-s", "lport", width=100,
              height=20, env=["NO_COLOR=1"])
    run.wait_text(":20199")
    # The terminal sends mouse events only to a program that asks for them.
    assert run.tmux("display-message", "-p", "-t", run.name, "#{mouse_any_flag}") == "1\n"
    lines = run.lines()
    title = title_index(lines)
    run.mouse(10, title + 5)
    run.wait(lambda s: highlighted_port(run) == 20195, "row 5 highlighted")
    run.mouse(10, title + 3, button=65)
    run.wait(lambda s: first_and_last_port(s)[0] == 20196 and highlighted_port(run) == 20192,
             "the page three rows down")
    run.mouse(10, title + 3, button=64)
    run.wait(lambda s: first_and_last_port(s)[0] == 20199 and highlighted_port(run) == 20195,
             "the page three rows up")
    run.mouse(lines[title].index("PROCESS") + 2, title)
    run.wait_text("Sort: comm \u25b2")
    run.mouse(lines[title].index("PROCESS") + 2, title)
    run.wait_text("Sort: comm \u25bc")
    run.mouse(lines[title].index("LOCAL") + 1, title)
    run.wait_text("Sort: laddr \u25b2")
    run.keys("q")
    run.wait_exit()
    # Gone, tcptop leaves the terminal's mouse as it found it.
    assert run.tmux("display-message", "-p", "-t", run.name, "#{mouse_any_flag}") == "0\n"
    run = tui("-d", "250ms", "-n", "--no-mouse", "--replay", "synthetic:200", "-s", "lport",
              width=100, height=20, env=["NO_COLOR=1"])
    run.wait_text(":20199")
    assert run.tmux("display-message", "-p", "-t", run.name, "#{mouse_any_flag}") == "0\n"


def test_d_enter_and_a_double_click_open_the_detail_pane_which_follows_its_flow(tui, pair):
    """d on the client's row (the only one shown) opens the pane: pid and comm, the
    process's command line as /proc has it, the endpoints whole; bytes sent while it is
    open show on it; Esc closes it; a double click opens it again and Enter closes it;
    once the connection is closed the pane says the flow has ended."""
    run = tui("-d", "250ms", "-n", "-p", str(pair.client.pid), width=110, height=30)
    run.wait(lambda s: "127.0.0.1:%d" % pair.port in s, "the client's row")
    with open("/proc/%d/cmdline" % pair.client.pid, "rb") as f:
        cmdline = f.read().rstrip(b"\0").replace(b"\0", b" ").decode()
    run.keys("d")
    screen = run.wait_text("Flow detail")
    assert "Process     %d %s" % (pair.client.pid, pair.client.comm) in screen, screen
    assert "Command     " + cmdline[:80] in screen, (cmdline, screen)
    assert "Local       127.0.0.1:%d" % pair.client_lport in screen, screen
    assert "Remote      127.0.0.1:%d" % pair.port in screen, screen
    assert "Protocol    TCP IPv4, state ESTABLISHED" in screen, screen
    pair.transfer(50_000, 0)  # tcptop counts from its start: these bytes only
    run.wait_text("(50000 bytes)")
    run.keys("Escape")
    lines = run.wait(lambda s: "Flow detail" not in s and "PROCESS" in s, "the table").split("\n")
    row = title_index(lines) + 1
    run.mouse(5, row)
    run.mouse(5, row)
    run.wait_text("Flow detail")
    run.keys("Enter")
    run.wait(lambda s: "Flow detail" not in s and "PROCESS" in s, "the table again")
    run.keys("Enter")
    run.wait_text("Flow detail")
    # A reset: the socket closes at once (an orderly close would wait in FIN_WAIT2 for the
    # server's close, a flow that has not ended yet).
    pair.client.call("close", sid=pair.client_sid, linger0=True)
    run.wait_text("this flow has ended")


@pytest.mark.hooks_independent
def test_changed_settings_are_written_at_quit_and_read_at_the_next_start(tui, own_settings):
    """A file with a comment and an interval; i (hide idle), b (bits) and r (reverse)
    in the view, then q: the file keeps the comment and interval, says the view's
    settings, mode 0600, no temporary left. The next start shows them; --no-config
    does not; a run that changes nothing leaves the file as it was."""
    own_settings.parent.mkdir(parents=True)
    own_settings.write_text("# my settings\ninterval = 200ms\n")
    run = tui("-n", "--replay", "synthetic:6:3")
    run.wait(lambda s: "every 200ms" in s and "replay5" in s, "the file's interval")
    run.keys("i", "b", "r")
    run.wait(lambda s: "-idle" in s and "replay5" not in s and "b/s" in s, "the changes")
    run.keys("q")
    run.wait_exit()
    text = own_settings.read_text()
    assert text.startswith("# my settings\ninterval = 200ms\n"), text
    for line in ("sort = rate", "reverse = yes", "bits = yes", "hide_idle = yes",
                 "hide_listen = no", "dns = no", "columns = pid,comm,proto,laddr,raddr"):
        assert line in text.splitlines() or any(l.startswith(line) for l in text.splitlines()), (line, text)
    assert os.stat(own_settings).st_mode & 0o777 == 0o600
    assert os.listdir(own_settings.parent) == ["tcptoprc"]
    before = os.stat(own_settings).st_mtime_ns
    run = tui("--replay", "synthetic:6:3")
    screen = run.wait(lambda s: "-idle" in s and "b/s" in s and "\u25b2" in s, "the settings")
    assert "Names: off" in screen and "replay5" not in screen, screen
    run.keys("q")
    run.wait_exit()
    assert os.stat(own_settings).st_mtime_ns == before, "rewritten without a change"
    run = tui("-n", "--no-config", "--replay", "synthetic:6:3")
    screen = run.wait_text("replay5")
    assert "-idle" not in screen and "every 1s" in screen, screen
    run.keys("b", "q")
    run.wait_exit()
    assert os.stat(own_settings).st_mtime_ns == before, "--no-config wrote the file"


@pytest.mark.hooks_independent
def test_settings_are_not_written_through_a_linked_directory(tui, own_settings, tmp_path):
    """$XDG_CONFIG_HOME/tcptop is a link to another directory (another user's trick under
    sudo -E): tcptop writes nothing there and says so in one warning at exit."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, own_settings.parent)
    run = tui("-n", "--replay", "synthetic:6:3")
    run.wait_text("replay5")
    run.keys("b")
    run.wait_text("b/s")
    run.keys("q")
    run.check_ended(stderr_empty=False)
    assert os.listdir(elsewhere) == [], os.listdir(elsewhere)
    err = run.stderr()
    assert err.count("\n") == 1 and "cannot save the settings" in err, err
