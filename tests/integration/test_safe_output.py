"""Nothing raw reaches a terminal (issue 16): any user can name a process with
prctl(PR_SET_NAME), including what a terminal acts on. A process so named holds a real
connection, and every output shows its name escaped: CSV and the closed log as \\xHH,
JSONL as \\u00XX or U+FFFD, the live view as '?'."""

import os
import shutil

import pytest

from tcptop_run import Tcptop
from traffic import TcpPair

# An OSC that sets the terminal's title to "own", ended by BEL, then an 8-bit CSI (a lone
# byte 0x9b, which is not UTF-8) starting "bold". Bytes that are not UTF-8 travel in argv
# and set_comm() as surrogate escapes.
HOSTILE = os.fsdecode(b"ev\x1b]0;own\x07\x9b1m")
RAW_BYTES = (b"\x1b", b"\x07", b"\x9b")


@pytest.fixture
def hostile_pair(agents):
    """A connection whose server is the hostile name, its client an ordinary agent."""
    server, client = agents.named(HOSTILE), agents.new("cli")
    pair = TcpPair(server, client, family=4)
    pair.transfer(10_000, 1_000)
    return pair


def assert_no_raw_bytes(data):
    for raw in RAW_BYTES:
        assert raw not in data, "raw %r in the output: %r" % (raw, data[-2000:])


@pytest.mark.parametrize("fmt, shown", [
    ("csv", "ev\\x1b]0;own\\x07\\x9b1m"),
    ("jsonl", "ev\x1b]0;own\x07\ufffd1m"),  # as json.loads() reads \u001b, \u0007, \ufffd
])
def test_batch_output_escapes_a_hostile_process_name(hostile_pair, scratch_dir, fmt, shown):
    closed = scratch_dir / ("ended." + fmt)
    run = Tcptop(["-d", "100ms", "-p", str(hostile_pair.server.pid), "--closed", str(closed)],
                 fmt=fmt)
    try:
        run.wait_row(proto="TCP", lport=hostile_pair.port, pid=hostile_pair.server.pid,
                     comm=shown)
        hostile_pair.server.call("close", sid=hostile_pair.server_sid)
        hostile_pair.client.call("close", sid=hostile_pair.client_sid)
        run.wait_snapshots(len(run.snapshots()) + 2)
        run.stop()  # the closed log has every ended flow once tcptop has exited
    finally:
        run.kill()
    with run._lock:
        out = bytes(run._out)
    assert_no_raw_bytes(out)
    logged = closed.read_bytes()
    assert_no_raw_bytes(logged)
    escaped = b"ev\\x1b]0;own\\x07\\x9b1m" if fmt == "csv" else b"ev\\u001b]0;own\\u0007\\ufffd1m"
    assert escaped in out and escaped in logged, (out[-1000:], logged)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_live_view_shows_a_hostile_process_name_as_question_marks(hostile_pair):
    from tui_run import Tui

    run = Tui(["-d", "250ms", "-p", str(hostile_pair.server.pid)])
    try:
        run.wait_text("ev?]0;own??1m")
        title = run.tmux("display-message", "-p", "-t", run.name, "#{pane_title}|#{window_bell_flag}")
        run.keys("q")
        run.wait_exit()
    finally:
        run.close()
    # The OSC would have set the title to "own"; the BEL, the window's bell flag.
    assert title.strip().split("|")[0] != "own" and title.strip().endswith("|0"), title
