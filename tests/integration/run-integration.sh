#!/bin/sh
# Integration tests: the real tcptop binary, real BPF programs, real loopback traffic.
# Run by "make check" with TCPTOP (the built binary) and TCPTOP_SRCDIR (the source tree)
# in the environment. Needs root; otherwise the test is skipped (exit 77).
if [ "$(id -u)" -ne 0 ]; then
	echo "integration tests need root (sudo make check)"
	exit 77
fi
: "${TCPTOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TCPTOP:=$(pwd)/tcptop}"
export TCPTOP TCPTOP_SRCDIR
if [ ! -x "$TCPTOP" ]; then
	echo "run-integration.sh: no tcptop binary at $TCPTOP (set TCPTOP)" >&2
	exit 99
fi
# Keep the source tree clean (it may be read-only in a VPATH build).
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE
# Debian's python3-pytest lives in /usr/bin/python3's path; a python3 earlier in PATH
# (pyenv, a venv) may not have it.
python=python3
if ! python3 -c 'import pytest' >/dev/null 2>&1 && [ -x /usr/bin/python3 ]; then
	python=/usr/bin/python3
fi
# Once per hook set: the default (auto, which takes the modern set on this kernel), then
# the compat set, which every test must also pass (test_hooks.py bounds the documented
# differences). TCPTOP_TEST_HOOKS=compat makes the suite add "--hooks compat" everywhere.
# Each pass's output is kept and printed after a summary of what failed, so that the
# head of the log (all a CI excerpt may show) names the failed tests and why.
out=$(mktemp -d "${TMPDIR:-/tmp}/tcptop-integration.XXXXXX") || exit 99
trap 'rm -rf "$out"' EXIT
trap 'exit 1' HUP INT TERM
# run_pass NAME [VAR=VALUE...]: the suite, its output into $out/NAME.
run_pass() {
	name=$1
	shift
	env "$@" "$python" -m pytest -v -rfE --tb=short -p no:cacheprovider \
		"$TCPTOP_SRCDIR/tests/integration" > "$out/$name" 2>&1 || echo "$name" >> "$out/failed"
}
run_pass auto
run_pass compat TCPTOP_TEST_HOOKS=compat
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
