/* The whole pipeline (collector, compute and output threads) on the replay backend. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "backend.h"
#include "cli/cli.h"
#include "view/columns.h"
#include "view/filter.h"
#include "pipeline.h"
#include "plain_view.h"
#include "time_limit.h"
#include "identities.h"

TestSuite(plain_view, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(pipeline, .timeout = UNIT_TIME_LIMIT_S);

/* How long a run of a few 20ms snapshots may take before the test gives up on it. */
#define PIPELINE_RUN_LIMIT_S 10

/* A signalfd for SIGALRM, in place of the one pipeline_wait() watches for SIGINT: the
 * alarm goes off if the run has not ended by then, pipeline_wait() returns
 * PIPELINE_SIGNALLED and the test fails, instead of waiting for ever. SIGALRM is blocked
 * before pipeline_start(), so the pipeline's threads block it too. */
static int run_limit_fd(void)
{
	sigset_t alarm_set;
	int fd;

	sigemptyset(&alarm_set);
	sigaddset(&alarm_set, SIGALRM);
	cr_assert_eq(pthread_sigmask(SIG_BLOCK, &alarm_set, NULL), 0);
	fd = signalfd(-1, &alarm_set, SFD_CLOEXEC | SFD_NONBLOCK);
	cr_assert_geq(fd, 0);
	alarm(PIPELINE_RUN_LIMIT_S);
	return fd;
}

/* What the pipeline wrote to fd (a memfd), as a string; fd is closed. */
static char *read_all(int fd)
{
	off_t len = lseek(fd, 0, SEEK_END);
	char *text = malloc((size_t)len + 1);

	cr_assert_not_null(text);
	cr_assert_eq(pread(fd, text, (size_t)len, 0), len);
	text[len] = '\0';
	close(fd);
	return text;
}

static char *run_pipeline_expiring(const char *spec, const char *format, const char *count,
				   const char *udp_timeout, enum pipeline_end *end)
{
	char *argv[] = { "tcptop", "-b", "-d", "20ms", "-N", (char *)count, "--format",
			 (char *)format, "--replay", (char *)spec, "--udp-timeout",
			 (char *)udp_timeout, NULL };
	struct options opt;
	struct pipeline p;
	char message[256];
	int out = memfd_create("tcptop-test-stdout", MFD_CLOEXEC);
	int limit_fd = run_limit_fd();

	cr_assert_eq(cli_parse(12, argv, &opt, message, sizeof(message)), CLI_RUN, "%s", message);
	urcu_memb_register_thread();
	cr_assert_eq(pipeline_open(&p, &opt, &backend_replay_ops), 0);
	cr_assert_geq(out, 0);
	cr_assert_eq(pipeline_start(&p, out, NULL), 0);
	*end = pipeline_wait(&p, limit_fd);
	alarm(0);
	pipeline_close(&p);
	close(limit_fd);
	urcu_memb_unregister_thread();
	cli_free(&opt);
	cr_assert_neq(*end, PIPELINE_SIGNALLED, "the pipeline did not end within %ds",
		      PIPELINE_RUN_LIMIT_S);
	return read_all(out);
}

static char *run_pipeline(const char *spec, const char *format, const char *count,
			  enum pipeline_end *end)
{
	return run_pipeline_expiring(spec, format, count, "30s", end);
}

static size_t count_lines(const char *text)
{
	size_t n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

Test(pipeline, writes_count_snapshots_of_every_flow_then_ends)
{
	enum pipeline_end end;
	char *text = run_pipeline("synthetic:50", "csv", "3", &end);

	cr_assert_eq(end, PIPELINE_COUNT_REACHED);
	cr_assert_eq(count_lines(text), 1 + 3 * 50, "header + 3 snapshots x 50 flows");
	cr_assert(strncmp(text, "time,pid,comm,proto,", 20) == 0);
	free(text);
}

/* The replay backend's script, as its header states it: flow i moves 1000 + 100 * (i % 97)
 * bytes out and 500 + 10 * (i % 89) in at each drain. Drain 1 is at start (the walk), so
 * snapshot n shows n + 1 drains' worth. Written out, not computed by the code under test. */
static const unsigned long long replay_bytes[3][4][2] = {
	{ { 2000, 1000 }, { 2200, 1020 }, { 2400, 1040 }, { 2600, 1060 } },
	{ { 3000, 1500 }, { 3300, 1530 }, { 3600, 1560 }, { 3900, 1590 } },
	{ { 4000, 2000 }, { 4400, 2040 }, { 4800, 2080 }, { 5200, 2120 } },
};

static unsigned long long json_number(const char *line, const char *key)
{
	const char *at = strstr(line, key);
	unsigned long long n;

	cr_assert_not_null(at, "no %s in %s", key, line);
	cr_assert_eq(sscanf(at + strlen(key), "%llu", &n), 1, "%s in %s", key, line);
	return n;
}

Test(pipeline, bytes_are_cumulative_from_the_replay_script)
{
	enum pipeline_end end;
	char *text = run_pipeline("synthetic:4", "jsonl", "3", &end);
	bool seen[3][4] = { { false } };
	size_t nlines = 0;

	cr_assert_eq(end, PIPELINE_COUNT_REACHED);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), nlines++) {
		const char *comm = strstr(line, "\"comm\":");
		size_t snap = nlines / 4;
		int flow;

		cr_assert_lt(snap, 3, "more than 3 snapshots of 4 flows");
		cr_assert(comm && sscanf(comm, "\"comm\":\"replay%d\"", &flow) == 1, "%s", line);
		cr_assert(flow >= 0 && flow < 4 && !seen[snap][flow], "%s", line);
		seen[snap][flow] = true;
		cr_assert_eq(json_number(line, "\"tx_bytes\":"), replay_bytes[snap][flow][0],
			     "snapshot %zu: %s", snap + 1, line);
		cr_assert_eq(json_number(line, "\"rx_bytes\":"), replay_bytes[snap][flow][1],
			     "snapshot %zu: %s", snap + 1, line);
	}
	cr_assert_eq(nlines, 12);
	free(text);
}

Test(pipeline, idle_flows_have_zero_rate_and_active_ones_do_not)
{
	enum pipeline_end end;
	char *text = run_pipeline("synthetic:20:5", "jsonl", "2", &end);
	size_t zero = 0, moving = 0, i = 0;
	char *line;

	/* Only the second snapshot: rates in the first include first-sight bytes. */
	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), i++) {
		if (i < 20)
			continue;
		if (strstr(line, "\"tx_rate\":0,"))
			zero++;
		else
			moving++;
	}
	cr_assert_eq(moving, 5, "moving=%zu zero=%zu lines=%zu", moving, zero, i);
	cr_assert_eq(zero, 15);
	free(text);
}

static size_t count_substring(const char *text, const char *needle)
{
	size_t n = 0;

	for (; (text = strstr(text, needle)); text++)
		n++;
	return n;
}

/* synthetic:6:2: flows 1 (UDP) and 0 move; 3 and 5 are UDP and idle after the first drain.
 * The timeout is far longer than the first interval, far shorter than the run. */
Test(pipeline, idle_udp_flows_expire_and_active_ones_stay)
{
	enum pipeline_end end;
	char *text = run_pipeline_expiring("synthetic:6:2", "jsonl", "12", "100ms", &end);
	char time[48] = "";
	const char *line = text + strlen(text) - 1, *last;

	cr_assert_eq(end, PIPELINE_COUNT_REACHED);
	cr_assert_eq(count_substring(text, "\"comm\":\"replay1\""), 12, "in every snapshot");
	cr_assert_lt(count_substring(text, "\"comm\":\"replay3\""), 12, "expired");
	cr_assert_geq(count_substring(text, "\"comm\":\"replay3\""), 1, "shown before it expired");
	while (line > text && line[-1] != '\n') /* the last row: its time names the snapshot */
		line--;
	memcpy(time, line, strchr(line, ',') - line);
	last = strstr(text, time);
	cr_assert_null(strstr(last, "\"comm\":\"replay3\""), "gone from the last snapshot");
	cr_assert_null(strstr(last, "\"comm\":\"replay5\""));
	cr_assert_eq(count_substring(last, "\"comm\":"), 4, "in %s", last);
	free(text);
}

static void set_row(struct flow_row *row, uint64_t cookie, const char *comm, uint64_t tx)
{
	memset(row, 0, sizeof(*row));
	row->key.cookie = cookie;
	test_id(row)->proto = TCPTOP_PROTO_TCP;
	test_id(row)->family = TCPTOP_AF_INET;
	test_id(row)->tgid = (uint32_t)cookie;
	strncpy(test_id(row)->comm, comm, sizeof(test_id(row)->comm) - 1);
	row->tx_bytes = tx;
}

Test(plain_view, sorts_filtered_rows_by_the_sort_column_with_ties_by_key)
{
	struct snapshot *s = snapshot_alloc(4);
	struct filter f;
	const struct flow_row **view;
	size_t n;

	s->nrows = 4;
	set_row(&s->rows[0], 4, "beta", 100);
	set_row(&s->rows[1], 3, "alpha", 300);
	set_row(&s->rows[2], 2, "gamma", 100);
	set_row(&s->rows[3], 1, "delta", 900);
	filter_init(&f);
	f.comm_substring = strdup("a"); /* every name has an "a" */
	view = plain_view(s, &f, COL_TX_BYTES, &n);
	cr_assert_eq(n, 4);
	cr_assert_eq(view[0]->key.cookie, 1, "900 first: numbers descending");
	cr_assert_eq(view[1]->key.cookie, 3);
	cr_assert_eq(view[2]->key.cookie, 2, "a tie at 100 goes to the smaller cookie");
	cr_assert_eq(view[3]->key.cookie, 4);
	free(view);
	free(f.comm_substring);
	f.comm_substring = strdup("ta"); /* beta, delta */
	view = plain_view(s, &f, COL_COMM, &n);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(view[0]->id->comm, "beta", "text ascending");
	cr_assert_str_eq(view[1]->id->comm, "delta");
	free(view);
	filter_free(&f);
	snapshot_release(s);
}
