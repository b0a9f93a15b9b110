"""--metrics: the Prometheus endpoint, with real BPF and real sockets. Scrapes must be valid
text format 0.0.4 and OpenMetrics 1.0, count the test's traffic exactly per process, keep
counters monotonic, and survive bad clients."""

import ctypes
import http.client
import json
import os
import platform
import re
import socket
import struct
import subprocess
import threading
import time

import pytest

from prometheus_server import Prometheus
from scrape import MetricsTcptop, free_port, get, parse, promtool_check, rss_kib, value
from tcptop_run import TCPTOP
from traffic import TcpPair


@pytest.fixture
def metrics():
    """Starts tcptop -q --metrics on a free loopback port; killed after the test."""
    started = []

    def start(*args, **kwargs):
        run = MetricsTcptop(*args, **kwargs)
        started.append(run)
        run.wait_serving()
        return run

    yield start
    for run in started:
        run.kill()


def wait_for(predicate, what, timeout=20):
    """predicate()'s first true value, tried every 100 ms."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        assert time.monotonic() < deadline, "%s not within %ss" % (what, timeout)
        time.sleep(0.1)


def counter_families(body):
    return set(re.findall(r"^# TYPE (\S+) counter$", body, re.M))


def test_scrapes_pass_promtool_and_the_openmetrics_parser(metrics, agents):
    run = metrics("-d", "200ms", "--metrics-top", "10")
    pair = TcpPair(agents.new("srv"), agents.new("cli"))
    pair.transfer(10000, 2000)
    # Both directions in one snapshot: one taken between the transfer's halves has the
    # client's tx and not yet its rx, and later scrapes may still read that snapshot.
    wait_for(lambda: [value(samples, "tcptop_process_bytes_total", comm=pair.client.comm,
                            proto="tcp", direction=d) for samples in [run.samples()]
                      for d in ("tx", "rx")] == [10000, 2000], "the client's bytes")
    status, said = promtool_check(run.scrape())
    assert status == 0 and said == "", said
    # The busiest flows show while they move bytes: among the top ten (other tests on the
    # host may move more).
    deadline = time.monotonic() + 20
    while True:
        pair.transfer(100000, 0)
        text = run.scrape()
        top = re.findall(r'^tcptop_top_flow_bytes_per_second\{rank="\d+",comm="(tt_[a-z]+_\d+)",'
                         r'proto="tcp",.*direction="tx"\} [\d.]+$', text, re.M)
        if {pair.client.comm, pair.server.comm} & set(top) or time.monotonic() > deadline:
            break
    assert {pair.client.comm, pair.server.comm} & set(top), text
    status, said = promtool_check(text)
    assert status == 0 and said == "", said
    om = run.scrape(openmetrics=True)
    assert om.endswith("# EOF\n")
    samples = parse(om, openmetrics=True)
    assert value(samples, "tcptop_process_bytes_total", comm=pair.client.comm, proto="tcp",
                 direction="rx") == 2000
    # promtool reads only the text format: in OpenMetrics a counter's family has no _total,
    # so all it may say is that the _total samples have no HELP of their own.
    status, said = promtool_check(om)
    expected = {"%s_total no help text" % name for name in counter_families(om)}
    assert set(said.splitlines()) <= expected, said
    assert run.finish()[0] == 0


def test_only_metrics_is_served(metrics):
    run = metrics()
    assert get(run.port, "/")[0] == 404
    assert get(run.port, "/metrics/x")[0] == 404
    assert get(run.port, "/metricsx")[0] == 404
    assert get(run.port, method="POST")[0] == 405
    status, ctype, body = get(run.port, method="HEAD")
    assert status == 200 and body == ""
    assert run.finish()[0] == 0


def listening_addresses(port):
    found = []
    for path, family in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 6)):
        with open(path) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                if state == "0A" and int(local.split(":")[1], 16) == port:
                    found.append((family, local.split(":")[0]))
    return found


def test_listens_on_loopback_unless_told_otherwise(metrics):
    run = metrics()
    assert listening_addresses(run.port) == [(4, "0100007F")]
    assert "beyond this host" not in run.finish()[2]
    port = free_port()
    run = metrics(listen=":%d" % port, port=port)
    assert listening_addresses(port) == [(4, "00000000")]
    assert "serving /metrics on 0.0.0.0:%d, beyond this host" % port in run.finish()[2]


def test_a_taken_port_ends_tcptop_with_status_1():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = MetricsTcptop(port=port)
        run.proc.wait(timeout=20)
        status, out, err = run.finish()
    assert status == 1, err
    assert "cannot listen on 127.0.0.1:%d" % port in err


def test_quiet_writes_nothing_to_stdout(metrics, agents):
    run = metrics("-d", "100ms")
    pair = TcpPair(agents.new("srv"), agents.new("cli"))
    pair.transfer(1000, 1000)
    time.sleep(0.5)
    status, out, err = run.finish()
    assert status == 0 and out == "", (out, err)


def test_bad_option_values_are_usage_errors():
    for args in (["--metrics", "0"], ["--metrics", "host:80"], ["--metrics", "::1:80"],
                 ["--metrics-top", "1001"], ["--metrics", "1.2.3:80"]):
        run = subprocess.run([TCPTOP] + args, capture_output=True, timeout=10)
        assert run.returncode == 2, (args, run.stderr)


def test_prometheus_scrapes_exact_byte_counts_per_process(metrics, agents):
    """A real Prometheus scrapes tcptop every second (OpenMetrics, as it asks); the change
    of a process's byte counter between two instant queries, before and after known
    traffic, is the bytes it sent, and the ESTABLISHED gauge shows the connection."""
    run = metrics("-d", "250ms")
    pair = TcpPair(agents.new("srv"), agents.new("cli"))
    sent, answered = 3000000, 700000
    selector = 'tcptop_process_bytes_total{job="tcptop",comm="%s",proto="tcp",direction="%s"}'
    with Prometheus(run.port) as prom:
        def settled(comm, direction):
            """The counter once two queries a scrape apart agree (after a snapshot)."""
            first = prom.one(selector % (comm, direction))
            time.sleep(1.5)
            second = prom.one(selector % (comm, direction))
            return (second,) if first is not None and first == second else None

        before_tx = wait_for(lambda: settled(pair.client.comm, "tx"), "the client's series",
                             timeout=40)[0]
        before_rx = prom.one(selector % (pair.server.comm, "rx"))
        assert before_rx is not None
        pair.transfer(sent, answered)
        wait_for(lambda: prom.one(selector % (pair.client.comm, "tx")) != before_tx,
                 "the traffic in Prometheus", timeout=30)
        after_tx = wait_for(lambda: settled(pair.client.comm, "tx"), "a settled counter")[0]
        after_rx = prom.one(selector % (pair.server.comm, "rx"))
        client_rx = prom.one(selector % (pair.client.comm, "rx"))
        assert abs((after_tx - before_tx) - sent) <= sent / 100, (before_tx, after_tx)
        assert abs((after_rx - before_rx) - sent) <= sent / 100, (before_rx, after_rx)
        assert abs(client_rx - answered) <= answered / 100, client_rx
        established = 'tcptop_process_connections{comm="%s",state="ESTABLISHED"}'
        assert prom.one(established % pair.client.comm) == 1
        assert prom.one(established % pair.server.comm) == 1
        assert prom.one('tcptop_process_connections{comm="%s",state="LISTEN"}'
                        % pair.server.comm) == 1
        assert prom.one('up{job="tcptop"}') == 1
        [target] = prom.targets()
        assert target["health"] == "up" and target["lastError"] == "", target
    assert run.finish()[0] == 0


class Watcher:
    """Scrapes again and again (text and OpenMetrics in turn) in a thread, checking that no
    counter sample ever goes down and no process's series goes away."""

    COUNTER = re.compile(r"_(total|bucket|count|sum)$")

    def __init__(self, run):
        self.run = run
        self.last = {}
        self.scrapes = 0
        self.errors = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop)
        self.thread.start()

    def _check(self, samples):
        for key, val in samples.items():
            name, labels = key
            if not self.COUNTER.search(name):
                continue
            before = self.last.get(key)
            if before is not None and val < before:
                self.errors.append("%s%r went down: %s -> %s" % (name, labels, before, val))
            self.last[key] = val
        for key in self.last:
            if key[0].startswith("tcptop_process_") and key not in samples:
                self.errors.append("%s%r went away" % key)

    def _loop(self):
        while not self.stopping.is_set() and not self.errors:
            self._check(self.run.samples(openmetrics=self.scrapes % 2 == 1))
            self.scrapes += 1
            time.sleep(0.03)

    def stop(self):
        self.stopping.set()
        self.thread.join(30)
        assert not self.errors, "\n".join(self.errors[:20])
        return self.last


def test_counters_never_go_down_across_closes_udp_expiry_and_exit(metrics, agents):
    run = metrics("-d", "100ms", "--udp-timeout", "1s")
    watcher = Watcher(run)
    server, client = agents.new("srv"), agents.new("cli")
    expected_tx = 0
    for _ in range(5):
        pair = TcpPair(server, client)
        pair.transfer(200000, 30000)
        pair.close()
        expected_tx += 200000
    sink = server.call("udp_socket")
    source = client.call("udp_socket")
    client.call("udp_sendto", sid=source["sid"], host="127.0.0.1", port=sink["port"],
                size=1000, count=20)
    server.call("udp_recvfrom", sid=sink["sid"], count=20)
    time.sleep(2.5)  # the UDP flows expire (--udp-timeout 1s)
    comm = client.comm
    agents.close_all()  # the processes exit
    time.sleep(1.5)
    last = watcher.stop()
    assert watcher.scrapes >= 40, watcher.scrapes
    key = ("tcptop_process_bytes_total",
           tuple(sorted(dict(comm=comm, proto="tcp", direction="tx").items())))
    assert last[key] == expected_tx
    udp = ("tcptop_process_bytes_total",
           tuple(sorted(dict(comm=comm, proto="udp", direction="tx").items())))
    assert last[udp] == 20000
    samples = run.samples()
    assert value(samples, "tcptop_process_connections", comm=comm, state="ESTABLISHED") in (
        None, 0)  # shown only once a snapshot saw one of its connections ESTABLISHED
    assert run.finish()[0] == 0


def raw_exchange(port, data, timeout=5):
    """Send data on a fresh connection; what comes back until the server closes or a
    timeout."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            return b""  # refused mid-send: a huge request
        reply = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return reply


def test_bad_clients_neither_crash_it_nor_starve_other_scrapes(metrics):
    run = metrics("-d", "100ms")
    rss_before = rss_kib(run.proc.pid)
    # Slow clients: half a request each, held open while others scrape.
    slow = []
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", run.port), timeout=5)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)
    assert raw_exchange(run.port, b"NONSENSE\r\n\r\n").split(b" ")[1:2] in ([b"400"], [])
    huge = raw_exchange(run.port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " +
                        b"a" * 1000000 + b"\r\n\r\n")
    assert not huge.startswith(b"HTTP/1.1 200"), huge[:200]
    long_path = raw_exchange(run.port, b"GET /" + b"m" * 100000 + b" HTTP/1.1\r\n\r\n")
    assert not long_path.startswith(b"HTTP/1.1 200"), long_path[:200]
    assert get(run.port)[0] == 200

    # Many at once: some are refused (closed at once), none waits without bound, and
    # every client gets a whole scrape within a few tries.
    results = []

    def scraper():
        for attempt in range(50):
            try:
                status, _, body = get(run.port, timeout=10)
                results.append((status, body.endswith("\n"), attempt))
                return
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)
        results.append((None, False, 50))

    threads = [threading.Thread(target=scraper) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 40 and all(r[0] == 200 and r[1] for r in results), results
    for s in slow:
        s.close()
    assert get(run.port)[0] == 200
    assert rss_kib(run.proc.pid) - rss_before < 32 * 1024
    assert run.finish()[0] == 0


def test_connections_over_the_limit_are_refused_not_queued(metrics):
    run = metrics()
    held = [socket.create_connection(("127.0.0.1", run.port), timeout=5) for _ in range(8)]
    time.sleep(0.3)  # accepted by now
    start = time.monotonic()
    with pytest.raises((OSError, http.client.HTTPException)):
        get(run.port, timeout=5)
    assert time.monotonic() - start < 2, "the ninth connection waited instead"
    for s in held:
        s.close()

    def served():
        # Until the server has seen the eight leave, a new connection is still refused.
        try:
            return get(run.port, timeout=1)[0] == 200
        except (OSError, http.client.HTTPException):
            return False
    wait_for(served, "a scrape once the others left", timeout=5)
    assert run.finish()[0] == 0


BPF_SYSCALL = {"x86_64": 321, "aarch64": 280}
BPF_ENABLE_STATS, BPF_STATS_RUN_TIME = 32, 0


def enable_bpf_stats():
    """BPF run counts and times on while the returned fd stays open (BPF_ENABLE_STATS is
    counted by the kernel, so runs of this suite at once do not undo each other as with
    the sysctl)."""
    libc = ctypes.CDLL(None, use_errno=True)
    attr = ctypes.create_string_buffer(struct.pack("I", BPF_STATS_RUN_TIME), 8)
    fd = libc.syscall(BPF_SYSCALL[platform.machine()], BPF_ENABLE_STATS, attr, 8)
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, "BPF_ENABLE_STATS: " + os.strerror(err))
    return fd


def held_programs(pid):
    """{id: (name, run_cnt, run_time_ns)} of the BPF programs process pid holds, as bpftool
    reads them now (the ids from /proc/PID/fdinfo)."""
    ids = set()
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                ids.update(int(line.split()[1]) for line in f if line.startswith("prog_id:"))
        except FileNotFoundError:
            pass
    progs = {}
    for prog_id in ids:
        out = subprocess.run(["bpftool", "-j", "prog", "show", "id", str(prog_id)],
                             stdout=subprocess.PIPE, check=True, timeout=10).stdout
        p = json.loads(out)
        progs[prog_id] = (p["name"], p.get("run_cnt", 0), p.get("run_time_ns", 0))
    return progs


def program_samples(samples, kind):
    return {dict(labels)["program"]: v for (name, labels), v in samples.items()
            if name == "tcptop_bpf_program_%s_total" % kind}


def test_bpf_program_runs_and_run_time_while_bpf_stats_are_on(metrics, agents):
    """Without BPF stats the kernel counts no runs: no program series (zeros would read as
    "never ran"). With them on, each program tcptop holds has its runs and run time, and a
    scrape's figures lie between what bpftool reads of the same programs just before the
    snapshot and just after the scrape."""
    run = metrics("-d", "100ms")
    stats_on_elsewhere = open("/proc/sys/kernel/bpf_stats_enabled").read().strip() != "0"
    if not stats_on_elsewhere:
        assert not program_samples(run.samples(), "runs"), "program series without stats"
    fd = enable_bpf_stats()
    try:
        pair = TcpPair(agents.new("srv"), agents.new("cli"))
        pair.transfer(50000, 5000)
        before = held_programs(run.proc.pid)
        seen = value(run.samples(), "tcptop_snapshots_total")
        wait_for(lambda: value(run.samples(), "tcptop_snapshots_total") >= seen + 2,
                 "two snapshots after bpftool's first read")
        samples = run.samples()
        after = held_programs(run.proc.pid)
    finally:
        os.close(fd)
    runs, seconds = program_samples(samples, "runs"), program_samples(samples, "run_seconds")
    names = sorted(name for name, _, _ in before.values())
    assert sorted(runs) == sorted(seconds) == names, (sorted(runs), names)
    for prog_id, (name, runs_before, ns_before) in before.items():
        _, runs_after, ns_after = after[prog_id]
        assert runs_before <= runs[name] <= runs_after, (name, runs_before, runs[name])
        assert ns_before / 1e9 <= seconds[name] + 1e-9 <= ns_after / 1e9 + 2e-9, name
    assert sum(runs.values()) > 0 and sum(seconds.values()) > 0, samples
    status, said = promtool_check(run.scrape())
    assert status == 0 and said == "", said
    assert run.finish()[0] == 0


@pytest.mark.hooks_independent
def test_replay_procs_shows_that_many_comms_with_exact_bytes(metrics):
    """--replay synthetic:N:ACTIVE:PROCS spreads the flows over PROCS processes: /metrics
    shows exactly PROCS comms (replay0 ... replay<PROCS-1>), each with the bytes of its own
    flows (flow i belongs to replay<i % PROCS>), and both formats still pass promtool."""
    flows, procs = 2000, 300
    run = metrics("-d", "100ms", "--replay", "synthetic:%d:0:%d" % (flows, procs))
    # ACTIVE 0: every flow moves once, at the first drain, so the counts are final.
    samples = run.samples()
    sent = {dict(labels)["comm"]: v for (name, labels), v in samples.items()
            if name == "tcptop_process_bytes_total" and dict(labels)["direction"] == "tx"
            and dict(labels)["proto"] == "tcp"}
    assert set(sent) == {"replay%d" % p for p in range(procs)}, sorted(sent)[:10]
    expected = {}
    for i in range(0, flows, 2):  # even flows are TCP
        comm = "replay%d" % (i % procs)
        expected[comm] = expected.get(comm, 0) + 1000 + i % 97 * 100
    # PROCS is even here, so the odd comms own only UDP flows: their TCP series are 0.
    assert {c: v for c, v in sent.items() if v} == expected
    status, said = promtool_check(run.scrape())
    assert status == 0 and said == "", said
    # As above: promtool reads only the text format; of OpenMetrics it may only say that
    # the counters' _total samples have no HELP of their own.
    om = run.scrape(openmetrics=True)
    status, said = promtool_check(om)
    expected = {"%s_total no help text" % name for name in counter_families(om)}
    assert set(said.splitlines()) <= expected, said
    assert run.finish()[0] == 0
