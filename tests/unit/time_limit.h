/* Every unit test's time limit: each suite declares it (TestSuite(name, .timeout = ...)),
 * and tests/unit/check-time-limits.sh fails the build's tests if one does not. A test
 * that hangs then fails by name instead of holding up "make check"; none takes more than
 * a fraction of a second, under the sanitizers too. */
#ifndef TCPTOP_TESTS_TIME_LIMIT_H
#define TCPTOP_TESTS_TIME_LIMIT_H

#define UNIT_TIME_LIMIT_S 60.0

#endif
