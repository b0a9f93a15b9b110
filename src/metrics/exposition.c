/* Exposition text (metrics/exposition.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics/exposition.h"

void exposition_init(struct exposition *e, enum exposition_format format)
{
	memset(e, 0, sizeof(*e));
	e->format = format;
}

enum exposition_format exposition_negotiate(const char *accept)
{
	return accept && strstr(accept, "application/openmetrics-text") ? EXPOSITION_OPENMETRICS
									: EXPOSITION_TEXT;
}

const char *exposition_content_type(enum exposition_format format)
{
	return format == EXPOSITION_OPENMETRICS
		       ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
		       : "text/plain; version=0.0.4; charset=utf-8";
}

static bool make_room(struct exposition *e, size_t more)
{
	size_t room = e->room ? e->room : 16384;
	char *text;

	if (e->failed)
		return false;
	if (e->len + more < e->room)
		return true;
	while (room <= e->len + more)
		room *= 2;
	text = realloc(e->text, room);
	if (!text) {
		e->failed = true;
		return false;
	}
	e->text = text;
	e->room = room;
	return true;
}

void exposition_printf(struct exposition *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!make_room(e, 256))
		return;
	va_start(ap, fmt);
	n = vsnprintf(e->text + e->len, e->room - e->len, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= e->room - e->len) {
		if (!make_room(e, (size_t)n + 1))
			return;
		va_start(ap, fmt);
		n = vsnprintf(e->text + e->len, e->room - e->len, fmt, ap);
		va_end(ap);
	}
	if (n < 0) {
		e->failed = true;
		return;
	}
	e->len += (size_t)n;
}

void exposition_family(struct exposition *e, const char *name, enum metric_type type,
		       const char *help)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };
	/* The text format names a counter's family as its samples; OpenMetrics without
	 * the _total its samples carry. */
	const char *suffix = type == METRIC_COUNTER && e->format == EXPOSITION_TEXT ? "_total" : "";

	exposition_printf(e, "# HELP %s%s %s\n# TYPE %s%s %s\n", name, suffix, help, name, suffix,
			  types[type]);
}

/* The length of the valid UTF-8 sequence at s (up to its NUL), 0 when there is none. */
static size_t utf8_length(const unsigned char *s)
{
	size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;

	if (s[0] >= 0xf8)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void exposition_label_value(const char *value, char *out)
{
	const unsigned char *s = (const unsigned char *)value;

	while (*s) {
		size_t n = *s >= 0x80 ? utf8_length(s) : 1;

		if (*s == '\\' || *s == '"') {
			*out++ = '\\';
			*out++ = (char)*s;
		} else if (*s == '\n') {
			*out++ = '\\';
			*out++ = 'n';
		} else if (n == 0 || *s < 0x20 || *s == 0x7f) {
			*out++ = '?';
			n = 1;
		} else {
			memcpy(out, s, n);
			out += n;
			s += n;
			continue;
		}
		s++;
	}
	*out = '\0';
}

char *exposition_finish(struct exposition *e, size_t *len)
{
	char *text;

	if (e->format == EXPOSITION_OPENMETRICS)
		exposition_printf(e, "# EOF\n");
	if (e->failed) {
		free(e->text);
		e->text = NULL;
	}
	text = e->text;
	*len = e->len;
	e->text = NULL;
	return text;
}
