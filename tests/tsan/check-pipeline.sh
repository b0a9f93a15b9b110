#!/bin/sh
# ThreadSanitizer on the whole pipeline (collector, compute, output threads) with the
# replay backend: no kernel involved, so every interleaving comes from the threads alone.
# Usage: check-pipeline.sh PATH/TO/tcptop (built with ./configure --enable-tsan)
set -u
tcptop=${1:?usage: check-pipeline.sh PATH/TO/tcptop}
here=$(cd "$(dirname "$0")" && pwd)
TSAN_OPTIONS="suppressions=$here/suppressions halt_on_error=1 exitcode=66"
export TSAN_OPTIONS
# No run may hang CI: each is killed after this long (a run takes a few seconds).
RUN_TIME_LIMIT=${TCPTOP_TSAN_RUN_TIME_LIMIT:-300}
failed=0 passed=0

run() {
	timeout -k 10 "$RUN_TIME_LIMIT" "$@" >/dev/null
	status=$?
	if [ "$status" -eq 0 ]; then
		passed=$((passed + 1))
	else
		[ "$status" -eq 124 ] && echo "check-pipeline: timed out after ${RUN_TIME_LIMIT}s" >&2
		echo "check-pipeline: FAILED (exit $status): $*" >&2
		failed=$((failed + 1))
	fi
}

# Many short intervals: publication, readers and call_rcu frees overlap constantly.
run "$tcptop" -b -d 10ms -N 40 --replay synthetic:5000:500
# Idle UDP flows expire: deletions and call_rcu frees of flow nodes while compute reads.
run "$tcptop" -b -d 10ms -N 40 --format jsonl --replay synthetic:5000:100 --udp-timeout 50ms
# Stopped by a signal mid-run rather than by the count. timeout passes our SIGTERM on and,
# with --preserve-status, exits as tcptop did; its own limit still ends a hung run (KILL).
timeout --preserve-status -k 10 "$RUN_TIME_LIMIT" \
	"$tcptop" -b -d 10ms --replay synthetic:5000:500 >/dev/null &
pid=$!
sleep 1
kill -TERM "$pid"
if wait "$pid"; then passed=$((passed + 1)); else
	echo "check-pipeline: FAILED: SIGTERM run exited $?" >&2
	failed=$((failed + 1))
fi
# A gzip log, reopened on SIGHUP (from main's signalfd to the output thread) while it
# writes, once after a rotation by hand.
log_dir=$(mktemp -d "${TMPDIR:-/tmp}/tcptop-tsan.XXXXXX")
"$tcptop" -b -d 10ms --replay synthetic:5000:500 -l "$log_dir/flows.csv.gz" >/dev/null &
pid=$!
sleep 0.5
kill -HUP "$pid"
sleep 0.3
mv "$log_dir/flows.csv.gz" "$log_dir/flows.csv.1.gz"
kill -HUP "$pid"
sleep 0.3
kill -TERM "$pid"
if wait "$pid" && gzip -t "$log_dir/flows.csv.gz" "$log_dir/flows.csv.1.gz"; then
	passed=$((passed + 1))
else
	echo "check-pipeline: FAILED: the SIGHUP run with a gzip log" >&2
	failed=$((failed + 1))
fi
rm -rf "$log_dir"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
