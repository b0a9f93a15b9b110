"""Fixtures for the tcptop integration tests (run as root by run-integration.sh)."""

import errno
import itertools
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tcptop_run  # noqa: E402
from traffic import Agents  # noqa: E402

# No test may hang the suite: each gets this long, then fails.
TEST_TIME_LIMIT_S = 120
# A test that skips fails instead (a suite must not pass by not running), unless this is 1.
ALLOW_SKIP = os.environ.get("TCPTOP_TEST_ALLOW_SKIP") == "1"

_tags = itertools.count(1)


def pytest_configure(config):
    path = os.environ.get("TCPTOP", "")
    if not path or not os.access(path, os.X_OK):
        raise pytest.UsageError("set TCPTOP to the tcptop binary to test (got %r)" % path)
    if os.geteuid() != 0:
        raise pytest.UsageError("integration tests need root (sudo make check)")
    config.addinivalue_line(
        "markers", "only_pass(name, why): run only in the pass of that hook set "
        "(auto or compat)")
    config.addinivalue_line(
        "markers", "hooks_independent: the outcome cannot depend on the hook set (replay "
        "backend, command line only): run in the default pass only")


@pytest.fixture(autouse=True)
def own_settings(monkeypatch):
    """Every test's tcptops read and write their settings file (tcptoprc) in a directory
    of the test's own: never the user's, and no test's settings reach another test."""
    settings = tempfile.mkdtemp(prefix="tcptop-settings-")
    os.chmod(settings, 0o755)  # a tcptop run without privileges finds no file, silently
    monkeypatch.setenv("XDG_CONFIG_HOME", settings)
    yield pathlib.Path(settings) / "tcptop" / "tcptoprc"
    shutil.rmtree(settings, ignore_errors=True)


def _runs_in_this_pass(item):
    this_pass = tcptop_run.TEST_HOOKS or "auto"
    if item.get_closest_marker("hooks_independent") and this_pass != "auto":
        return False
    only = item.get_closest_marker("only_pass")
    return only is None or only.args[0] == this_pass


def pytest_collection_modifyitems(config, items):
    """The suite runs once per hook set (run-integration.sh); each pass leaves out the
    tests that are not for it. They are deselected, not skipped: a skip is a failure."""
    keep = [item for item in items if _runs_in_this_pass(item)]
    left_out = [item for item in items if not _runs_in_this_pass(item)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = keep


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not ALLOW_SKIP and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = ("a test may not skip (TCPTOP_TEST_ALLOW_SKIP=1 allows it): %s"
                           % reason)


@pytest.fixture(autouse=True)
def time_limit():
    def expired(signum, frame):
        raise TimeoutError("test took longer than %ss" % TEST_TIME_LIMIT_S)

    # An xdist worker now and then runs its tests outside the main thread (seen once in
    # CI: every test of one worker then failed to set the alarm). There the pass's own
    # time limit (run-integration.sh) is the bound.
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(TEST_TIME_LIMIT_S)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def tag():
    """Short per-test tag for process names: unique within this run and across runs."""
    return "%03d%02d" % (os.getpid() % 1000, next(_tags) % 100)


@pytest.fixture
def agents(tag):
    """Makes traffic agents (child processes with a given comm); ends them all after the
    test, which closes their sockets."""
    factory = Agents(tag)
    yield factory
    factory.close_all()


@pytest.fixture
def tcptop():
    """Starts tcptop -b in the background: tcptop(args..., fmt="csv"). Any still running
    at the end of the test is killed."""
    started = []

    def start(*args, fmt="csv"):
        run = tcptop_run.Tcptop(list(args), fmt=fmt)
        started.append(run)
        return run

    yield start
    for run in started:
        run.kill()
        tcptop_run.check_no_sanitizer_report(run.stderr, "tcptop " + " ".join(run.args))


@pytest.fixture
def flow_map_alone():
    """For a test that makes thousands of flows: no test that sized a flow map
    (flow_map_room) runs meanwhile, here or in any other run of this suite on the host."""
    with tcptop_run.flow_map_lock(exclusive=True):
        yield


@pytest.fixture
def flow_map_room():
    """For a test that sizes its flow map with tcptop_run.flow_map_size(): no test that
    makes thousands of flows (flow_map_alone) runs meanwhile."""
    with tcptop_run.flow_map_lock(exclusive=False):
        yield


@pytest.fixture
def scratch_dir():
    """A temporary directory, removed after the test (pytest's tmp_path keeps old ones)."""
    with tempfile.TemporaryDirectory(prefix="tcptop-it-") as path:
        yield pathlib.Path(path)


@pytest.fixture
def small_disk(scratch_dir):
    """A 1 MiB tmpfs of the test's own, and a function that fills it (returning a function
    that empties it again)."""
    mount = scratch_dir / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tcptop-test", str(mount)],
                   check=True)

    def fill():
        filler = mount / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"\0" * 4096) > 0:
                pass
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
        finally:
            os.close(fd)
        return filler.unlink

    try:
        yield mount, fill
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.fixture(scope="session")
def netns_inode():
    return os.stat("/proc/self/ns/net").st_ino
