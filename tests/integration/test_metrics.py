"""--metrics: the Prometheus endpoint, with real BPF and real sockets. Scrapes must be valid
text format 0.0.4 and OpenMetrics 1.0, count the test's traffic exactly per process, keep
counters monotonic, and survive bad clients."""

import re
import socket
import subprocess
import threading
import time

import pytest

from scrape import (MetricsTcptop, free_port, get, parse, promtool_check, rss_kib, value)
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
    run = metrics("-d", "200ms", "--metrics-top", "3")
    pair = TcpPair(agents.new("srv"), agents.new("cli"))
    pair.transfer(10000, 2000)
    wait_for(lambda: value(run.samples(), "tcptop_process_bytes_total", comm=pair.client.comm,
                           proto="tcp", direction="tx") == 10000, "the client's bytes")
    status, said = promtool_check(run.scrape())
    assert status == 0 and said == "", said
    # The busiest flows show while they move bytes.
    deadline = time.monotonic() + 20
    while True:
        pair.transfer(100000, 0)
        text = run.scrape()
        top = re.search(r'^tcptop_top_flow_bytes_per_second\{rank="1",comm="(tt_[a-z]+_\d+)",'
                        r'proto="tcp",.*direction="tx"\} ([\d.]+)$', text, re.M)
        if top or time.monotonic() > deadline:
            break
    assert top and top.group(1) in (pair.client.comm, pair.server.comm), text
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
