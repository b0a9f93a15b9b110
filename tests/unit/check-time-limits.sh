#!/bin/sh
# Every Criterion suite in tests/unit declares a time limit (time_limit.h): Criterion 2.4
# has no default limit that works (its --timeout is ignored), so a suite without one
# would let a hung test hold up "make check" until the outer limit.
dir=$(cd "$(dirname "$0")" && pwd)
status=0
for file in "$dir"/test_*.c; do
	for suite in $(sed -n 's/^\(Parameterized\)\{0,1\}Test(\([A-Za-z0-9_]*\),.*/\2/p' "$file" | sort -u); do
		# A declaration may span lines (clang-format wraps it): read the file as one.
		if ! tr '\n' ' ' < "$file" |
			grep -Eq "TestSuite\($suite,[^;]*\.timeout = UNIT_TIME_LIMIT_S"; then
			echo "$(basename "$file"): suite $suite has no TestSuite($suite, .timeout = UNIT_TIME_LIMIT_S)"
			status=1
		fi
	done
done
[ "$status" -eq 0 ] && echo "every suite has a time limit"
exit $status
