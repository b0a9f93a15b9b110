/* The metrics thread (metrics/metrics.h). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>
#include "metrics/metrics.h"
#include "metrics/metrics_render.h"
#include "util/report.h"

static char *page(void *ctx, enum exposition_format format, size_t *len)
{
	struct metrics_args *args = ctx;

	return metrics_render(&args->state, &args->facts, format, len);
}

int metrics_open(struct metrics_args *args)
{
	const struct listen_addr *addr = &args->opt->metrics_addr;
	char where[80];

	metrics_state_init(&args->state, METRICS_DEFAULT_GRACE_NS);
	if (snapshot_facts_init(&args->facts, args->opt->metrics_top) < 0) {
		report_error("--metrics: out of memory");
		return -1;
	}
	args->http = metrics_http_open(addr, page, args);
	if (!args->http)
		return -1;
	listen_addr_text(addr, where, sizeof(where));
	if (addr->beyond_loopback)
		report_error("--metrics: serving /metrics on %s, beyond this host", where);
	else
		report_verbose("--metrics: serving /metrics on %s", where);
	return 0;
}

/* The newest snapshot into the ledger, if it is new. */
static void fold_newest(struct metrics_args *args)
{
	uint64_t count;
	struct snapshot *s;

	/* Consumed before the newest is taken: a snapshot published now wakes us again. */
	if (read(args->notify_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
		report_error("--metrics: cannot read the snapshot signal");
	s = snapshot_acquire(args->feed);
	if (s && s->generation != args->facts.generation) {
		if (metrics_state_fold(&args->state, s) < 0)
			report_error("--metrics: out of memory folding a snapshot; counts may lag");
		snapshot_facts_take(&args->facts, s, &args->loss_sources);
	}
	snapshot_release(s);
}

void *metrics_thread(void *arg)
{
	struct metrics_args *args = arg;
	struct pollfd fds[3] = {
		{ .fd = args->stop_fd, .events = POLLIN },
		{ .fd = args->notify_fd, .events = POLLIN },
		{ .fd = metrics_http_fd(args->http), .events = POLLIN },
	};

	urcu_memb_register_thread();
	for (;;) {
		if (poll(fds, 3, metrics_http_timeout_ms(args->http)) < 0 && errno != EINTR) {
			report_error("--metrics: poll failed; the endpoint stops");
			break;
		}
		if (fds[0].revents)
			break;
		if (fds[1].revents)
			fold_newest(args);
		metrics_http_run(args->http);
	}
	urcu_memb_unregister_thread();
	return NULL;
}

void metrics_close(struct metrics_args *args)
{
	metrics_http_close(args->http);
	args->http = NULL;
	metrics_state_free(&args->state);
	snapshot_facts_free(&args->facts);
}
