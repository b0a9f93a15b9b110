#!/bin/sh
# Run one test program and fail it if a sanitizer said anything. Criterion counts a test
# as passed when its worker process leaks, or when a report comes after the verdict, so
# the exit status alone would hide AddressSanitizer, LeakSanitizer and UBSan reports.
log=$(mktemp) || exit 99
"$@" >"$log" 2>&1
status=$?
cat "$log"
if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer' "$log"; then
	echo "check-sanitizers: a sanitizer reported a problem in $1" >&2
	status=1
fi
rm -f "$log"
exit $status
