/* The text of a scrape: the Prometheus text format 0.0.4 or OpenMetrics 1.0, which differ
 * in how a counter's family is named, in the content type and in the "# EOF" line. The
 * buffer grows as needed; a failed allocation marks it failed and drops what follows. */
#ifndef TCPTOP_METRICS_EXPOSITION_H
#define TCPTOP_METRICS_EXPOSITION_H

#include <stdbool.h>
#include <stddef.h>

enum exposition_format {
	EXPOSITION_TEXT,        /* text/plain; version=0.0.4 */
	EXPOSITION_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
};

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM
};

struct exposition {
	enum exposition_format format;
	char *text;
	size_t len, room;
	bool failed;
};

void exposition_init(struct exposition *e, enum exposition_format format);
/* The format an Accept header asks for (NULL: none given). */
enum exposition_format exposition_negotiate(const char *accept);
const char *exposition_content_type(enum exposition_format format);
/* HELP and TYPE of a family. name is the family's name; a counter's samples add _total. */
void exposition_family(struct exposition *e, const char *name, enum metric_type type,
		       const char *help);
/* Raw sample text, e.g. "name_total{a=\"b\"} 12\n". */
void exposition_printf(struct exposition *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A label value as the formats require: \ " and newline escaped, bytes that are not
 * printable UTF-8 shown as '?'. out holds 4 * strlen(value) + 1 bytes. */
void exposition_label_value(const char *value, char *out);
/* Ends the text ("# EOF" in OpenMetrics); the text then belongs to the caller (free()),
 * or NULL when an allocation failed. */
char *exposition_finish(struct exposition *e, size_t *len);

#endif
