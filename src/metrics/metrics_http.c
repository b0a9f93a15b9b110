/* The endpoint's HTTP server (metrics/metrics_http.h). */
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "metrics/metrics_http.h"
#include "util/report.h"

struct metrics_http {
	struct MHD_Daemon *daemon;
	metrics_page_fn page;
	void *ctx;
	int fd;
	unsigned int open; /* connections now */
};

static enum MHD_Result answer_text(struct MHD_Connection *c, unsigned int status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_PERSISTENT);
	enum MHD_Result result;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	result = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return result;
}

static enum MHD_Result answer_metrics(struct metrics_http *h, struct MHD_Connection *c)
{
	const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_ACCEPT);
	enum exposition_format format = exposition_negotiate(accept);
	struct MHD_Response *r;
	enum MHD_Result result;
	size_t len;
	char *text = h->page(h->ctx, format, &len);

	if (!text)
		return answer_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, exposition_content_type(format));
	result = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return result;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **request)
{
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)request;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (strcmp(url, "/metrics") != 0)
		return answer_text(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
	return answer_metrics(cls, c);
}

/* Past the limit a connection is closed as soon as it is accepted: the client hears at
 * once, instead of waiting in the listen queue for a turn that may not come. */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t len)
{
	const struct metrics_http *h = cls;

	(void)addr;
	(void)len;
	return h->open < METRICS_HTTP_MAX_CONNECTIONS ? MHD_YES : MHD_NO;
}

static void count_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			     enum MHD_ConnectionNotificationCode what)
{
	struct metrics_http *h = cls;

	(void)c;
	(void)socket_context;
	if (what == MHD_CONNECTION_NOTIFY_STARTED)
		h->open++;
	else if (h->open)
		h->open--;
}

static struct MHD_Daemon *start_daemon(struct metrics_http *h, const struct listen_addr *addr)
{
	unsigned int flags = MHD_USE_EPOLL;
	uint16_t port;

	if (addr->addr.ss_family == AF_INET6) {
		flags |= MHD_USE_IPv6;
		port = ntohs(((const struct sockaddr_in6 *)&addr->addr)->sin6_port);
	} else {
		port = ntohs(((const struct sockaddr_in *)&addr->addr)->sin_port);
	}
	return MHD_start_daemon(flags, port, accept_policy, h, answer, h, MHD_OPTION_SOCK_ADDR,
				&addr->addr, MHD_OPTION_NOTIFY_CONNECTION, count_connection, h,
				/* A backstop: the accept policy refuses first. */
				MHD_OPTION_CONNECTION_LIMIT,
				(unsigned int)(2 * METRICS_HTTP_MAX_CONNECTIONS),
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_HTTP_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				(size_t)METRICS_HTTP_REQUEST_MAX, MHD_OPTION_END);
}

struct metrics_http *metrics_http_open(const struct listen_addr *addr, metrics_page_fn page,
				       void *ctx)
{
	struct metrics_http *h = calloc(1, sizeof(*h));
	const union MHD_DaemonInfo *info;
	char where[80];

	listen_addr_text(addr, where, sizeof(where));
	if (!h) {
		report_error("--metrics: out of memory");
		return NULL;
	}
	h->page = page;
	h->ctx = ctx;
	h->daemon = start_daemon(h, addr);
	info = h->daemon ? MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!info) {
		report_error("--metrics: cannot listen on %s (is the port taken?)", where);
		metrics_http_close(h);
		return NULL;
	}
	h->fd = info->epoll_fd;
	return h;
}

int metrics_http_fd(const struct metrics_http *h)
{
	return h->fd;
}

int metrics_http_timeout_ms(struct metrics_http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(h->daemon, &ms) != MHD_YES)
		return -1;
	return ms > 60000 ? 60000 : (int)ms;
}

void metrics_http_run(struct metrics_http *h)
{
	MHD_run(h->daemon);
}

void metrics_http_close(struct metrics_http *h)
{
	if (!h)
		return;
	if (h->daemon)
		MHD_stop_daemon(h->daemon);
	free(h);
}
