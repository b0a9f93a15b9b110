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
# wait_for_file FILE PID: until FILE is there and not empty (tcptop blocks the signals it
# handles before it opens or writes anything, so a signal sent after that is handled, not
# fatal, however slowly it started under TSan), or PID is gone, or 60 s have passed.
wait_for_file() {
	tries=600
	while [ ! -s "$1" ] && kill -0 "$2" 2>/dev/null && [ "$tries" -gt 0 ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
	[ -s "$1" ] || echo "check-pipeline: $1 never came" >&2
}
# watch PID: a watchdog that kills PID after the run's limit; unwatch stops it. Not
# timeout(1) for the runs the test signals: timeout passes a signal on to its own process
# group too, so tcptop would get each twice, and a second SIGTERM ends it at once.
watch() {
	sleep "$RUN_TIME_LIMIT" </dev/null >/dev/null 2>&1 &
	sleeper=$!
	(wait_sleeper() { while kill -0 "$sleeper" 2>/dev/null; do sleep 1; done; }
	 wait_sleeper
	 if [ -e "$scratch/watched" ]; then
		echo "check-pipeline: timed out after ${RUN_TIME_LIMIT}s" >&2
		kill -KILL "$1" 2>/dev/null
	 fi) &
	touch "$scratch/watched"
}
unwatch() {
	rm -f "$scratch/watched"
	kill "$sleeper" 2>/dev/null
	wait
}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/tcptop-tsan.XXXXXX")
# Stopped by a signal mid-run rather than by the count.
"$tcptop" -b -d 10ms --replay synthetic:5000:500 >"$scratch/stdout" &
pid=$!
watch "$pid"
wait_for_file "$scratch/stdout" "$pid"
sleep 0.5
kill -TERM "$pid"
if wait "$pid"; then passed=$((passed + 1)); else
	echo "check-pipeline: FAILED: SIGTERM run exited $?" >&2
	failed=$((failed + 1))
fi
unwatch
# A gzip log, reopened on SIGHUP (from main's signalfd to the output thread) while it
# writes, once after a rotation by hand.
log=$scratch/flows.csv.gz
"$tcptop" -b -d 10ms --replay synthetic:5000:500 -l "$log" >/dev/null &
pid=$!
watch "$pid"
# Each step waits for the log to have grown (at most 30 s): TSan's run is slow, the
# more so on a busy host, and an empty file is no gzip file.
grown() {
	for _ in $(seq 300); do
		[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -gt "$2" ] && return 0
		sleep 0.1
	done
	echo "check-pipeline: $1 did not grow past $2 bytes" >&2
}
grown "$log" 0
kill -HUP "$pid"
size=$(stat -c %s "$log")
grown "$log" "$size"
mv "$log" "$scratch/flows.csv.1.gz"
kill -HUP "$pid"
grown "$log" 0
kill -TERM "$pid"
if wait "$pid" && gzip -t "$log" "$scratch/flows.csv.1.gz"; then
	passed=$((passed + 1))
else
	echo "check-pipeline: FAILED: the SIGHUP run with a gzip log" >&2
	failed=$((failed + 1))
fi
unwatch
# -w's writer beside stdout's, then -r's replay thread publishing to stdout's writer with
# acks, and to the log's.
run "$tcptop" -b -d 10ms -N 40 --replay synthetic:5000:500 -w "$scratch/rec"
run "$tcptop" -b -r "$scratch/rec" -l "$scratch/replayed.csv"
rm -rf "$scratch"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
