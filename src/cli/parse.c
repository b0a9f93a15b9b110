/* Strict parsers for command-line values: plain decimal digits only, no sign, no
 * whitespace, no trailing junk. strtoul() is not used because it accepts all three. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/parse.h"

#define NS_PER_S 1000000000ULL
#define PID_MAX_LIMIT 4194304 /* the kernel's PID_MAX_LIMIT on 64-bit */
#define NOT_A_DURATION "is not a duration (try 250ms, 0.5s or 2)"

struct duration_unit {
	const char *suffix;
	uint64_t ns;
};

/* An empty suffix means seconds, so "2" is two seconds. */
static const struct duration_unit duration_units[] = {
	{ "", NS_PER_S },
	{ "us", 1000ULL },
	{ "ms", 1000000ULL },
	{ "s", NS_PER_S },
	{ "m", 60 * NS_PER_S },
};

static int fail(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -1;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads the digits at the start of text into *value (saturating on overflow). Returns how
 * many characters were digits. */
static size_t scan_digits(const char *text, uint64_t *value, bool *overflow)
{
	size_t n = 0;

	*value = 0;
	*overflow = false;
	for (; is_digit(text[n]); n++) {
		unsigned digit = (unsigned)(text[n] - '0');

		if (*value > (UINT64_MAX - digit) / 10)
			*overflow = true;
		else
			*value = *value * 10 + digit;
	}
	return n;
}

/* The digits of a fraction as billionths: "25" -> 250000000. Digits past the ninth are
 * still required to be digits but are dropped: no interval needs that precision. */
static size_t scan_fraction(const char *text, uint64_t *billionths)
{
	uint64_t scale = NS_PER_S / 10;
	size_t n = 0;

	*billionths = 0;
	for (; is_digit(text[n]); n++, scale /= 10)
		*billionths += (uint64_t)(text[n] - '0') * scale;
	return n;
}

/* "12" or "12.5" at the start of text: the whole part and the fraction in billionths.
 * Returns how many characters it took, 0 when they are not such a number ("", ".5", "1."). */
static size_t scan_decimal(const char *text, uint64_t *whole, uint64_t *billionths, bool *overflow)
{
	size_t n = scan_digits(text, whole, overflow), frac;

	*billionths = 0;
	if (n == 0 || text[n] != '.')
		return n;
	frac = scan_fraction(text + n + 1, billionths);
	return frac ? n + 1 + frac : 0;
}

static const struct duration_unit *find_duration_unit(const char *suffix)
{
	for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++)
		if (strcmp(suffix, duration_units[i].suffix) == 0)
			return &duration_units[i];
	return NULL;
}

/* billionths of a unit, in nanoseconds. Units are either whole seconds or divide a second
 * exactly, which keeps this in 64 bits without rounding surprises. */
static uint64_t fraction_ns(uint64_t billionths, uint64_t unit_ns)
{
	if (unit_ns >= NS_PER_S)
		return billionths * (unit_ns / NS_PER_S);
	return billionths / (NS_PER_S / unit_ns);
}

int parse_duration_ns(const char *text, uint64_t *out_ns, const char **why)
{
	const struct duration_unit *unit;
	uint64_t whole, billionths = 0, ns;
	bool overflow;
	size_t n;

	n = scan_decimal(text, &whole, &billionths, &overflow);
	if (n == 0)
		return fail(why, NOT_A_DURATION);
	unit = find_duration_unit(text + n);
	if (!unit)
		return fail(why, NOT_A_DURATION);
	if (overflow || whole > UINT64_MAX / unit->ns)
		return fail(why, "is too large");
	ns = whole * unit->ns;
	if (ns > UINT64_MAX - fraction_ns(billionths, unit->ns))
		return fail(why, "is too large");
	ns += fraction_ns(billionths, unit->ns);
	if (ns == 0)
		return fail(why, "must be greater than zero");
	*out_ns = ns;
	return 0;
}

/* The whole of text as a decimal number. Returns 0, or -1 when text is not one (empty,
 * sign, space, junk); *overflow tells a too-large number apart. */
static int parse_decimal(const char *text, uint64_t *value, bool *overflow)
{
	size_t n = scan_digits(text, value, overflow);

	return n > 0 && text[n] == '\0' ? 0 : -1;
}

int parse_port(const char *text, uint16_t *out, const char **why)
{
	uint64_t value;
	bool overflow;

	if (parse_decimal(text, &value, &overflow) < 0)
		return fail(why, "is not a port number");
	if (overflow || value < 1 || value > 65535)
		return fail(why, "must be between 1 and 65535");
	*out = (uint16_t)value;
	return 0;
}

/* One element of a pid list, from text up to (not including) end. */
static int parse_one_pid(const char *text, const char *end, pid_t *out, const char **why)
{
	uint64_t value;
	bool overflow;
	size_t n;

	if (text == end)
		return fail(why, "has an empty entry (use 123 or 1,2,3)");
	n = scan_digits(text, &value, &overflow);
	if (text + n != end)
		return fail(why, "is not a process id");
	if (overflow || value < 1 || value > PID_MAX_LIMIT)
		return fail(why, "must be between 1 and 4194304");
	*out = (pid_t)value;
	return 0;
}

int parse_pid_list(const char *text, pid_t **out_pids, size_t *out_count, const char **why)
{
	size_t count = 1, i = 0;
	pid_t *pids;

	if (*text == '\0')
		return fail(why, "is not a process id");
	for (const char *p = text; *p; p++)
		count += *p == ',';
	pids = calloc(count, sizeof(*pids));
	if (!pids)
		return fail(why, "is too long (out of memory)");
	for (const char *p = text;; p++) {
		const char *end = strchrnul(p, ',');

		if (parse_one_pid(p, end, &pids[i++], why) < 0) {
			free(pids);
			return -1;
		}
		if (*end == '\0')
			break;
		p = end;
	}
	*out_pids = pids;
	*out_count = count;
	return 0;
}

int parse_count(const char *text, uint64_t min, uint64_t max, uint64_t *out, const char **why)
{
	/* The reason names the bounds, which differ per caller; one buffer per thread keeps
	 * it valid until this thread's next parse_count() call. */
	static _Thread_local char range[64];
	uint64_t value;
	bool overflow;

	if (parse_decimal(text, &value, &overflow) < 0)
		return fail(why, "is not a number");
	if (overflow || value < min || value > max) {
		if (max == UINT64_MAX)
			snprintf(range, sizeof(range), "must be at least %" PRIu64, min);
		else
			snprintf(range, sizeof(range), "must be between %" PRIu64 " and %" PRIu64,
				 min, max);
		return fail(why, range);
	}
	*out = value;
	return 0;
}

struct rate_unit {
	const char *suffix;
	double bytes_per_s;
};

/* As the live view prints rates: bytes in powers of 1024, bits in powers of 1000. */
static const struct rate_unit rate_units[] = {
	{ "B/s", 1.0 },
	{ "KiB/s", 1024.0 },
	{ "MiB/s", 1048576.0 },
	{ "GiB/s", 1073741824.0 },
	{ "kbit/s", 125.0 },
	{ "Mbit/s", 125000.0 },
	{ "Gbit/s", 125000000.0 },
	{ "kb/s", 125.0 },
	{ "Mb/s", 125000.0 },
	{ "Gb/s", 125000000.0 },
};

#define NOT_A_RATE "is not a rate (try 10MiB/s, 500kbit/s or 1.5Gb/s)"
/* More than any link carries: a bigger number is a typo, and stays exact in a double. */
#define RATE_MAX 1e15

int parse_rate(const char *text, double *out_bytes_per_s, const char **why)
{
	uint64_t whole, billionths;
	bool overflow;
	size_t n = scan_decimal(text, &whole, &billionths, &overflow);
	double value;

	if (n == 0)
		return fail(why, NOT_A_RATE);
	for (size_t i = 0; i < sizeof(rate_units) / sizeof(rate_units[0]); i++) {
		if (strcmp(text + n, rate_units[i].suffix) != 0)
			continue;
		value = ((double)whole + (double)billionths / 1e9) * rate_units[i].bytes_per_s;
		if (overflow || value > RATE_MAX)
			return fail(why, "is too large");
		*out_bytes_per_s = value;
		return 0;
	}
	return fail(why, NOT_A_RATE);
}
