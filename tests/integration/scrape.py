"""tcptop --metrics for the tests: runs it, scrapes it, parses what it serves.

Text scrapes are parsed with prometheus_client's text parser and OpenMetrics ones with its
strict OpenMetrics parser (Debian python3-prometheus-client), so a scrape that either
format's rules reject fails the test that reads it.
"""

import http.client
import os
import signal
import socket
import subprocess
import time

from prometheus_client.openmetrics import parser as om_parser
from prometheus_client import parser as text_parser

from tcptop_run import HOOK_ARGS, TCPTOP, check_no_sanitizer_report

OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
TEXT = "text/plain; version=0.0.4; charset=utf-8"
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                     "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


def free_port():
    """A loopback port nothing uses now, from a socket bound to port 0."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path="/metrics", accept=None, method="GET", host="127.0.0.1", timeout=10):
    """(status, content type, body text) of one request."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, headers={"Accept": accept} if accept else {})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type"), resp.read().decode()
    finally:
        conn.close()


def parse(body, openmetrics):
    """{(sample name, ((label, value), ...)): value} of every sample."""
    parser = om_parser if openmetrics else text_parser
    samples = {}
    for family in parser.text_string_to_metric_families(body):
        for s in family.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            assert key not in samples, "sample %r twice" % (key,)
            samples[key] = s.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


class MetricsTcptop:
    """tcptop -q --metrics 127.0.0.1:PORT (and args) in the background."""

    def __init__(self, *args, listen=None, port=None, prefix=(), command=None):
        """command, when given, is the whole command line after the binary."""
        self.port = port or free_port()
        listen = listen or "127.0.0.1:%d" % self.port
        self.args = command if command is not None else ["-q", "--metrics", listen] + list(args)
        self.proc = subprocess.Popen(list(prefix) + [TCPTOP] + HOOK_ARGS + self.args,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.stdout = self.stderr = None

    def wait_serving(self, timeout=20):
        """Until a scrape shows a snapshot (tcptop_snapshots_total is served)."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, "tcptop exited: %s" % self.finish()[1]
            try:
                status, _, body = get(self.port, timeout=2)
                if status == 200 and "tcptop_snapshots_total" in body:
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, "no metrics within %ss" % timeout
            time.sleep(0.1)

    def scrape(self, openmetrics=False):
        status, ctype, body = get(self.port, accept=PROMETHEUS_ACCEPT if openmetrics else None)
        assert status == 200, (status, body)
        assert ctype == (OPENMETRICS if openmetrics else TEXT), ctype
        return body

    def samples(self, openmetrics=False):
        return parse(self.scrape(openmetrics), openmetrics)

    def finish(self, sig=signal.SIGINT, timeout=15):
        """Stop tcptop; (exit status, stdout, stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError("tcptop did not stop within %ss" % timeout)
        self.stdout, self.stderr = out.decode(errors="replace"), err.decode(errors="replace")
        check_no_sanitizer_report(self.stderr, "tcptop " + " ".join(self.args))
        return self.proc.returncode, self.stdout, self.stderr

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"


def promtool_check(body):
    """promtool check metrics on a scrape: its exit status and what it said."""
    assert os.access(PROMTOOL, os.X_OK), "promtool missing: run contrib/install-deps.sh"
    run = subprocess.run([PROMTOOL, "check", "metrics"], input=body.encode(),
                         capture_output=True, timeout=30)
    return run.returncode, (run.stdout + run.stderr).decode()
