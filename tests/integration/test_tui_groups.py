"""The live view's groupings in a real terminal (tmux): g steps through them, Enter opens a
group's flows, Esc and Backspace go back, d opens a group's detail pane, --group starts in
one. Real connections between agents of this test's own (--process keeps the rows theirs)."""

import re

import pytest

from traffic import TcpPair
from test_tui import reverse_lines, tui  # noqa: F401 (tui is a fixture)

TITLES = ("PROCESS", "REMOTE", "PORT", "CGROUP", "FLOWS")


def rows_of(screen):
    """The table's lines after its titles (the line with a column title), key bar aside."""
    lines = screen.rstrip("\n").split("\n")
    title = next(i for i, line in enumerate(lines) if any(t in line for t in TITLES))
    return [line for line in lines[title + 1:-1] if line.strip()]


def row_with(screen, text):
    found = [line for line in rows_of(screen) if text in line]
    assert len(found) == 1, "%d rows with %r:\n%s" % (len(found), text, screen)
    return found[0].split()


def highlighted(run):
    lines = reverse_lines(run.styled_screen())
    title = next(i for i, (text, _) in enumerate(lines) if "FLOWS" in text or "PROCESS" in text)
    marked = [text for text, rev in lines[title + 1:-1] if rev]
    assert len(marked) == 1, "%d highlighted rows: %r" % (len(marked), marked)
    return marked[0]


@pytest.fixture
def two_pairs(agents, tag):
    """Two servers each with one client: 30000 and 70000 bytes sent by the clients after
    tcptop started (the test calls send())."""
    a = TcpPair(agents.new("sa"), agents.new("ga"))
    b = TcpPair(agents.new("sb"), agents.new("gb"))

    def send():
        a.transfer(30000, 0)
        b.transfer(70000, 0)

    return a, b, send


def test_g_groups_enter_opens_a_group_esc_goes_back_and_d_details_it(tui, two_pairs, tag):
    a, b, send = two_pairs
    run = tui("-d", "250ms", "-n", "--process", tag, "-s", "comm", width=160, height=30,
              env=["NO_COLOR=1"])
    run.wait(lambda s: "127.0.0.1:%d" % b.port in s, "the connections")
    send()
    run.wait_text("68.4 KiB")
    run.keys("g")
    # (Every check waits for all it looks at: tmux may show a frame half drawn.)
    comms = [a.client.comm, b.client.comm, a.server.comm, b.server.comm]
    screen = run.wait(lambda s: "Group: process" in s and all(c in s for c in comms) and
                      "68.4 KiB" in s and "q:Quit" in s, "process groups")
    # One row per process: pid, comm, one flow each (servers: their listener and the
    # accepted connection); the client's bytes are its flow's.
    gb = row_with(screen, b.client.comm)
    assert gb[:3] == [str(b.client.pid), b.client.comm, "1"], screen
    assert "68.4 KiB" in " ".join(gb), screen
    sa = row_with(screen, a.server.comm)
    assert sa[:3] == [str(a.server.pid), a.server.comm, "2"], screen
    # Sorted by comm, A to Z: tt_ga, tt_gb, tt_sa, tt_sb; the second row opens.
    assert [line.split()[1] for line in rows_of(screen)] == [
        a.client.comm, b.client.comm, a.server.comm, b.server.comm], screen
    run.keys("Down", "Enter")
    screen = run.wait(lambda s: "Group: process pid %d (%s), Esc back" % (
        b.client.pid, b.client.comm) in s, "the group opened")
    run.wait(lambda s: len(rows_of(s)) == 1 and "127.0.0.1:%d" % b.port in rows_of(s)[0],
             "the group's one flow")
    run.keys("Escape")
    run.wait(lambda s: "Esc back" not in s and "Group: process" in s, "the groups again")
    run.wait(lambda s: b.client.comm in highlighted(run), "the highlight on the group")
    run.keys("Enter")
    run.wait_text("Esc back")
    run.keys("BSpace")
    run.wait(lambda s: "Esc back" not in s and "Group: process" in s, "back with Backspace")
    # By remote address: the four connections' ends talk to 127.0.0.1, the two listeners
    # to nobody.
    run.keys("g")
    screen = run.wait(lambda s: "Group: remote" in s and re.search(r"^127\.0\.0\.1 ", s, re.M) and
                      re.search(r"^\* ", s, re.M) and "q:Quit" in s, "remote groups")
    assert row_with(screen, "127.0.0.1")[:2] == ["127.0.0.1", "4"], screen
    assert row_with(screen, "*")[:2] == ["*", "2"], screen
    # By service port: each server's port, its listener and both ends of its connection.
    run.keys("g")
    screen = run.wait(lambda s: "Group: port" in s and all(
        " %d " % p.port in s for p in (a, b)) and "q:Quit" in s, "port groups")
    for pair in (a, b):
        assert row_with(screen, " %d " % pair.port)[:3] == ["TCP", str(pair.port), "3"], screen
    run.keys("g")
    screen = run.wait(lambda s: "Group: cgroup" in s and "CGROUP" in s and
                      len(rows_of(s)) >= 1 and "q:Quit" in s, "cgroup groups")
    # The agents are in the test's cgroup: one group, first column the cgroup's name.
    assert len(rows_of(screen)) == 1 and rows_of(screen)[0].split()[1] == "6", screen
    run.keys("d")
    run.wait(lambda s: "Group detail: cgroup" in s and re.search(
        r"Flows +6: 4 established, 0 opening, 0 closing, 2 listening", s), "the cgroup's pane")
    run.keys("Escape")
    run.wait(lambda s: "Group detail" not in s and "CGROUP" in s, "the groups")
    run.keys("g")
    run.wait(lambda s: "Group:" not in s and "PROCESS" in s and "STATE" in s, "flows again")


def test_group_detail_sums_its_flows_and_names_the_process(tui, two_pairs, tag):
    a, b, send = two_pairs
    run = tui("-d", "250ms", "-n", "--process", b.server.comm, "--group", "process",
              width=160, height=30, env=["NO_COLOR=1"])
    screen = run.wait(lambda s: "Group: process" in s and b.server.comm in s, "its group")
    send()
    run.wait_text("68.4 KiB")
    run.keys("d")
    wanted = ["Group detail: process pid %d (%s)" % (b.server.pid, b.server.comm),
              "Process     %d %s" % (b.server.pid, b.server.comm),
              "Received    68.4 KiB (70000 bytes)"]
    run.wait(lambda s: all(w in s for w in wanted) and re.search(
        r"Flows +2: 1 established, 0 opening, 0 closing, 1 listening", s), "the group's pane")
    run.keys("Escape")
    run.wait(lambda s: "Group detail" not in s and "FLOWS" in s, "the groups")


@pytest.mark.hooks_independent
@pytest.mark.parametrize("locale,full", [("C.UTF-8", "\u2588" * 8), ("C", "@" * 8)],
                         ids=["utf8", "ascii"])
def test_history_column_is_a_sparkline_and_the_pane_shows_forty(tui, locale, full):
    """Synthetic flows at steady rates: the moving ones' sparkline is all full blocks
    (ASCII @ without UTF-8), the idle ones' blank; the detail pane's History line shows
    the same, with the peak."""
    run = tui("-d", "100ms", "-n", "-o", "+history", "--replay", "synthetic:6:3",
              width=200, height=20, env=["LC_ALL=" + locale, "NO_COLOR=1"])
    run.wait(lambda s: "HISTORY" in s and len(rows_of(s)) == 6 and
             sum(full in line for line in rows_of(s)) == 3, "three moving rows' sparklines")
    run.keys("d")
    run.wait(lambda s: re.search(r"History +\[ *%s+\] peak " % re.escape(full[0]), s),
             "the pane's history")
