#!/bin/sh
# ThreadSanitizer on the whole pipeline (collector, compute, output threads) with the
# replay backend: no kernel involved, so every interleaving comes from the threads alone.
# Usage: check-pipeline.sh PATH/TO/tcptop (built with ./configure --enable-tsan)
set -u
tcptop=${1:?usage: check-pipeline.sh PATH/TO/tcptop}
here=$(cd "$(dirname "$0")" && pwd)
TSAN_OPTIONS="suppressions=$here/suppressions halt_on_error=1 exitcode=66"
export TSAN_OPTIONS
failed=0 passed=0

run() {
	if "$@" >/dev/null; then
		passed=$((passed + 1))
	else
		echo "check-pipeline: FAILED (exit $?): $*" >&2
		failed=$((failed + 1))
	fi
}

# Many short intervals: publication, readers and call_rcu frees overlap constantly.
run "$tcptop" -b -d 10ms -N 40 --replay synthetic:5000:500
# Idle UDP flows expire: deletions and call_rcu frees of flow nodes while compute reads.
run "$tcptop" -b -d 10ms -N 40 --format jsonl --replay synthetic:5000:100 --udp-timeout 50ms
# Stopped by a signal mid-run rather than by the count.
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
# Each step waits for the log to have grown (at most 30 s): TSan's run is slow, the
# more so on a busy host, and an empty file is no gzip file.
grown() {
	for _ in $(seq 300); do
		[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -gt "$2" ] && return 0
		sleep 0.1
	done
	echo "check-pipeline: $1 did not grow past $2 bytes" >&2
}
grown "$log_dir/flows.csv.gz" 0
kill -HUP "$pid"
size=$(stat -c %s "$log_dir/flows.csv.gz")
grown "$log_dir/flows.csv.gz" "$size"
mv "$log_dir/flows.csv.gz" "$log_dir/flows.csv.1.gz"
kill -HUP "$pid"
grown "$log_dir/flows.csv.gz" 0
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
