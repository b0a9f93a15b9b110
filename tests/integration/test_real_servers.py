"""Real servers on loopback, each on a port of its own with its own configuration and
files in a scratch directory, checked against their own records: nginx driven by ab
against nginx's access log, dnsmasq driven by dnsperf against dnsperf's counts."""

import os
import re
import shutil
import socket
import struct
import subprocess
import time
from collections import Counter

import pytest

from tcptop_run import Tcptop

# contrib/install-deps.sh installs them: a missing one fails the test, never skips it.
NGINX, AB = "/usr/sbin/nginx", "/usr/bin/ab"
DNSMASQ, DNSPERF = "/usr/sbin/dnsmasq", "/usr/bin/dnsperf"


def require(*paths):
    missing = [p for p in paths if not os.access(p, os.X_OK)]
    assert not missing, "%s missing: run contrib/install-deps.sh" % ", ".join(missing)


def free_port(kind=socket.SOCK_STREAM):
    """A loopback port nothing uses now (servers that cannot take a socket bind it)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(ready, what, timeout=10):
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, "%s not ready within %ss" % (what, timeout)
        time.sleep(0.05)


def tcp_listening(port):
    """Whether a socket listens on 127.0.0.1:port (read from /proc: a probe connection
    would be one more connection in the server's log)."""
    with open("/proc/net/tcp") as f:
        return any(line.split()[1] == "0100007F:%04X" % port and line.split()[3] == "0A"
                   for line in f.readlines()[1:])


def stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def nginx(scratch_dir):
    """nginx (master and two workers) serving a 10 KiB file; its access log records each
    connection's client port, request and response bytes, and the worker's pid."""
    require(NGINX, AB)
    os.chmod(scratch_dir, 0o755)  # the workers run as nobody
    (scratch_dir / "www").mkdir()
    (scratch_dir / "www" / "f.bin").write_bytes(os.urandom(10240))
    port = free_port()
    conf = scratch_dir / "nginx.conf"
    conf.write_text("""daemon off;
master_process on;
worker_processes 2;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 256; }}
http {{
    log_format flows "$remote_port $request_length $bytes_sent $pid";
    access_log {d}/access.log flows;
    client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
    sendfile on;
    keepalive_timeout 0;
    server {{ listen 127.0.0.1:{port}; root {d}/www; }}
}}
""".format(d=scratch_dir, port=port))
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(scratch_dir)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: proc.poll() is not None or tcp_listening(port), "nginx")
        assert proc.poll() is None, (scratch_dir / "error.log").read_text()
        yield {"port": port, "dir": scratch_dir}
    finally:
        stop(proc)


def test_nginx_under_ab_every_connection_once_exact_bytes_and_its_worker(nginx):
    """2000 short HTTP connections from ab (non-blocking connects, 4 at a time): each shows
    once as closed on both sides, with nginx's own byte counts, the worker that served it
    and ab as the client."""
    port = nginx["port"]
    run = Tcptop(["-d", "250ms", "--port", str(port)])
    try:
        run.wait_row(proto="TCP", lport=port, state="LISTEN")
        ab = subprocess.run([AB, "-q", "-n", "2000", "-c", "4",
                             "http://127.0.0.1:%d/f.bin" % port],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        assert ab.returncode == 0, ab.stdout
        assert re.search(rb"Complete requests:\s+2000", ab.stdout), ab.stdout
        run.wait_after(time.time() + 0.3)
        rows, _ = run.stop()
    finally:
        run.kill()
    # Client port, request and response bytes, worker: a port may come back in 2000.
    served = Counter(tuple(map(int, line.split()))
                     for line in (nginx["dir"] / "access.log").read_text().splitlines())
    assert sum(served.values()) == 2000, "access log has %d lines" % sum(served.values())
    closed = [r for r in rows if r["proto"] == "TCP" and r["state"] == "CLOSE"]
    # ab may end with a connection or two on which it sent nothing: nginx does not log
    # those, but they are connections all the same, and have their process too.
    empty = [r for r in closed if r["tx_bytes"] == r["rx_bytes"] == 0]
    assert len(empty) <= 2 * 4, empty
    workers = {pid for _, _, _, pid in served}
    for r in empty:
        if r["lport"] == port:
            assert r["pid"] in workers and r["comm"] == "nginx", r
        else:
            assert r["pid"] is not None and r["comm"] == "ab", r
    closed = [r for r in closed if r not in empty]
    server_side = Counter((r["rport"], r["rx_bytes"], r["tx_bytes"], r["pid"])
                          for r in closed if r["lport"] == port)
    assert server_side == served, "server rows (port, in, out, pid) differ from the " \
        "access log: %r" % ((server_side - served) + (served - server_side))
    assert all(r["comm"] == "nginx" for r in closed if r["lport"] == port)
    client_side = Counter((r["lport"], r["tx_bytes"], r["rx_bytes"])
                          for r in closed if r["rport"] == port)
    assert client_side == Counter({k[:3]: n for k, n in served.items()}), \
        "ab's rows (port, out, in) differ from the access log"
    ab_pids = {(r["pid"], r["comm"]) for r in closed if r["rport"] == port}
    assert len(ab_pids) == 1 and next(iter(ab_pids))[1] == "ab", ab_pids


def dns_query(name, qid=1):
    """A minimal DNS query for name, type A."""
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + b"\0" + \
        struct.pack(">HH", 1, 1)


def dns_answers(port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        try:
            s.sendto(dns_query("a.test"), ("127.0.0.1", port))
            return len(s.recv(512)) > 0
        except OSError:
            return False


@pytest.fixture
def dnsmasq(scratch_dir):
    """dnsmasq answering for a local zone only: no upstream, no /etc files, no cache."""
    require(DNSMASQ, DNSPERF)
    port = free_port(socket.SOCK_DGRAM)
    proc = subprocess.Popen(
        [DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
         "--no-hosts", "--no-poll", "--port=%d" % port, "--listen-address=127.0.0.1",
         "--bind-interfaces", "--host-record=a.test,10.1.2.3", "--local=/test/",
         "--pid-file=%s" % (scratch_dir / "dnsmasq.pid"), "--user=root", "--cache-size=0",
         "--log-facility=%s" % (scratch_dir / "dnsmasq.log")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: proc.poll() is not None or dns_answers(port), "dnsmasq")
        assert proc.poll() is None, proc.stderr.read()
        yield {"port": port, "pid": proc.pid, "dir": scratch_dir}
    finally:
        stop(proc)
        proc.stderr.close()


def dnsperf_counts(text):
    def number(label):
        m = re.search(label + r":\s+(\d+)", text)
        assert m, "%s not in dnsperf's output:\n%s" % (label, text)
        return int(m.group(1))

    sizes = re.search(r"Average packet size:\s+request (\d+), response (\d+)", text)
    assert sizes, text
    return number("Queries sent"), number("Queries completed"), int(sizes.group(1)), \
        int(sizes.group(2))


def test_dnsmasq_under_dnsperf_counts_each_peer_exactly_and_names_dnsmasq(dnsmasq):
    """dnsperf sends 3000 queries from three sockets to dnsmasq's one: dnsmasq's socket has
    one row per peer, each with as many queries in as answers out, together what dnsperf
    counted, bytes to match its packet sizes, and dnsmasq as their process."""
    port = dnsmasq["port"]
    queries = dnsmasq["dir"] / "queries"
    queries.write_text("a.test A\n")
    run = Tcptop(["-d", "250ms", "--port", str(port), "-u"])
    try:
        run.wait_row(proto="UDP", lport=port)
        perf = subprocess.run([DNSPERF, "-s", "127.0.0.1", "-p", str(port), "-d",
                               str(queries), "-n", "3000", "-c", "3", "-q", "10"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
                              text=True)
        assert perf.returncode == 0, perf.stdout
        snap = run.wait_after(time.time())
        run.stop()
    finally:
        run.kill()
    sent, completed, request_size, response_size = dnsperf_counts(perf.stdout)
    assert sent == completed == 3000, perf.stdout
    peers = [r for r in snap.rows if r["lport"] == port and r["rport"] is not None]
    assert len(peers) == 3, peers
    for r in peers:
        assert (r["pid"], r["comm"]) == (dnsmasq["pid"], "dnsmasq"), r
        assert r["rx_packets"] == r["tx_packets"], r
        assert r["rx_bytes"] == r["rx_packets"] * request_size, r
        assert r["tx_bytes"] == r["tx_packets"] * response_size, r
    assert sum(r["rx_packets"] for r in peers) == sent, peers
    assert sum(r["tx_packets"] for r in peers) == completed, peers
    # dnsperf's own side: each of its sockets sent its peer's share, named dnsperf.
    for r in peers:
        mine = snap.one(lport=r["rport"], rport=port)
        assert mine["comm"] == "dnsperf" and mine["tx_packets"] == r["rx_packets"], mine
