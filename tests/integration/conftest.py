"""Fixtures for the tcptop integration tests (run as root by run-integration.sh)."""

import errno
import itertools
import os
import pathlib
import signal
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tcptop_run  # noqa: E402
from traffic import Agents  # noqa: E402

# No test may hang the suite: each gets this long, then fails.
TEST_TIME_LIMIT_S = 120

_tags = itertools.count(1)


def pytest_configure(config):
    path = os.environ.get("TCPTOP", "")
    if not path or not os.access(path, os.X_OK):
        raise pytest.UsageError("set TCPTOP to the tcptop binary to test (got %r)" % path)
    if os.geteuid() != 0:
        raise pytest.UsageError("integration tests need root (sudo make check)")


@pytest.fixture(autouse=True)
def time_limit():
    def expired(signum, frame):
        raise TimeoutError("test took longer than %ss" % TEST_TIME_LIMIT_S)

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
