/* The whole pipeline (collector, compute and output threads) on the replay backend. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "backend.h"
#include "cli/cli.h"
#include "view/columns.h"
#include "view/filter.h"
#include "pipeline.h"
#include "plain_view.h"

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

	cr_assert_eq(cli_parse(12, argv, &opt, message, sizeof(message)), CLI_RUN, "%s", message);
	urcu_memb_register_thread();
	cr_assert_eq(pipeline_open(&p, &opt, &backend_replay_ops), 0);
	cr_assert_geq(out, 0);
	cr_assert_eq(pipeline_start(&p, out, NULL), 0);
	*end = pipeline_wait(&p, -1);
	pipeline_close(&p);
	urcu_memb_unregister_thread();
	cli_free(&opt);
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

/* Flow 0 moves replay_tx_per_drain(0) bytes per drain; drain 1 is the baseline, so the
 * first snapshot (drain 2) shows 2x and the third 4x. */
Test(pipeline, bytes_are_cumulative_from_the_replay_script)
{
	enum pipeline_end end;
	char *text = run_pipeline("synthetic:4", "jsonl", "3", &end);
	char expected[64];

	snprintf(expected, sizeof(expected), "\"tx_bytes\":%llu,",
		 (unsigned long long)(4 * replay_tx_per_drain(0)));
	cr_assert_not_null(strstr(text, expected), "%s not in\n%s", expected, text);
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
	row->id.proto = TCPTOP_PROTO_TCP;
	row->id.family = TCPTOP_AF_INET;
	row->id.tgid = (uint32_t)cookie;
	strncpy(row->id.comm, comm, sizeof(row->id.comm) - 1);
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
	cr_assert_str_eq(view[0]->id.comm, "beta", "text ascending");
	cr_assert_str_eq(view[1]->id.comm, "delta");
	free(view);
	filter_free(&f);
	snapshot_release(s);
}
