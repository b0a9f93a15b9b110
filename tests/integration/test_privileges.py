"""Least privilege (issue 16): once the BPF programs are loaded and attached and the
start-up walk is done, main and the collector keep only what draining the maps needs and
every other thread holds no capability; no thread can gain any back (no_new_privs); and
tcptop runs as a user without root given only the capabilities the README lists.

Capabilities belong to threads: the tests read every thread's /proc/PID/task/TID/status
and know the threads by their names."""

import os
import pwd
import re
import shutil
import time

import pytest

from tcptop_run import TEST_HOOKS, Tcptop, assert_transfer_counted, run_tcptop
from traffic import TcpPair

CAP_SYS_PTRACE = 19
CAP_BPF = 39
PIPELINE_THREADS = {"tcptop", "tcptop-collect", "tcptop-compute", "tcptop-rcu"}
# The writers: of standard output (batch), of --log, of --closed.
WRITERS = {"tcptop-stdout", "tcptop-log", "tcptop-closed"}
# Main and the collector keep what the drains need; the rest hold nothing.
COLLECTOR_THREADS = {"tcptop", "tcptop-collect"}
README = os.path.join(os.environ.get("TCPTOP_SRCDIR", ""), "README")

default_pass = pytest.mark.only_pass("auto", "capabilities do not depend on the hook set")
have_setpriv = pytest.mark.skipif(shutil.which("setpriv") is None,
                                  reason="setpriv (util-linux) is not installed")


def thread_status(pid):
    """[{name, uid, inh, prm, eff, amb, nnp}] of every thread of process pid."""
    threads = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                fields = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that just ended
        # The main thread is named after the binary (tcptop, or tests/tcptop-fault).
        name = "tcptop" if int(tid) == pid else fields["Name"]
        threads.append({"tid": int(tid), "name": name,
                        "uid": int(fields["Uid"].split()[1]),
                        "inh": int(fields["CapInh"], 16), "prm": int(fields["CapPrm"], 16),
                        "eff": int(fields["CapEff"], 16), "amb": int(fields["CapAmb"], 16),
                        "nnp": int(fields["NoNewPrivs"])})
    return threads


def kernel_at_least(major, minor):
    found = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return (int(found.group(1)), int(found.group(2))) >= (major, minor)


def bpf_may_need_cap_bpf():
    """Kernels before 6.5 check CAP_BPF on every bpf() command while
    kernel.unprivileged_bpf_disabled is set; with it at 0 tcptop cannot tell, and keeps
    CAP_BPF."""
    with open("/proc/sys/kernel/unprivileged_bpf_disabled") as f:
        return not kernel_at_least(6, 5) or f.read().strip() == "0"


def assert_least_privilege(threads, kept, expected_names):
    """Every thread named, none able to gain privileges; main and the collector hold
    exactly kept (a bit mask; CAP_BPF may be added where the kernel needs it), the others
    nothing."""
    names = sorted(t["name"] for t in threads)
    assert expected_names <= set(names), names
    assert set(names) <= expected_names | {"tcptop-resolve"}, names
    for t in threads:
        assert t["nnp"] == 1, "thread %s can gain privileges: %r" % (t["name"], t)
        assert t["inh"] == 0 and t["amb"] == 0, t
        assert t["eff"] == t["prm"], t
        if t["name"] not in COLLECTOR_THREADS:
            assert t["eff"] == 0, "thread %s holds capabilities: %r" % (t["name"], t)
        elif bpf_may_need_cap_bpf():
            assert t["eff"] & ~(1 << CAP_BPF) == kept, t
        else:
            assert t["eff"] == kept, "thread %s holds %#x, expected %#x" % (
                t["name"], t["eff"], kept)


def kept_line(stderr):
    lines = [line for line in stderr.splitlines() if "capabilities after start-up" in line]
    assert len(lines) == 1, stderr
    return lines[0]


# ------------------------------------------------------------------------ as root


def test_every_thread_holds_only_what_the_collector_needs(scratch_dir):
    """Batch output with --log and --closed: the writers of both hold nothing, like the
    compute thread and liburcu's worker; the drains need nothing on this kernel."""
    run = Tcptop(["-d", "100ms", "-v", "-l", str(scratch_dir / "flows.csv"),
                  "--closed", str(scratch_dir / "ended.csv")])
    try:
        run.wait_snapshots(2)
        threads = thread_status(run.proc.pid)
        run.stop()
    finally:
        run.kill()
    assert_least_privilege(threads, 0, PIPELINE_THREADS | WRITERS)
    assert kept_line(run.stderr).endswith(
        ": %s for main and the collector, none for every other thread"
        % ("cap_bpf" if bpf_may_need_cap_bpf() else "none")), run.stderr


def test_replay_keeps_no_capability():
    run = Tcptop(["-d", "50ms", "--replay", "synthetic:10"])
    try:
        run.wait_snapshots(1)
        threads = thread_status(run.proc.pid)
        run.stop()
    finally:
        run.kill()
    for t in threads:
        assert (t["eff"], t["prm"], t["nnp"]) == (0, 0, 1), t


@pytest.fixture
def keeps_cap_sys_ptrace(monkeypatch):
    """The arguments of a run whose collector keeps a capability: the compat set without
    iter/task_file walks /proc/PID/fd for owners, which takes CAP_SYS_PTRACE. Threads
    that must hold nothing are seen apart from main's there."""
    monkeypatch.setenv("TCPTOP_BREAK_HOOKS", "iterators")
    return ["--hooks", "compat"]


@default_pass
def test_compat_owner_walk_through_proc_keeps_cap_sys_ptrace_alone(agents, scratch_dir,
                                                                   keeps_cap_sys_ptrace):
    """The collector keeps CAP_SYS_PTRACE and with it still names the server of a
    connection accepted from a listener older than tcptop, on which nothing is read or
    sent, so that only the walk can name it (the agents hold more capabilities than a
    thread without it may look at); the writers of the output and both logs hold none."""
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4, connect=False)
    run = Tcptop(keeps_cap_sys_ptrace + ["-d", "250ms", "-v", "-l", str(scratch_dir / "l.csv"),
                                         "--closed", str(scratch_dir / "ended.csv")])
    try:
        run.wait_row(proto="TCP", lport=pair.port, state="LISTEN")
        threads = thread_status(run.proc.pid)
        pair.connect()
        run.wait_row(proto="TCP", lport=pair.port, rport=pair.client_lport, pid=server.pid,
                     comm=server.comm)
        run.stop()
    finally:
        run.kill()
    assert "owners from /proc" in run.stderr, run.stderr
    assert_least_privilege(threads, 1 << CAP_SYS_PTRACE, PIPELINE_THREADS | WRITERS)
    assert "cap_sys_ptrace" in kept_line(run.stderr), run.stderr


@default_pass
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_live_view_and_name_resolvers_hold_nothing(agents, keeps_cap_sys_ptrace):
    """The thread that reads terminfo and draws, and the ones that take DNS answers, hold
    nothing while main and the collector keep CAP_SYS_PTRACE."""
    from test_tui import tcptop_in_pane as tcptop_pid
    from tui_run import Tui

    server, client = agents.new("srv"), agents.new("cli")
    TcpPair(server, client, family=4)
    run = Tui(keeps_cap_sys_ptrace + ["-d", "250ms", "-p", "%d,%d" % (server.pid, client.pid)])
    try:
        run.wait_text(client.comm)
        pid = tcptop_pid(run)
        deadline = time.monotonic() + 10
        while not any(t["name"] == "tcptop-resolve" for t in thread_status(pid)):
            assert time.monotonic() < deadline, "no resolver thread: %r" % thread_status(pid)
            time.sleep(0.1)
        threads = thread_status(pid)
        run.keys("q")
        run.wait_exit()
    finally:
        run.close()
    assert_least_privilege(threads, 1 << CAP_SYS_PTRACE,
                           PIPELINE_THREADS | {"tcptop-ui", "tcptop-resolve"})


def test_log_directory_must_be_writable_without_capabilities(scratch_dir):
    """The logs are opened, as later reopened on SIGHUP, with no capability: a directory
    of another user is closed to root then (no CAP_DAC_OVERRIDE), root's own is not."""
    nobody = pwd.getpwnam("nobody")
    theirs = scratch_dir / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, nobody.pw_uid, nobody.pw_gid)
    result = run_tcptop(["-b", "-N", "1", "--replay", "synthetic:2", "-l",
                         str(theirs / "flows.csv")], timeout=20)
    assert result.returncode == 1, result
    assert "Permission denied" in result.stderr, result
    assert not (theirs / "flows.csv").exists()
    ours = scratch_dir / "ours"
    ours.mkdir(mode=0o700)
    result = run_tcptop(["-b", "-N", "1", "--replay", "synthetic:2", "-l",
                         str(ours / "flows.csv")], timeout=20)
    assert result.returncode == 0, result


# ------------------------------------------------- as a user given the README's list


def readme_capabilities():
    """The capabilities the README says tcptop needs instead of root."""
    with open(README) as f:
        found = re.search(r"only these capabilities: (CAP_[A-Z_]+(?:, CAP_[A-Z_]+)*)\.",
                          " ".join(f.read().split()))
    assert found, "the README's Requirements name no capabilities"
    return found.group(1).split(", ")


def setpriv_as_nobody(capabilities):
    caps = ",".join("+" + c[len("CAP_"):].lower() for c in capabilities)
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
            "--inh-caps=-all," + caps, "--ambient-caps=-all," + caps]


@have_setpriv
def test_runs_as_another_user_with_the_capabilities_the_readme_lists(agents):
    """Proves the README's list true and enough: as user nobody with only those, tcptop
    starts, counts a connection exactly and names its process, and then holds no more
    than it would as root, with the ambient set cleared."""
    caps = readme_capabilities()
    assert caps == ["CAP_BPF", "CAP_PERFMON", "CAP_NET_ADMIN"], caps
    server, client = agents.new("srv"), agents.new("cli")
    pair = TcpPair(server, client, family=4)
    run = Tcptop(["-d", "250ms", "-v"], prefix=setpriv_as_nobody(caps))
    try:
        run.wait_row(proto="TCP", lport=pair.client_lport, rport=pair.port)
        threads = thread_status(run.proc.pid)
        assert_transfer_counted(run, pair, 30_000, 4_000, client)
        run.stop()
    finally:
        run.kill()
    assert {t["uid"] for t in threads} == {pwd.getpwnam("nobody").pw_uid}, threads
    assert_least_privilege(threads, 0, PIPELINE_THREADS | {"tcptop-stdout"})

