/* The HTTP side of --metrics, on libmicrohttpd driven by the metrics thread itself (no
 * thread of its own): GET or HEAD /metrics answers with the page the callback writes;
 * any other path 404, any other method 405. At most METRICS_HTTP_MAX_CONNECTIONS at once:
 * more are closed at once, not queued; a client that sends nothing for
 * METRICS_HTTP_TIMEOUT_S is dropped; a request's headers fit in METRICS_HTTP_REQUEST_MAX
 * bytes or it is refused. */
#ifndef TCPTOP_METRICS_HTTP_H
#define TCPTOP_METRICS_HTTP_H

#include <stddef.h>
#include "metrics/exposition.h"
#include "metrics/listen_addr.h"

#define METRICS_HTTP_MAX_CONNECTIONS 8
#define METRICS_HTTP_TIMEOUT_S 10
#define METRICS_HTTP_REQUEST_MAX 16384

/* The page's text (the server frees it) and length, or NULL when out of memory. */
typedef char *(*metrics_page_fn)(void *ctx, enum exposition_format format, size_t *len);

struct metrics_http;

/* Bound and listening, or NULL with a line reported (the port is taken, ...). */
struct metrics_http *metrics_http_open(const struct listen_addr *addr, metrics_page_fn page,
				       void *ctx);
/* An fd that becomes readable when the server has work, and the longest wait before it
 * must run anyway (ms, -1 for none). */
int metrics_http_fd(const struct metrics_http *h);
int metrics_http_timeout_ms(struct metrics_http *h);
/* Serve what can be served now, without blocking. */
void metrics_http_run(struct metrics_http *h);
void metrics_http_close(struct metrics_http *h);

#endif
