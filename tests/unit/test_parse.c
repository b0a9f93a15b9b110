/* The value parsers behind the command line: strict, and with a reason when they refuse. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cli/parse.h"
#include "time_limit.h"

TestSuite(count, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(duration, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(pid_list, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(port, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(rate, .timeout = UNIT_TIME_LIMIT_S);

#define MS 1000000ULL
#define S 1000000000ULL

static uint64_t duration_ok(const char *text)
{
	const char *why = NULL;
	uint64_t ns = 0;

	cr_assert_eq(parse_duration_ns(text, &ns, &why), 0, "'%s' refused: %s", text,
		     why ? why : "(no reason)");
	return ns;
}

static const char *duration_refused(const char *text)
{
	const char *why = NULL;
	uint64_t ns = 12345;

	cr_assert_eq(parse_duration_ns(text, &ns, &why), -1, "'%s' accepted", text);
	cr_assert_eq(ns, 12345, "'%s' changed the output on failure", text);
	cr_assert_not_null(why, "'%s' refused without a reason", text);
	return why;
}

Test(duration, accepts_milliseconds)
{
	cr_assert_eq(duration_ok("250ms"), 250 * MS);
}

Test(duration, accepts_fractional_seconds)
{
	cr_assert_eq(duration_ok("0.5s"), S / 2);
}

Test(duration, accepts_seconds_with_unit)
{
	cr_assert_eq(duration_ok("2s"), 2 * S);
}

Test(duration, bare_number_means_seconds)
{
	cr_assert_eq(duration_ok("2"), 2 * S);
	cr_assert_eq(duration_ok("0.25"), S / 4);
}

Test(duration, accepts_microseconds)
{
	cr_assert_eq(duration_ok("1500us"), 1500000ULL);
	cr_assert_eq(duration_ok("0.5us"), 500ULL);
}

Test(duration, accepts_minutes)
{
	cr_assert_eq(duration_ok("1m"), 60 * S);
	cr_assert_eq(duration_ok("1.5m"), 90 * S);
}

Test(duration, accepts_fractional_milliseconds)
{
	cr_assert_eq(duration_ok("0.25ms"), 250000ULL);
}

Test(duration, ignores_digits_finer_than_a_nanosecond)
{
	cr_assert_eq(duration_ok("0.1234567891s"), 123456789ULL);
}

Test(duration, accepts_the_largest_representable_value)
{
	cr_assert_eq(duration_ok("18446744073s"), 18446744073ULL * S);
}

Test(duration, rejects_zero)
{
	cr_assert_str_eq(duration_refused("0"), "must be greater than zero");
	cr_assert_str_eq(duration_refused("0ms"), "must be greater than zero");
	cr_assert_str_eq(duration_refused("0.0s"), "must be greater than zero");
}

Test(duration, rejects_values_that_round_to_zero_nanoseconds)
{
	cr_assert_str_eq(duration_refused("0.0000000001s"), "must be greater than zero");
}

Test(duration, rejects_words)
{
	cr_assert_str_eq(duration_refused("abc"), "is not a duration (try 250ms, 0.5s or 2)");
}

Test(duration, rejects_negative_values)
{
	cr_assert_str_eq(duration_refused("-5ms"), "is not a duration (try 250ms, 0.5s or 2)");
}

Test(duration, rejects_a_leading_plus_sign)
{
	duration_refused("+5ms");
}

Test(duration, rejects_unknown_units)
{
	cr_assert_str_eq(duration_refused("250mss"), "is not a duration (try 250ms, 0.5s or 2)");
	duration_refused("2h");
	duration_refused("2S");
	duration_refused("2ns");
}

Test(duration, rejects_trailing_junk)
{
	duration_refused("2s ");
	duration_refused("2x");
	duration_refused("250ms5");
}

Test(duration, rejects_leading_whitespace)
{
	duration_refused(" 2s");
	duration_refused("\t2");
}

Test(duration, rejects_empty_text)
{
	duration_refused("");
}

Test(duration, rejects_a_unit_without_a_number)
{
	duration_refused("ms");
}

Test(duration, rejects_two_decimal_points)
{
	duration_refused("1.5.2s");
}

Test(duration, rejects_a_decimal_point_without_digits_on_both_sides)
{
	duration_refused(".5s");
	duration_refused("5.s");
	duration_refused("5.");
}

Test(duration, rejects_overflow)
{
	cr_assert_str_eq(duration_refused("18446744074s"), "is too large");
	cr_assert_str_eq(duration_refused("99999999999999999999999"), "is too large");
	cr_assert_str_eq(duration_refused("307445734561m"), "is too large");
}

Test(duration, rejects_overflow_in_the_fraction)
{
	cr_assert_str_eq(duration_refused("18446744073.9999999999s"), "is too large");
}

static uint16_t port_ok(const char *text)
{
	const char *why = NULL;
	uint16_t port = 0;

	cr_assert_eq(parse_port(text, &port, &why), 0, "'%s' refused: %s", text,
		     why ? why : "(no reason)");
	return port;
}

static const char *port_refused(const char *text)
{
	const char *why = NULL;
	uint16_t port = 7;

	cr_assert_eq(parse_port(text, &port, &why), -1, "'%s' accepted", text);
	cr_assert_eq(port, 7, "'%s' changed the output on failure", text);
	cr_assert_not_null(why);
	return why;
}

Test(port, accepts_the_whole_range)
{
	cr_assert_eq(port_ok("1"), 1);
	cr_assert_eq(port_ok("443"), 443);
	cr_assert_eq(port_ok("65535"), 65535);
}

Test(port, rejects_zero)
{
	cr_assert_str_eq(port_refused("0"), "must be between 1 and 65535");
}

Test(port, rejects_values_above_65535)
{
	cr_assert_str_eq(port_refused("70000"), "must be between 1 and 65535");
	cr_assert_str_eq(port_refused("65536"), "must be between 1 and 65535");
	cr_assert_str_eq(port_refused("99999999999999999999999"), "must be between 1 and 65535");
}

Test(port, rejects_anything_but_decimal_digits)
{
	cr_assert_str_eq(port_refused("https"), "is not a port number");
	port_refused("");
	port_refused("80x");
	port_refused("-1");
	port_refused("+80");
	port_refused(" 80");
	port_refused("0x50");
}

static const char *pid_list_refused(const char *text)
{
	static pid_t untouched[1];
	pid_t *pids = untouched;
	size_t count = 99;
	const char *why = NULL;

	cr_assert_eq(parse_pid_list(text, &pids, &count, &why), -1, "'%s' accepted", text);
	cr_assert_eq(pids, untouched, "'%s' changed the output on failure", text);
	cr_assert_eq(count, 99);
	cr_assert_not_null(why);
	return why;
}

Test(pid_list, accepts_a_single_pid)
{
	const char *why = NULL;
	pid_t *pids = NULL;
	size_t count = 0;

	cr_assert_eq(parse_pid_list("123", &pids, &count, &why), 0);
	cr_assert_eq(count, 1);
	cr_assert_eq(pids[0], 123);
	free(pids);
}

Test(pid_list, accepts_a_comma_separated_list_in_order)
{
	const char *why = NULL;
	pid_t *pids = NULL;
	size_t count = 0;

	cr_assert_eq(parse_pid_list("1,22,4194304", &pids, &count, &why), 0);
	cr_assert_eq(count, 3);
	cr_assert_eq(pids[0], 1);
	cr_assert_eq(pids[1], 22);
	cr_assert_eq(pids[2], 4194304);
	free(pids);
}

Test(pid_list, rejects_non_numeric_pids)
{
	cr_assert_str_eq(pid_list_refused("12ab"), "is not a process id");
	cr_assert_str_eq(pid_list_refused("1,x"), "is not a process id");
	pid_list_refused("-1");
	pid_list_refused(" 1");
	pid_list_refused("1 ,2");
}

Test(pid_list, rejects_empty_text)
{
	cr_assert_str_eq(pid_list_refused(""), "is not a process id");
}

Test(pid_list, rejects_empty_elements)
{
	const char *why = pid_list_refused("1,,2");

	cr_assert(strstr(why, "empty"), "reason was '%s'", why);
	pid_list_refused(",1");
	pid_list_refused("1,");
	pid_list_refused(",");
}

Test(pid_list, rejects_pids_out_of_range)
{
	cr_assert_str_eq(pid_list_refused("0"), "must be between 1 and 4194304");
	cr_assert_str_eq(pid_list_refused("4194305"), "must be between 1 and 4194304");
	pid_list_refused("1,99999999999999999999999");
}

static const char *count_refused(const char *text, uint64_t min, uint64_t max)
{
	const char *why = NULL;
	uint64_t value = 5;

	cr_assert_eq(parse_count(text, min, max, &value, &why), -1, "'%s' accepted", text);
	cr_assert_eq(value, 5, "'%s' changed the output on failure", text);
	cr_assert_not_null(why);
	return why;
}

Test(count, accepts_values_within_bounds_inclusive)
{
	const char *why = NULL;
	uint64_t value = 0;

	cr_assert_eq(parse_count("1", 1, 10, &value, &why), 0);
	cr_assert_eq(value, 1);
	cr_assert_eq(parse_count("10", 1, 10, &value, &why), 0);
	cr_assert_eq(value, 10);
	cr_assert_eq(parse_count("18446744073709551615", 1, UINT64_MAX, &value, &why), 0);
	cr_assert_eq(value, UINT64_MAX);
}

Test(count, rejects_values_outside_bounds_naming_them)
{
	cr_assert_str_eq(count_refused("0", 1, 10), "must be between 1 and 10");
	cr_assert_str_eq(count_refused("11", 1, 10), "must be between 1 and 10");
}

Test(count, says_at_least_when_there_is_no_upper_bound)
{
	cr_assert_str_eq(count_refused("0", 1, UINT64_MAX), "must be at least 1");
	cr_assert_str_eq(count_refused("18446744073709551616", 1, UINT64_MAX),
			 "must be at least 1");
}

Test(count, rejects_anything_but_decimal_digits)
{
	cr_assert_str_eq(count_refused("four", 1, 10), "is not a number");
	count_refused("", 1, 10);
	count_refused("-1", 0, 10);
	count_refused("+1", 0, 10);
	count_refused("1.0", 0, 10);
	count_refused("3 ", 0, 10);
}

/* --alert RATE: every unit in both spellings, as the live view prints them. */
Test(rate, accepts_every_unit)
{
	static const struct {
		const char *text;
		double bytes_per_s;
	} cases[] = {
		{ "0B/s", 0.0 },
		{ "100B/s", 100.0 },
		{ "1KiB/s", 1024.0 },
		{ "1.5MiB/s", 1.5 * 1048576.0 },
		{ "2GiB/s", 2147483648.0 },
		{ "8kbit/s", 1000.0 },
		{ "8kb/s", 1000.0 },
		{ "1Mbit/s", 125000.0 },
		{ "2.5Mb/s", 312500.0 },
		{ "10Gbit/s", 1.25e9 },
		{ "10Gb/s", 1.25e9 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;
		double value = -1.0;

		cr_assert_eq(parse_rate(cases[i].text, &value, &why), 0, "%s: %s", cases[i].text,
			     why);
		cr_assert_float_eq(value, cases[i].bytes_per_s, 1e-6, "%s: %f", cases[i].text,
				   value);
	}
}

Test(rate, refuses_what_is_not_a_rate)
{
	static const char *const bad[] = {
		"",        "10",     "MiB/s",   "-1MiB/s", "+1MiB/s", " 1MiB/s",
		"1 MiB/s", "1MiB",   "1mib/s",  "1KB/s",   "1.MiB/s", ".5MiB/s",
		"1MiB/s ", "1e3B/s", "0x10B/s", "1Kib/s",  "1Tbit/s",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;
		double value = 42.0;

		cr_assert_eq(parse_rate(bad[i], &value, &why), -1, "accepted '%s'", bad[i]);
		cr_assert_not_null(why);
		cr_assert(strstr(why, "not a rate"), "%s: %s", bad[i], why);
		cr_assert_float_eq(value, 42.0, 0.0, "'%s' changed the value", bad[i]);
	}
}

Test(rate, refuses_overflow_and_absurd_rates)
{
	static const char *const big[] = { "99999999999999999999999B/s", "10000000Gbit/s",
					   "1000000000GiB/s" };

	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		const char *why = NULL;
		double value;

		cr_assert_eq(parse_rate(big[i], &value, &why), -1, "accepted '%s'", big[i]);
		cr_assert_str_eq(why, "is too large");
	}
}
