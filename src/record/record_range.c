/* --begin/--end, and the live view's jump to a time: the ISO-8601 times the CSV prints,
 * cut to any precision, or HH:MM[:SS] on the recording's days. A snapshot's time is
 * compared with them as text, at the precision given. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "output/format.h"
#include "record/record.h"
#include "record/record_range.h"

/* Digits where the pattern has 'd', the pattern's own character elsewhere. */
static bool matches(const char *text, const char *pattern, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (pattern[i] == 'd' ? text[i] < '0' || text[i] > '9' : text[i] != pattern[i])
			return false;
	}
	return true;
}

/* The ISO-8601 prefixes the CSV's time can be cut to, and HH:MM[:SS]. */
bool record_time_valid(const char *text)
{
	static const char iso[] = "dddd-dd-ddTdd:dd:dd.ddddddddd";
	size_t len = strlen(text);

	if (len > 0 && text[len - 1] == 'Z')
		len--;
	if (len == 5 || len == 8)
		return matches(text, "dd:dd:dd", len) && text[len] != 'Z';
	if (len == 10 || len == 13 || len == 16 || len == 19 || (len >= 21 && len < sizeof(iso)))
		return matches(text, iso, len);
	return false;
}

/* The time given as the CSV's text would begin, at most 29 characters and no 'Z'; a bare
 * time of day is on the day of day_ns (CLOCK_REALTIME). */
static void resolve(const char *given, uint64_t day_ns, char *out, size_t len)
{
	char day[32];
	struct timespec t = { (time_t)(day_ns / 1000000000ULL), 0 };
	size_t n = strlen(given);

	if (n && given[n - 1] == 'Z')
		n--;
	if (given[2] != ':') {
		snprintf(out, len, "%.*s", (int)n, given);
		return;
	}
	format_time_iso8601(&t, day, sizeof(day));
	snprintf(out, len, "%.11s%.*s", day, (int)n, given);
}

/* --end as a time of day earlier than --begin's is on the next day (23:00 to 01:00). */
void record_range_resolve(struct record_times *r, const struct record_range *given,
			  uint64_t first_ns)
{
	memset(r, 0, sizeof(*r));
	if (given->begin)
		resolve(given->begin, first_ns, r->begin, sizeof(r->begin));
	if (given->end) {
		resolve(given->end, first_ns, r->end, sizeof(r->end));
		if (given->end[2] == ':' && given->begin && strcmp(r->end, r->begin) < 0)
			resolve(given->end, first_ns + 86400ULL * 1000000000ULL, r->end,
				sizeof(r->end));
	}
	r->begin_len = strlen(r->begin);
	r->end_len = strlen(r->end);
}

/* <0 before the range, 0 in it, >0 after it, compared at the precision given. */
int record_range_place(const struct record_times *r, const struct timespec *t)
{
	char text[40];

	format_time_iso8601(t, text, sizeof(text));
	if (r->begin_len && strncmp(text, r->begin, r->begin_len) < 0)
		return -1;
	if (r->end_len && strncmp(text, r->end, r->end_len) > 0)
		return 1;
	return 0;
}

/* The first moment the begin text can name: where reading starts. */
uint64_t record_range_begin_ns(const struct record_times *r)
{
	static const char floor_text[] = "0000-01-01T00:00:00";
	char text[48];
	struct tm tm = { 0 };

	if (!r->begin_len)
		return 0;
	snprintf(text, sizeof(text), "%s%s", r->begin,
		 r->begin_len < 19 ? floor_text + r->begin_len : "");
	if (!strptime(text, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return (uint64_t)timegm(&tm) * 1000000000ULL;
}
