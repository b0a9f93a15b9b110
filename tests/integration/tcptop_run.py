"""Running the tcptop binary and reading what it prints.

``run_tcptop`` runs it to completion; ``Tcptop`` runs it in the background and collects
snapshots while the test makes traffic. Every run's stderr is checked for sanitizer
reports (the suite also runs against an ASan/UBSan build).
"""

import contextlib
import csv
import fcntl
import io
import json
import os
import re
import signal
import subprocess
import threading
import time
from datetime import datetime, timezone

TCPTOP = os.environ.get("TCPTOP", "")
# The tcptop that make check builds with faults on purpose (tests/tcptop-fault): tcptop
# itself reads no TCPTOP_* variable. Runs whose environment asks for a fault use it.
TCPTOP_FAULT = os.environ.get("TCPTOP_FAULT", "")
FAULT_VARIABLES = ("TCPTOP_BREAK_HOOKS",)
# The suite runs once per hook set (run-integration.sh): TCPTOP_TEST_HOOKS=compat puts
# "--hooks compat" in front of every tcptop command line; unset, tcptop picks (auto).
TEST_HOOKS = os.environ.get("TCPTOP_TEST_HOOKS", "")
HOOK_ARGS = ["--hooks", TEST_HOOKS] if TEST_HOOKS else []

COLUMNS = ["time", "pid", "comm", "proto", "laddr", "lport", "raddr", "rport", "state",
           "tx_bytes", "rx_bytes", "tx_packets", "rx_packets", "tx_rate", "rx_rate",
           "rtt_us", "retrans", "age_s", "netns"]
HEADER = ",".join(COLUMNS)
INT_COLUMNS = {"pid", "lport", "rport", "tx_bytes", "rx_bytes", "tx_packets", "rx_packets",
               "rtt_us", "retrans", "netns"}
REAL_COLUMNS = {"tx_rate", "rx_rate", "age_s"}
TEXT_COLUMNS = {"time", "comm", "proto", "laddr", "raddr", "state"}
NUMERIC_COLUMNS = INT_COLUMNS | REAL_COLUMNS

TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SANITIZER_RE = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:")


def tcptop_binary(env=None):
    """TCPTOP, or TCPTOP_FAULT when env (this process's by default) asks for a fault."""
    env = os.environ if env is None else env
    if not any(name in env for name in FAULT_VARIABLES):
        return TCPTOP
    assert TCPTOP_FAULT and os.access(TCPTOP_FAULT, os.X_OK), \
        "a fault needs TCPTOP_FAULT, the tests/tcptop-fault make check builds (got %r)" \
        % TCPTOP_FAULT
    return TCPTOP_FAULT


def check_no_sanitizer_report(stderr, what="tcptop"):
    match = SANITIZER_RE.search(stderr or "")
    assert not match, "%s: sanitizer report on stderr:\n%s" % (what, stderr)


def parse_time(text):
    """Seconds since the epoch of a snapshot time such as 2026-11-23T14:05:01.250Z."""
    assert TIME_RE.match(text), "time %r is not ISO-8601 UTC with milliseconds" % text
    stamp = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return stamp.replace(tzinfo=timezone.utc).timestamp()


def _typed(name, text):
    """CSV field to a value: empty is None, numbers become int/float."""
    if text == "":
        return None
    if name in INT_COLUMNS:
        assert re.fullmatch(r"\d+", text), "%s=%r is not an integer" % (name, text)
        return int(text)
    if name in REAL_COLUMNS:
        value = float(text)
        assert value >= 0, "%s=%r is negative" % (name, text)
        return value
    return text


def parse_csv_rows(lines):
    """Data lines (no header) to row dicts with typed values."""
    rows = []
    for fields in csv.reader(io.StringIO("".join(line + "\n" for line in lines))):
        assert len(fields) == len(COLUMNS), "row has %d fields: %r" % (len(fields), fields)
        rows.append({name: _typed(name, value) for name, value in zip(COLUMNS, fields)})
    return rows


LOSS_KEYS = ["flow_map_full", "close_records_lost", "closed_unshown", "log_snapshots_lost",
             "snapshots_skipped", "closed_log_lost", "record_snapshots_lost",
             "bpf_events_missed"]


def is_loss_line(obj):
    """The line JSONL output adds after a snapshot in which a loss counter grew."""
    if list(obj.keys()) != ["time", "dropped"]:
        return False
    assert list(obj["dropped"].keys()) == LOSS_KEYS, obj
    return True


def parse_jsonl_row(line):
    """A row, or None for a loss line."""
    obj = json.loads(line)
    if is_loss_line(obj):
        return None
    assert list(obj.keys()) == COLUMNS, "JSONL keys %r" % list(obj.keys())
    return obj


class Snapshot:
    """The rows that share one time value."""

    def __init__(self, time_text, rows):
        self.time_text = time_text
        self.time = parse_time(time_text)
        self.rows = rows

    def find(self, **match):
        """Rows whose fields equal every given value."""
        return [r for r in self.rows if all(r.get(k) == v for k, v in match.items())]

    def one(self, **match):
        rows = self.find(**match)
        assert len(rows) == 1, "expected one row matching %r at %s, got %d:\n%s" % (
            match, self.time_text, len(rows), "\n".join(map(str, rows)))
        return rows[0]

    def __repr__(self):
        return "<Snapshot %s: %d rows>" % (self.time_text, len(self.rows))


def group_snapshots(rows):
    """Consecutive rows with the same time form one snapshot."""
    snaps = []
    for row in rows:
        if snaps and snaps[-1].time_text == row["time"]:
            snaps[-1].rows.append(row)
        else:
            snaps.append(Snapshot(row["time"], [row]))
    times = [s.time_text for s in snaps]
    assert len(set(times)) == len(times), "a snapshot time comes back later: %r" % times
    return snaps


def parse_output(text, fmt="csv"):
    """Whole stdout of a run: (rows, snapshots). Checks the CSV header comes once, first."""
    assert text == "" or text.endswith("\n"), "output ends with a partial line: %r" % text[-200:]
    lines = text.splitlines()
    if fmt == "csv":
        assert lines, "no CSV header"
        assert lines[0] == HEADER, "CSV header is %r" % lines[0]
        assert HEADER not in lines[1:], "CSV header repeated"
        rows = parse_csv_rows(lines[1:])
    else:
        rows = [r for r in map(parse_jsonl_row, lines) if r is not None]
    return rows, group_snapshots(rows)


class Result:
    def __init__(self, args, returncode, stdout, stderr, elapsed):
        self.args, self.returncode = args, returncode
        self.stdout, self.stderr, self.elapsed = stdout, stderr, elapsed

    def __repr__(self):
        return "tcptop %s -> exit %s\nstdout: %r\nstderr: %r" % (
            " ".join(self.args), self.returncode, self.stdout[-2000:], self.stderr[-2000:])


# Sanitizer settings for a suite run by hand as make check sets them; in os.environ, so
# every tcptop the suite starts inherits them, the live-view tests' (under tmux) too.
os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
os.environ.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
os.environ.setdefault("LSAN_OPTIONS", "suppressions=%s:print_suppressions=0" % os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lsan-suppressions"))


def assert_refused(result, option, *words):
    """Exit 1, nothing on stdout, one stderr line naming the option and saying why (each of
    words in it)."""
    assert result.returncode == 1, result
    assert result.stdout == "", result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, "expected one line on stderr: %r" % result.stderr
    assert lines[0].startswith("tcptop: %s " % option), lines[0]
    for word in words:
        assert word in lines[0], "%r does not say %r" % (lines[0], word)


def run_tcptop(args, timeout=60, preexec=None, prefix=()):
    """Run tcptop to completion (killing it after timeout, which fails the test)."""
    cmd = list(prefix) + [tcptop_binary()] + HOOK_ARGS + list(args)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, preexec_fn=preexec)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("tcptop %s did not finish within %ss\nstderr: %s"
                             % (" ".join(args), timeout, err.decode(errors="replace")))
    result = Result(list(args), proc.returncode, out.decode(errors="replace"),
                    err.decode(errors="replace"), time.monotonic() - start)
    check_no_sanitizer_report(result.stderr, "tcptop " + " ".join(args))
    return result


# Places a test's --max-flows leaves beyond the host's flows, for what comes and goes while
# it runs. Tests that make thousands of flows, and would fill that room for any other
# tcptop, never run at the same time as a test that sized its map (flow_map_lock): not in
# this run, nor in the other hook set's pass, nor in another run of this suite on the host.
# The room is for everything else: twice what other programs here have held at once.
FLOW_ROOM = 4096
FLOW_MAP_LOCK = "/run/tcptop-tests.flow-map.lock"
_flow_map_locked = [False]


@contextlib.contextmanager
def flow_map_lock(exclusive):
    """Held, exclusive, by a test that makes thousands of flows; held, shared, by a test
    that sizes its flow map with flow_map_size(). A host-wide file lock: it goes with the
    process that holds it, whatever happens to that."""
    fd = os.open(FLOW_MAP_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        _flow_map_locked[0] = True
        yield
    finally:
        _flow_map_locked[0] = False
        os.close(fd)


def flow_map_size(room=FLOW_ROOM):
    """A --max-flows with room places beyond the flows tcptop tracks now. tcptop tracks the
    flows of every network namespace, so the count comes from tcptop itself (the rows of
    one snapshot, but those of TIME_WAIT sockets, which the first snapshot shows and no
    map holds), not from ss, which sees one namespace. Only under flow_map_lock (the
    flow_map_room or flow_map_alone fixture)."""
    assert _flow_map_locked[0], "flow_map_size() without the flow_map_lock"
    result = run_tcptop(["-b", "-N", "1", "-d", "100ms"], timeout=60)
    assert result.returncode == 0, result
    rows, _ = parse_output(result.stdout)
    return sum(r["state"] != "TIME_WAIT" for r in rows) + room


def bpftool(*args):
    return json.loads(subprocess.run(["bpftool", "-j"] + list(args), capture_output=True,
                                     text=True, check=True).stdout)


def held_map_id(pid, name):
    """The id of the BPF map called name that process pid holds."""
    ids = set()
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as info:
                ids.update(line.split()[1] for line in info if line.startswith("map_id:"))
        except FileNotFoundError:
            pass
    for map_id in ids:
        if bpftool("map", "show", "id", map_id).get("name") == name:
            return map_id
    raise AssertionError("process %d holds no BPF map %r" % (pid, name))


def held_map_entries(pid, name):
    """The entries (as bpftool formats them with BTF) of the BPF map called name that
    process pid holds."""
    return [e["formatted"] for e in bpftool("map", "dump", "id", held_map_id(pid, name)) or []]


def held_array_entry(pid, name, index):
    """Entry index of the BPF array called name that process pid holds, as bpftool
    formats it with BTF."""
    key = ["0x%02x" % b for b in index.to_bytes(4, "little")]
    return bpftool("map", "lookup", "id", held_map_id(pid, name), "key", *key)["formatted"]


class Tcptop:
    """tcptop -b in the background. Output is parsed as it comes (once: a busy host can
    print thousands of rows per snapshot); a snapshot counts as complete once the next one
    has begun or tcptop has exited."""

    def __init__(self, args, fmt="csv", prefix=()):
        """prefix: a command tcptop runs under (nsenter ..., say), which execs it."""
        self.args = ["-b"] + list(args)
        if fmt != "csv":
            self.args += ["--format", fmt]
        self.fmt = fmt
        self.started = time.time()
        self.proc = subprocess.Popen(list(prefix) + [tcptop_binary()] + HOOK_ARGS + self.args,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL)
        self._lock = threading.Condition()
        self._out = bytearray()
        self._err = bytearray()
        self._pending = b""      # stdout bytes after the last newline
        self._nlines = 0
        self._closed = []        # complete snapshots
        self._open = None        # the snapshot still being printed
        self._parse_error = None
        self._eof = False
        self._threads = [threading.Thread(target=self._pump, args=(self.proc.stdout, True)),
                         threading.Thread(target=self._pump, args=(self.proc.stderr, False))]
        for t in self._threads:
            t.daemon = True
            t.start()

    def _take_line(self, line):
        """One complete stdout line (caller holds the lock)."""
        self._nlines += 1
        if self.fmt == "csv":
            if self._nlines == 1:
                assert line == HEADER, "CSV header is %r" % line
                return
            row = parse_csv_rows([line])[0]
        else:
            row = parse_jsonl_row(line)
            if row is None:
                return
        if self._open is not None and self._open.time_text == row["time"]:
            self._open.rows.append(row)
            return
        if self._open is not None:
            self._closed.append(self._open)
        self._open = Snapshot(row["time"], [row])
        assert all(s.time_text != row["time"] for s in self._closed[-3:]), \
            "snapshot time %s comes back later" % row["time"]

    def _pump(self, stream, is_stdout):
        while True:
            chunk = stream.read1(65536)
            with self._lock:
                if not chunk:
                    if is_stdout:
                        self._eof = True
                        if self._open is not None:
                            self._closed.append(self._open)
                            self._open = None
                    self._lock.notify_all()
                    return
                if not is_stdout:
                    self._err.extend(chunk)
                else:
                    self._out.extend(chunk)
                    if self._parse_error is None:
                        data = self._pending + chunk
                        *lines, self._pending = data.split(b"\n")
                        try:
                            for line in lines:
                                self._take_line(line.decode(errors="replace"))
                        except AssertionError as exc:
                            self._parse_error = exc
                self._lock.notify_all()

    @property
    def stderr(self):
        with self._lock:
            return self._err.decode(errors="replace")

    @property
    def stdout(self):
        with self._lock:
            return self._out.decode(errors="replace")

    def _complete_snapshots(self):
        """Snapshots known to be complete so far (caller holds the lock)."""
        if self._parse_error is not None:
            raise self._parse_error
        return list(self._closed)

    def snapshots(self):
        with self._lock:
            return self._complete_snapshots()

    def _fail(self, what, timeout):
        raise AssertionError(
            "tcptop %s: no %s within %ss (exit %s)\nstderr: %s\nlast output:\n%s"
            % (" ".join(self.args), what, timeout, self.proc.poll(),
               self._err.decode(errors="replace"),
               self._out[-3000:].decode(errors="replace")))

    def wait_for(self, predicate, timeout=20, what="a snapshot"):
        """The first complete snapshot for which predicate(snapshot) is true (predicate
        must depend on the snapshot only: each one is tried once)."""
        deadline = time.monotonic() + timeout
        checked = 0
        with self._lock:
            while True:
                snaps = self._complete_snapshots()
                for snap in snaps[checked:]:
                    if predicate(snap):
                        return snap
                checked = len(snaps)
                left = deadline - time.monotonic()
                if self._eof or left <= 0:
                    self._fail(what, timeout)
                self._lock.wait(min(left, 0.2))

    def wait_snapshots(self, count, timeout=20):
        """Returns the first count complete snapshots once there are that many."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._complete_snapshots()) < count:
                left = deadline - time.monotonic()
                if self._eof or left <= 0:
                    self._fail("%d snapshots" % count, timeout)
                self._lock.wait(min(left, 0.2))
            return self._complete_snapshots()[:count]

    def wait_after(self, wall_time, timeout=20, margin=0.05):
        """The first complete snapshot taken after wall_time (time.time() of the test)."""
        return self.wait_for(lambda s: s.time > wall_time + margin, timeout,
                             "snapshot after %.3f" % wall_time)

    def wait_row(self, timeout=20, **match):
        """The first complete snapshot with a row matching all fields; returns (snap, row)."""
        snap = self.wait_for(lambda s: len(s.find(**match)) > 0, timeout,
                             "row matching %r" % match)
        return snap, snap.find(**match)[0]

    def stop(self, sig=signal.SIGINT, timeout=15):
        """Signal tcptop, wait for it, check its exit status and stderr; returns
        (rows, snapshots) of the whole output."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait_exit(timeout)

    def wait_exit(self, timeout=30):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            for t in self._threads:
                t.join(5)
            raise AssertionError("tcptop %s did not exit within %ss\nstderr: %s"
                                 % (" ".join(self.args), timeout, self.stderr))
        for t in self._threads:
            t.join(10)
        check_no_sanitizer_report(self.stderr, "tcptop " + " ".join(self.args))
        assert self.proc.returncode == 0, "tcptop %s exited %s\nstderr: %s" % (
            " ".join(self.args), self.proc.returncode, self.stderr)
        return parse_output(self.stdout, self.fmt)

    def kill(self):
        """Teardown: make sure the process is gone (no checks)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for t in self._threads:
            t.join(5)
        self.proc.stdout.close()
        self.proc.stderr.close()


def rows_of(snapshots, **match):
    """Every row in the given snapshots matching the fields."""
    return [r for s in snapshots for r in s.find(**match)]


def is_ipv4(text):
    return text is not None and re.fullmatch(r"\d+\.\d+\.\d+\.\d+", text) is not None


def is_ipv6(text):
    return text is not None and ":" in text


def assert_within(row, column, expected, rel=0.01):
    """row[column] is within rel (1% by default) of expected."""
    value = row[column]
    assert value is not None, "%s is empty in %r" % (column, row)
    assert abs(value - expected) <= rel * expected, \
        "%s=%s, expected %s (within %.0f%%) in row %r" % (column, value, expected, rel * 100, row)


def running_tcptop(tcptop, agent, interval="250ms"):
    """tcptop (the fixture), returned once it shows a marker listener of agent (so its
    hooks are live)."""
    marker = agent.call("tcp_listen", family=4)
    run = tcptop("-d", interval)
    run.wait_row(proto="TCP", lport=marker["port"], state="LISTEN")
    return run


def udp_read_without_address(tcptop, receiver, sender):
    """sender's four 90-byte datagrams to an unconnected socket of receiver, which reads two
    with recv() and two with read(): neither passes an address buffer. Returns the running
    tcptop, a snapshot taken after, and the receiving and sending sockets."""
    sock = receiver.call("udp_socket", family=4)
    peer = sender.call("udp_socket", family=4)
    run = running_tcptop(tcptop, receiver)
    sender.call("udp_sendto", sid=peer["sid"], host=sock["addr"], port=sock["port"],
                size=90, count=4)
    assert receiver.call("udp_recv", sid=sock["sid"], count=2)["sizes"] == [90, 90]
    assert receiver.call("udp_read", sid=sock["sid"], count=2)["sizes"] == [90, 90]
    return run, run.wait_after(time.time()), sock, peer


def assert_owner(row, agent):
    assert row["pid"] == agent.pid and row["comm"] == agent.comm, \
        "row owned by pid=%r comm=%r, expected pid=%d comm=%r: %r" % (
            row["pid"], row["comm"], agent.pid, agent.comm, row)


def assert_transfer_counted(run, pair, up, down, owner):
    """pair.transfer(up, down) on a connection with nothing counted yet: the client's row
    in the next snapshot shows exactly those bytes, and owner. Returns that snapshot."""
    pair.transfer(up, down)
    snap = run.wait_after(time.time())
    cli = snap.one(proto="TCP", lport=pair.client_lport, rport=pair.port)
    assert (cli["tx_bytes"], cli["rx_bytes"]) == (up, down), cli
    assert_owner(cli, owner)
    return snap
