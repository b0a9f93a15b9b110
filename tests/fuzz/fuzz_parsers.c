/* One fuzz target for every parser that takes what a user types (issue 16): the command
 * line, the duration, count, port and pid-list parsers, and the live view's filter. The
 * first byte picks the parser, the rest is its text; the command line takes its
 * arguments split at newlines. A parser may refuse anything, but must not read or write
 * out of bounds, overflow, hang or say more than its message has room for. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/parse.h"
#include "fuzz_parsers.h"
#include "ui/ui_view.h"
#include "../unit/identities.h"

#define MAX_ARGS 32

/* A row for the filter to match against: TCP 127.0.0.1:8080 -> [::1]:443, pid 1234. */
static void example_row(struct flow_row *row)
{
	memset(row, 0, sizeof(*row));
	test_id(row)->family = TCPTOP_AF_INET;
	test_id(row)->proto = TCPTOP_PROTO_TCP;
	test_id(row)->laddr[0] = 127;
	test_id(row)->laddr[3] = 1;
	test_id(row)->raddr[15] = 1;
	test_id(row)->lport = 8080;
	test_id(row)->rport = 443;
	test_id(row)->tgid = 1234;
	row->state = TCPTOP_TCP_ESTABLISHED;
	memcpy(test_id(row)->comm, "nginx", 6);
}

static void must(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_parsers: %s\n", what);
		abort();
	}
}

/* A refusal says why; an acceptance leaves why alone. */
static void check_why(int rc, const char *why)
{
	must(rc == 0 || rc == -1, "a parser returned neither 0 nor -1");
	must(rc == 0 || (why && *why), "a refusal without a reason");
}

static void fuzz_command_line(char *text)
{
	char *argv[MAX_ARGS + 2] = { "tcptop" }, message[256];
	struct options opt;
	enum cli_result result;
	int argc = 1;

	for (char *arg = strtok(text, "\n"); arg && argc <= MAX_ARGS; arg = strtok(NULL, "\n"))
		argv[argc++] = arg;
	argv[argc] = NULL;
	memset(message, 'x', sizeof(message));
	message[sizeof(message) - 1] = '\0';
	result = cli_parse(argc, argv, &opt, message, sizeof(message));
	must(result == CLI_RUN || result == CLI_EXIT_OK || result == CLI_VERSION ||
		     result == CLI_USAGE_ERROR,
	     "cli_parse returned no cli_result");
	must(result != CLI_USAGE_ERROR || strlen(message) < sizeof(message),
	     "a usage error longer than its message");
	cli_free(&opt);
}

static void fuzz_parser(unsigned which, char *text)
{
	const char *why = NULL;
	uint64_t value;
	uint16_t port;
	pid_t *pids = NULL;
	size_t npids = 0;
	struct flow_row row;
	int rc = 0;

	switch (which) {
	case 0:
		rc = parse_duration_ns(text, &value, &why);
		break;
	case 1:
		rc = parse_count(text, 1, UINT64_MAX, &value, &why);
		break;
	case 2:
		rc = parse_port(text, &port, &why);
		break;
	case 3:
		rc = parse_pid_list(text, &pids, &npids, &why);
		free(pids);
		break;
	case 4:
		example_row(&row);
		if (ui_text_valid(text))
			(void)ui_text_match(text, &row);
		break;
	default:
		fuzz_command_line(text);
	}
	check_why(rc, why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size == 0)
		return 0;
	/* A C string, as every parser takes: the text up to the first NUL. */
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	fuzz_parser(data[0] % FUZZ_PARSERS, text);
	free(text);
	return 0;
}
