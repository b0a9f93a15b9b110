/* The one error-reporting helper: every problem becomes one "tcptop: ..." line on stderr. */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "util/report.h"

#define REPORT_PREFIX "tcptop: "
#define REPORT_LINE_MAX 1024

/* Read by every thread, set once by main; atomic so the TSan build stays quiet. */
static atomic_int verbose_level;

/* Builds the whole line first and writes it with one fprintf, so that lines from
 * different threads never interleave. Embedded newlines would break the one-line
 * promise (and confuse scripts reading stderr), so they become spaces. */
static void report_line(const char *fmt, va_list ap)
{
	char line[REPORT_LINE_MAX];
	size_t prefix = strlen(REPORT_PREFIX);
	size_t end;

	memcpy(line, REPORT_PREFIX, prefix + 1);
	vsnprintf(line + prefix, sizeof(line) - prefix, fmt, ap);
	end = strlen(line);
	while (end > prefix && line[end - 1] == '\n')
		line[--end] = '\0';
	for (char *nl = strchr(line, '\n'); nl; nl = strchr(nl, '\n'))
		*nl = ' ';
	fprintf(stderr, "%s\n", line);
}

void report_error(const char *fmt, ...)
{
	int saved_errno = errno; /* callers may report, then still look at errno */
	va_list ap;

	va_start(ap, fmt);
	report_line(fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void report_verbose(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	if (atomic_load_explicit(&verbose_level, memory_order_relaxed) < 1)
		return;
	va_start(ap, fmt);
	report_line(fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void report_set_verbose(int level)
{
	atomic_store_explicit(&verbose_level, level, memory_order_relaxed);
}

int report_verbose_level(void)
{
	return atomic_load_explicit(&verbose_level, memory_order_relaxed);
}
