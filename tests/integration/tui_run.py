"""The live view in a real terminal: tcptop in a detached tmux session, its screen read
with capture-pane.

Each ``Tui`` has a tmux server of its own, started in a private mount namespace where
name lookups can read nothing but a hosts file of the test's: /etc/nsswitch.conf says
"hosts: files" and /etc/hosts is the test's (nscd's socket, if any, is hidden too). Reverse
DNS in the live view therefore never sends a query anywhere, and the names it shows are
the test's. Every open of that hosts file is counted (inotify): a run with -n must make
none, that is, look up no name at all.

Every run ends through ``wait_exit``: exit status 0 and a stderr with nothing in it (no
sanitizer report, no message); the ``tui`` fixture ends the runs a test left running that
way, with q, so that no test can end by killing tmux without reading them.
"""

import ctypes
import itertools
import os
import re
import shlex
import shutil
import struct
import subprocess
import tempfile
import time

from tcptop_run import HOOK_ARGS, check_no_sanitizer_report, tcptop_binary

_sessions = itertools.count(1)

# What the sandbox's hosts file says: the names the live view may show.
HOSTS = "127.0.0.1 tt-loopback\n::1 tt-loopback6\n"
IN_OPEN = 0x20

SANDBOX = """
mount --bind "$1/hosts" /etc/hosts &&
mount --bind "$1/nsswitch.conf" /etc/nsswitch.conf || exit 1
for d in /run/nscd /var/run/nscd; do
	if [ -d "$d" ] && [ ! -L "$d" ]; then mount -t tmpfs tt-no-nscd "$d" || exit 1; fi
done
shift
exec "$@"
"""


class FileOpens:
    """Counts the opens of one file from now on (inotify IN_OPEN: through any path, a
    bind mount included)."""

    def __init__(self, path):
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0 or libc.inotify_add_watch(self.fd, path.encode(), IN_OPEN) < 0:
            err = ctypes.get_errno()
            raise OSError(err, "inotify on %s: %s" % (path, os.strerror(err)))
        self.opens = 0

    def count(self):
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return self.opens
            offset = 0
            while offset < len(data):
                _, mask, _, name_len = struct.unpack_from("iIII", data, offset)
                self.opens += bool(mask & IN_OPEN)
                offset += 16 + name_len

    def close(self):
        os.close(self.fd)


class Tui:
    """tcptop ARGS in its own tmux server, run as ``tcptop ARGS 2>ERRFILE; echo EXIT=$?;
    sleep`` so that the exit status and what the terminal shows after exit can be read
    from the pane. lookups: whether the run may look names up (default: unless -n).
    shell: the command is typed at an interactive bash instead, which does job control
    (Ctrl-Z, fg); the test then echoes EXIT=$? itself."""

    def __init__(self, args, width=120, height=40, env=(), stderr_to_pane=False,
                 lookups=None, shell=False, bells=False):
        self.args = list(args)
        self.lookups = ("-n" not in self.args) if lookups is None else lookups
        self.name = "tcptop-tui-%d-%d" % (os.getpid(), next(_sessions))
        self.finished = False
        # A private directory for the server's socket, tcptop's stderr and the sandbox's
        # files, removed at close.
        self.dir = tempfile.mkdtemp(prefix="tcptop-tui-")
        self.socket = os.path.join(self.dir, "tmux")
        self.err_path = os.path.join(self.dir, "stderr")
        open(self.err_path, "w").close()
        hosts = os.path.join(self.dir, "hosts")
        with open(hosts, "w") as f:
            f.write(HOSTS)
        with open(os.path.join(self.dir, "nsswitch.conf"), "w") as f:
            f.write("hosts: files\n")
        self.hosts_opens = FileOpens(hosts)
        # bells: the server appends a line to a file at each bell the pane rings.
        self.bells_path = os.path.join(self.dir, "bells")
        config = os.path.join(self.dir, "tmux.conf")
        with open(config, "w") as f:
            if bells:
                f.write("set -g monitor-bell on\nset -g bell-action any\n"
                        "set-hook -g alert-bell \"run-shell 'echo bell >> %s'\"\n"
                        % self.bells_path)
        binary = tcptop_binary()
        self.comm = os.path.basename(binary)[:15]  # its main thread's name, for pgrep
        command = "env %s %s %s %s; echo EXIT=$?" % (
            " ".join(shlex.quote(e) for e in env), shlex.quote(binary),
            " ".join(shlex.quote(a) for a in HOOK_ARGS + self.args),
            "" if stderr_to_pane else "2>" + shlex.quote(self.err_path))
        # shell: typed at an interactive bash, which does job control (Ctrl-Z, fg).
        subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", SANDBOX,
                        "sandbox", self.dir, "tmux", "-S", self.socket, "-f", config,
                        "new-session", "-d",
                        "-s", self.name, "-x", str(width), "-y", str(height),
                        "bash --norc --noprofile -i" if shell else command + "; sleep 120"],
                       check=True, capture_output=True, text=True)
        if shell:
            self.type("PS1='$ '; " + command)
            self.keys("Enter")

    def bells(self):
        """How many times the pane rang the bell (a Tui made with bells=True)."""
        try:
            with open(self.bells_path) as f:
                return len(f.readlines())
        except FileNotFoundError:
            return 0

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.socket] + list(args), check=True,
                              capture_output=True, text=True).stdout

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def styled_screen(self):
        return self.tmux("capture-pane", "-e", "-p", "-t", self.name)

    def lines(self):
        return self.screen().split("\n")

    def keys(self, *keys):
        self.tmux("send-keys", "-t", self.name, *keys)

    def mouse(self, x, y, button=0):
        """A mouse event at screen cell (x, y), 0-based, as an xterm sends it in its X10
        encoding (the pane's TERM, screen, decodes that): button 0 is a left press (a
        release follows), 64 and 65 the wheel up and down."""
        assert x < 94 and y < 94, "X10 mouse codes stop at 223"
        def event(b):
            return "\x1b[M" + chr(32 + b) + chr(33 + x) + chr(33 + y)
        self.type(event(button) + (event(3) if button == 0 else ""))

    def type(self, text):
        self.tmux("send-keys", "-t", self.name, "-l", text)

    def resize(self, width, height):
        self.tmux("resize-window", "-t", self.name, "-x", str(width), "-y", str(height))

    def pane_pid(self):
        return int(self.tmux("display-message", "-p", "-t", self.name, "#{pane_pid}"))

    def wait(self, predicate, what, timeout=15):
        """The screen once predicate(screen) is true on two captures 50 ms apart: tmux may
        be captured between two reads of one frame (seen on a loaded host: a help page's
        title drawn and its lines not yet), and the caller's asserts need the whole."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if predicate(text):
                time.sleep(0.05)
                settled = self.screen()
                if predicate(settled):
                    return settled
                text = settled
            if time.monotonic() > deadline:
                raise AssertionError("no %s within %ss; screen:\n%s\nstderr: %s"
                                     % (what, timeout, text, self.stderr()))
            time.sleep(0.1)

    def wait_text(self, text, timeout=15):
        return self.wait(lambda s: text in s, repr(text), timeout)

    def stderr(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def check_lookups(self):
        """A run with -n looks no name up: it never opened the hosts file."""
        opens = self.hosts_opens.count()
        assert self.lookups or opens == 0, \
            "tcptop %s looked names up (%d opens of the hosts file)" % (
                " ".join(self.args), opens)

    def check_ended(self, status="0", stderr_empty=True):
        """What every run must leave: the exit status, a clean stderr, no lookups if -n."""
        screen = self.wait(lambda s: re.search(r"EXIT=\d", s), "exit")
        self.finished = True  # checked now, whatever the outcome: not again at teardown
        err = self.stderr()
        check_no_sanitizer_report(err, "tcptop (live view)")
        found = re.search(r"EXIT=(\d+)", screen).group(1)
        assert found == status, "exit status %s, expected %s; stderr: %s" % (found, status, err)
        assert err == "" or not stderr_empty, "tcptop wrote to stderr: %r" % err
        self.check_lookups()
        return screen

    def wait_exit(self, timeout=15):
        """Waits for EXIT=N in the pane; checks the status is 0, stderr empty and, with
        -n, that no name was looked up. Returns the screen after exit."""
        self.wait(lambda s: re.search(r"EXIT=\d", s), "exit", timeout)
        return self.check_ended()

    def close(self):
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True)
        self.hosts_opens.close()
        shutil.rmtree(self.dir, ignore_errors=True)
