#!/bin/sh
# Run one test program and fail it if a sanitizer said anything. Criterion counts a test
# as passed when its worker process leaks, or when a report comes after the verdict, so
# the exit status alone would hide AddressSanitizer, LeakSanitizer and UBSan reports.
# Each test has its own time limit (.timeout in its TestSuite); the whole program gets
# TCPTOP_UNIT_TIME_LIMIT seconds, so that a hang outside any test still ends.
log=$(mktemp) || exit 99
timeout -k 10 "${TCPTOP_UNIT_TIME_LIMIT:-600}" "$@" >"$log" 2>&1
status=$?
cat "$log"
if [ "$status" -eq 124 ]; then
	echo "check-sanitizers: $1 did not finish within ${TCPTOP_UNIT_TIME_LIMIT:-600}s" >&2
fi
if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer' "$log"; then
	echo "check-sanitizers: a sanitizer reported a problem in $1" >&2
	status=1
fi
rm -f "$log"
exit $status
