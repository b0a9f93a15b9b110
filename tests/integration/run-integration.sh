#!/bin/sh
# Integration tests: the real tcptop binary, real BPF programs, real loopback traffic.
# Run by "make check" with TCPTOP (the built binary) and TCPTOP_SRCDIR (the source tree)
# in the environment. They need root and the tools contrib/install-deps.sh installs; without
# them this is a hard error (exit 99), never a quiet pass, unless TCPTOP_TEST_ALLOW_SKIP=1
# says a skip is wanted (exit 77: automake's SKIP).
cannot_run() {
	if [ "${TCPTOP_TEST_ALLOW_SKIP:-0}" = 1 ]; then
		echo "run-integration.sh: skipped: $1 (TCPTOP_TEST_ALLOW_SKIP=1)"
		exit 77
	fi
	echo "run-integration.sh: $1; the integration tests cannot run." >&2
	echo "run-integration.sh: set TCPTOP_TEST_ALLOW_SKIP=1 to skip them on purpose." >&2
	exit 99
}
if [ "$(id -u)" -ne 0 ]; then
	cannot_run "they need root (sudo make check)"
fi
: "${TCPTOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TCPTOP:=$(pwd)/tcptop}"
export TCPTOP TCPTOP_SRCDIR
if [ ! -x "$TCPTOP" ]; then
	echo "run-integration.sh: no tcptop binary at $TCPTOP (set TCPTOP)" >&2
	exit 99
fi
# Debian's python3-pytest lives in /usr/bin/python3's path; a python3 earlier in PATH
# (pyenv, a venv) may not have it.
python=python3
if ! python3 -c 'import pytest, xdist' >/dev/null 2>&1 && [ -x /usr/bin/python3 ]; then
	python=/usr/bin/python3
fi
missing=
"$python" -c 'import pytest' >/dev/null 2>&1 || missing="$missing pytest"
"$python" -c 'import xdist' >/dev/null 2>&1 || missing="$missing pytest-xdist"
for tool in tmux ip unshare nsenter mount setpriv bpftool timeout nginx ab dnsmasq dnsperf; do
	command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing="$missing $tool"
done
if [ -n "$missing" ]; then
	cannot_run "missing:$missing (contrib/install-deps.sh installs them)"
fi
# Keep the source tree clean (it may be read-only in a VPATH build).
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
# Once per hook set: the default (auto, which takes the modern set on this kernel) and
# the compat set (TCPTOP_TEST_HOOKS=compat adds "--hooks compat" to every tcptop command
# line); conftest.py leaves out of each pass the tests marked for the other one, leaves
# out of the compat pass those marked hooks_independent (replay backend, command line
# only: nothing of theirs can differ with the hook set), and fails any test that skips.
# Each pass's output is kept and printed after a summary of what failed, so that the
# head of the log (all a CI excerpt may show) names the failed tests and why.
out=$(mktemp -d "${TMPDIR:-/tmp}/tcptop-integration.XXXXXX") || exit 99
pids=
trap 'rm -rf "$out"' EXIT
trap '[ -z "$pids" ] || kill -TERM $pids 2>/dev/null; wait; exit 1' HUP INT TERM
# A pass that hangs outside any test's own time limit (conftest.py) ends here.
PASS_TIME_LIMIT=${TCPTOP_TEST_PASS_TIME_LIMIT:-1800}
# Most of a test's time is waiting (for snapshots, for traffic's pace): each pass runs its
# tests in TCPTOP_TEST_WORKERS processes (pytest-xdist, default 2), which took the two
# passes from 5 min 52 s to 3 min 19 s here with every test still passing.
# start_pass NAME [VAR=VALUE...]: the suite in the background, its output into $out/NAME;
# finish_pass NAME PID waits for it.
start_pass() {
	name=$1
	shift
	timeout -k 30 "$PASS_TIME_LIMIT" env "$@" "$python" -m pytest -n "${TCPTOP_TEST_WORKERS:-2}" -v -rfEs --tb=short --durations=15 \
		-p no:cacheprovider "$TCPTOP_SRCDIR/tests/integration" > "$out/$name" 2>&1 &
	pids="$pids $!"
}
finish_pass() {
	wait "$2" || echo "$1" >> "$out/failed"
}
# The two passes run at the same time (TCPTOP_TEST_PASSES_AT_ONCE=0: one after the other):
# on two cores that takes little more than the longer one. The tests allow it: each looks
# only at its own sockets and processes, as it must on a host where other runs of the suite
# go on; the few that make thousands of flows take a host-wide lock (tcptop_run.py).
start_pass auto
auto_pid=$!
if [ "${TCPTOP_TEST_PASSES_AT_ONCE:-1}" != 1 ]; then
	finish_pass auto "$auto_pid"
fi
start_pass compat TCPTOP_TEST_HOOKS=compat
finish_pass compat $!
if [ "${TCPTOP_TEST_PASSES_AT_ONCE:-1}" = 1 ]; then
	finish_pass auto "$auto_pid"
fi
status=0
for pass in $(cat "$out/failed" 2>/dev/null); do
	status=1
	echo "=== failed in the $pass pass (its whole output is below):"
	if grep -q '^\(FAILED\|ERROR\) ' "$out/$pass"; then
		grep '^\(FAILED\|ERROR\) ' "$out/$pass"
		sed -n '/^=* FAILURES =*$/,/^=* short test summary/p' "$out/$pass" | head -n 80
	else
		tail -n 40 "$out/$pass"
	fi
done
echo "=== integration tests: default hook set (auto)"
cat "$out/auto"
echo "=== integration tests: --hooks compat"
cat "$out/compat"
exit $status
