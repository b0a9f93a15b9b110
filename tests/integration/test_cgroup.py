"""The cgroup column (-o +cgroup) and --cgroup: processes the test places in fresh cgroups
of their own, named like a systemd service and a Docker container, with sockets made
before tcptop starts (the start-up walk) and while it runs (the hooks); and a recording
that keeps the names after the cgroups are gone."""

import json
import os
import subprocess
import threading
import time

import pytest

from tcptop_run import HOOK_ARGS, run_tcptop, tcptop_binary
from traffic import TcpPair


def cgroup2_root():
    """Where /proc/mounts says the cgroup v2 tree is (/sys/fs/cgroup, or .../unified)."""
    with open("/proc/mounts") as mounts:
        for line in mounts:
            fields = line.split()
            if fields[2] == "cgroup2":
                return fields[1]
    return None


@pytest.fixture
def cgroups(tag):
    """place(agent, leaf): moves the agent into <root>/tcptop-it-<tag>.slice/<leaf>, made
    for it; returns the path below the root. All is removed after the test."""
    root = cgroup2_root()
    assert root, "no cgroup2 mount in /proc/mounts"
    top = os.path.join(root, "tcptop-it-%s.slice" % tag)
    made = []

    def place(agent, leaf):
        path = os.path.join(top, leaf)
        os.makedirs(path)
        made.append(path)
        with open(os.path.join(path, "cgroup.procs"), "w") as procs:
            procs.write(str(agent.pid))
        return path[len(root):]

    def remove():
        for path in made:
            with open(os.path.join(path, "cgroup.procs")) as procs:
                for pid in procs.read().split():
                    with open(os.path.join(root, "cgroup.procs"), "w") as back:
                        back.write(pid)
            os.rmdir(path)
        made.clear()
        if os.path.isdir(top):
            os.rmdir(top)

    place.remove = remove
    yield place
    remove()


def last_snapshot(stdout):
    rows = [json.loads(line) for line in stdout.splitlines()]
    rows = [r for r in rows if "dropped" not in r]
    assert rows, stdout
    return [r for r in rows if r["time"] == rows[-1]["time"]]


def run_until_first_snapshot(args, then):
    """tcptop -b ARGS to completion, calling then() once its first snapshot is out; its
    (exit status, stdout, stderr)."""
    proc = subprocess.Popen([tcptop_binary()] + HOOK_ARGS + ["-b"] + args,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    assert first, proc.stderr.read()
    then()
    out, err = proc.communicate(timeout=60)
    return proc.returncode, first + out, err


def test_sockets_show_the_unit_of_the_cgroup_they_were_made_in(agents, cgroups, tag,
                                                             scratch_dir):
    server, client = agents.new("srv"), agents.new("cli")
    service = "app-%s.service" % tag
    container = "%s%s" % (tag, "0123456789abcdef" * 4)[:64 - len(tag)]
    cgroups(server, service)
    cgroups(client, "docker-%s.scope" % container)
    shown = {server.pid: service, client.pid: "docker:" + container[:12]}
    before = TcpPair(server, client)
    before.transfer(1000, 1000)
    later = []

    def open_more():
        pair = TcpPair(server, client)
        pair.transfer(1000, 1000)
        udp = client.call("udp_socket")
        client.call("udp_sendto", sid=udp["sid"], host="127.0.0.1", port=before.port,
                    size=100, count=3)
        later.append(pair)

    recording = scratch_dir / "rec"
    status, out, err = run_until_first_snapshot(
        ["-n", "-d", "250ms", "-N", "6", "--format", "jsonl", "-o", "+cgroup",
         "-w", str(recording), "--cgroup", "tcptop-it-%s" % tag], open_more)
    assert status == 0, err
    rows = last_snapshot(out)
    ports = {before.port, later[0].port}
    mine = [r for r in rows if r["pid"] in shown]
    # The listeners, both ends of both connections, the UDP flow: each with its unit.
    assert {(r["pid"], r["cgroup"]) for r in mine} == set(shown.items()), mine
    assert sum(r["proto"] == "TCP" and r["state"] == "ESTABLISHED" and
               (r["lport"] in ports or r["rport"] in ports) for r in mine) == 4, mine
    assert any(r["proto"] == "UDP" and r["pid"] == client.pid for r in mine), mine
    assert len(mine) == len(rows), "--cgroup let in another cgroup's rows: %r" % rows

    only = run_tcptop(["-b", "-n", "-d", "200ms", "-N", "2", "--format", "jsonl",
                       "-o", "pid,cgroup", "--cgroup", service])
    assert only.returncode == 0, only
    rows = last_snapshot(only.stdout)
    assert rows and {(r["pid"], r["cgroup"]) for r in rows} == {(server.pid, service)}, rows

    # The recording keeps the names: they show with the cgroups gone.
    agents.close_all()
    cgroups.remove()
    replay = run_tcptop(["-r", str(recording), "-b", "--format", "jsonl", "-o", "pid,cgroup",
                         "--cgroup", "tcptop-it-%s" % tag])
    assert replay.returncode == 0, replay
    replayed = {(r["pid"], r["cgroup"]) for r in last_snapshot(replay.stdout)}
    assert replayed == set(shown.items()), replayed


def test_cgroup_column_is_not_in_the_default_output_and_names_root_sockets(agents):
    """Not written unless asked for (the CSV header stays), and a socket of the root cgroup
    shows "/"."""
    server = agents.new("srv")
    listen = server.call("tcp_listen")
    with open("/proc/%d/cgroup" % server.pid) as f:
        own = [line.split(":", 2)[2].strip() for line in f if line.startswith("0::")][0]
    plain = run_tcptop(["-b", "-n", "-N", "1", "--port", str(listen["port"])])
    assert plain.returncode == 0 and "cgroup" not in plain.stdout.splitlines()[0], plain
    asked = run_tcptop(["-b", "-n", "-N", "1", "--port", str(listen["port"]), "--format",
                        "jsonl", "-o", "pid,cgroup"])
    rows = last_snapshot(asked.stdout)
    assert [r["pid"] for r in rows] == [server.pid] and rows[0]["cgroup"], rows
    if own == "/":
        assert rows[0]["cgroup"] == "/", rows
