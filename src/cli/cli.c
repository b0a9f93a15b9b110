/* Command-line parsing: tcptop [options] [interval [count]].
 *
 * getopt_long runs in "return in order" mode (optstring starts with '-') so that
 * positional arguments arrive where they were written: for -d and the positional interval
 * (and -N and count) the later one on the command line wins. */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cli/cli.h"
#include "view/columns.h"
#include "view/group.h"
#include "cli/parse.h"
#include "config/tcptoprc.h"
#include "record/record.h"
#include "ui/ui_help.h"

#define MAX_FLOWS_MIN 64
#define MAX_FLOWS_MAX 16777216
#define METRICS_TOP_MAX 1000
#define COMM_MAX (TCPTOP_COMM_LEN - 1)
#define SEE_HELP "(see tcptop --help)"

/* Values getopt_long returns for options without a short form. */
enum {
	OPT_POSITIONAL = 1, /* what getopt returns for a non-option in '-' mode */
	OPT_FORMAT = 256,
	OPT_PORT,
	OPT_SPORT,
	OPT_DPORT,
	OPT_MAX_FLOWS,
	OPT_UDP_TIMEOUT,
	OPT_REPLAY,
	OPT_HOOKS,
	OPT_UDP_MODE,
	OPT_CLOSED,
	OPT_METRICS,
	OPT_METRICS_TOP,
	OPT_BEGIN,
	OPT_END,
	OPT_CGROUP,
	OPT_ALERT,
	OPT_NO_MOUSE,
	OPT_NO_CONFIG,
	OPT_GROUP,
};

#define COLUMNS_LABEL "-o/--columns"

/* '-': non-options in order; ':': report a missing value as ':' instead of printing. */
static const char short_options[] = "-:d:N:bl:w:r:p:c:tu46i:s:o:nqvhV";

static const struct option long_options[] = {
	{ "interval", required_argument, NULL, 'd' },
	{ "count", required_argument, NULL, 'N' },
	{ "batch", no_argument, NULL, 'b' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "log", required_argument, NULL, 'l' },
	{ "closed", required_argument, NULL, OPT_CLOSED },
	{ "write", required_argument, NULL, 'w' },
	{ "read", required_argument, NULL, 'r' },
	{ "begin", required_argument, NULL, OPT_BEGIN },
	{ "end", required_argument, NULL, OPT_END },
	{ "pid", required_argument, NULL, 'p' },
	{ "process", required_argument, NULL, 'c' },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "alert", required_argument, NULL, OPT_ALERT },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "sport", required_argument, NULL, OPT_SPORT },
	{ "dport", required_argument, NULL, OPT_DPORT },
	{ "tcp", no_argument, NULL, 't' },
	{ "udp", no_argument, NULL, 'u' },
	{ "interface", required_argument, NULL, 'i' },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "sort", required_argument, NULL, 's' },
	{ "columns", required_argument, NULL, 'o' },
	{ "no-resolve", no_argument, NULL, 'n' },
	{ "no-mouse", no_argument, NULL, OPT_NO_MOUSE },
	{ "no-config", no_argument, NULL, OPT_NO_CONFIG },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
	{ "udp-timeout", required_argument, NULL, OPT_UDP_TIMEOUT },
	{ "replay", required_argument, NULL, OPT_REPLAY },
	{ "hooks", required_argument, NULL, OPT_HOOKS },
	{ "udp-mode", required_argument, NULL, OPT_UDP_MODE },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "metrics-top", required_argument, NULL, OPT_METRICS_TOP },
	{ "quiet", no_argument, NULL, 'q' },
	{ NULL, 0, NULL, 0 },
};

static const char usage_head[] =
	"Usage: tcptop [options] [interval [count]]\n"
	"Show network connections and their traffic live, like top (eBPF; needs root, or\n"
	"CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN: see PRIVILEGES in tcptop(8)).\n"
	"interval and count mean the same as -d and -N; if both forms are given, the later\n"
	"one wins.\n"
	"\n"
	"Output:\n"
	"  -d, --interval DUR      time between snapshots (default 1s, at least 10ms)\n"
	"  -N, --count N           stop after N snapshots (default: run until interrupted)\n"
	"  -b, --batch             no screen UI: write snapshots to stdout\n"
	"      --format FMT        snapshot format: csv or jsonl (default csv)\n"
	"  -l, --log PATH          also append snapshots to file PATH (created 0600; gzip\n"
	"                          if PATH ends in .gz; SIGHUP reopens it, for logrotate)\n"
	"      --closed PATH       append a line to file PATH for each connection or UDP\n"
	"                          flow that ends, with its final counts (CSV or JSONL by\n"
	"                          its name, .csv or .jsonl, else --format; rules as -l)\n"
	"  -w, --write PATH        also record every snapshot to file PATH, compressed, for\n"
	"                          -r to replay (rules as -l; appending continues it)\n"
	"  -n, --no-resolve        show peer addresses, not names from reverse DNS\n"
	"      --no-mouse          the live view leaves the mouse to the terminal\n"
	"                          (by default a click on a title sorts, on a row\n"
	"                          highlights it, twice opens its detail, and the\n"
	"                          wheel scrolls)\n"
	"  -q, --quiet             no live view and nothing on stdout (a service: use\n"
	"                          with --metrics or -l)\n"
	"Looking back (no root needed):\n"
	"  -r, --read PATH         replay the recording PATH instead of watching the\n"
	"                          kernel; with -b as fast as it reads, else live\n"
	"      --begin TIME        with -r: from TIME on (inclusive)\n"
	"      --end TIME          with -r: up to TIME (inclusive)\n"
	"                          TIME: as the CSV prints it, cut anywhere\n"
	"                          (2026-12-04T03:12:05.123Z, 2026-12-04T03:12), or\n"
	"                          HH:MM[:SS] on the recording's first day (UTC)\n"
	"Metrics (Prometheus; tcptop(8), METRICS, lists them):\n"
	"      --metrics [ADDR:]PORT  serve /metrics over HTTP on ADDR:PORT (default\n"
	"                          address 127.0.0.1; :PORT, 0.0.0.0:PORT or [::]:PORT\n"
	"                          listen beyond this host)\n"
	"      --metrics-top N     also the N busiest flows as series (0 to 1000,\n"
	"                          default 0)\n"
	"Filters (a flow is shown only if it matches all of them):\n"
	"  -p, --pid PID[,PID...]  only these processes (repeat to add more)\n"
	"  -c, --process NAME      only processes whose name (comm) contains NAME\n"
	"      --cgroup TEXT       only sockets whose cgroup (the cgroup column, or its\n"
	"                          whole path) contains TEXT\n"
	"      --port N            only flows with local or remote port N\n"
	"      --sport N           only flows with local port N\n"
	"      --dport N           only flows with remote port N\n"
	"  -t, --tcp               only TCP (-t with -u: both)\n"
	"  -u, --udp               only UDP\n"
	"  -4                      only IPv4\n"
	"  -6                      only IPv6\n"
	"  -i, --interface IF      only flows on network interface IF\n"
	"Alerts:\n"
	"      --alert RATE        mark rows whose tx_rate or rx_rate exceeds RATE and\n"
	"                          ring the bell when a flow first crosses it; CSV and\n"
	"                          JSONL gain an alert column (1 above, 0 not)\n"
	"                          RATE: a number with B/s, KiB/s, MiB/s, GiB/s or\n"
	"                          kbit/s, Mbit/s, Gbit/s (also kb/s, Mb/s, Gb/s)\n"
	"Grouping:\n"
	"      --group BY          one row per flow (the default), or per process,\n"
	"                          remote address, service port or cgroup: BY is flow,\n"
	"                          process, remote, port or cgroup (columns: below);\n"
	"                          the live view starts in it (g steps through them)\n"
	"Sorting:\n"
	"  -s, --sort COL          sort by column COL, or by rate (tx_rate + rx_rate, the\n"
	"                          default); numbers sort high to low, text A to Z\n"
	"Columns:\n"
	"  -o, --columns LIST      the columns to show: comma-separated names from the\n"
	"                          list below; +NAME adds to the default columns, -NAME\n"
	"                          removes from them, plain names replace them (CSV and\n"
	"                          JSONL keep time first; the live view shows those it\n"
	"                          has room for, in its own order; c there changes them)\n"
	"Other:\n"
	"  -v, --verbose           more detail on stderr (repeat for more)\n"
	"      --no-config         neither read nor write the settings file\n"
	"                          (~/.config/tcptop/tcptoprc; tcptop(8), FILES)\n"
	"      --max-flows N       track at most N flows (64 to 16777216, default 65536)\n"
	"      --udp-timeout DUR   forget UDP flows idle for DUR (default 30s)\n"
	"      --hooks SET         kernel hooks: auto (default: the best set that loads),\n"
	"                          modern (kernel 6.3+) or compat (older kernels)\n"
	"      --udp-mode MODE     unconnected UDP sockets: per-peer (default: a row per\n"
	"                          socket and peer) or per-socket (a row per socket,\n"
	"                          cheaper for busy UDP servers)\n"
	"      --replay SPEC       synthetic flows instead of eBPF (tests, benchmarks):\n"
	"                          synthetic:N[:ACTIVE[:PROCS]] (N flows, ACTIVE of them\n"
	"                          busy, spread over PROCS processes, default 64)\n"
	"  -h, --help              show this help and exit\n"
	"  -V, --version           show the version and the hook set this kernel takes,\n"
	"                          then exit\n"
	"\n"
	"DUR is a number with a unit: us, ms, s or m (minutes); no unit means seconds,\n"
	"e.g. 250ms, 0.5s, 2, 1m.\n"
	"\n"
	"Columns (the CSV header and JSONL keys, in this order):\n";

static const char usage_columns_note[] =
	"Rates are bytes/s over the last interval; tcptop(8) describes every column.\n"
	"\n"
	"The live view runs when standard input and output are a terminal and neither -b nor\n"
	"-N is given. Its keys (? shows them there too):\n";

static const char usage_tail[] =
	"\n"
	"EXAMPLES:\n"
	"  sudo tcptop                        live view, refreshed every second\n"
	"  sudo tcptop -b -d 250ms -N 4       four CSV snapshots, 250ms apart\n"
	"  sudo tcptop -b --format jsonl -l /var/log/tcptop.jsonl\n"
	"                                     JSON lines to stdout and to a log file\n"
	"  sudo tcptop -p 1234 --port 443     process 1234's traffic on port 443\n"
	"  sudo tcptop -q --metrics 9977      serve Prometheus metrics on 127.0.0.1:9977\n";

struct cli_state {
	struct options *opt;
	char *message;
	size_t message_len;
	int npositional;
	const char *columns_arg; /* the last -o, chosen again once --alert is known */
};

static enum cli_result usage_error(struct cli_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum cli_result usage_error(struct cli_state *st, const char *fmt, ...)
{
	if (st->message_len > 0) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(st->message, st->message_len, fmt, ap);
		va_end(ap);
	}
	return CLI_USAGE_ERROR;
}

static int fail(const char **why, const char *reason)
{
	*why = reason;
	return -1;
}

/* The column names come from the column table, so the help cannot drift from the output. */
/* The names of list, comma-separated, wrapped at 80 columns. */
static void print_column_names(FILE *out, const struct column_list *list)
{
	int width = 2;

	fputs("  ", out);
	for (int i = 0; i < list->count; i++) {
		const char *name = column_name(list->id[i]);
		int len = (int)strlen(name) + (i + 1 < list->count);

		if (width + len > 80) {
			fputs("\n  ", out);
			width = 2;
		}
		fprintf(out, "%s%s", name, i + 1 < list->count ? "," : "\n");
		width += len;
	}
}

static void print_columns(FILE *out)
{
	struct column_list list;

	column_list_defaults(&list);
	print_column_names(out, &list);
	list.count = 0;
	for (int id = 0; id < COL_COUNT; id++)
		if (column_table[id].extra && !column_table[id].group_only)
			list.id[list.count++] = id;
	fputs("More columns, shown when -o names them (e.g. -o +cgroup):\n", out);
	print_column_names(out, &list);
	for (int g = GROUP_PROCESS; g < GROUP_COUNT; g++) {
		fprintf(out, "With --group %s (more: any above but the identity of a flow%s):\n",
			grouping_name(g), g == GROUP_PROCESS ? "; netns, cgroup" : "");
		grouping_default_columns(g, &list);
		print_column_names(out, &list);
	}
}

static void print_usage(FILE *out)
{
	fputs(usage_head, out);
	print_columns(out);
	fputs(usage_columns_note, out);
	for (int i = 0; ui_help_keys[i]; i++)
		fprintf(out, "%s\n", ui_help_keys[i]);
	fputs(usage_tail, out);
}

/* "-d/--interval", "--port" or "-4": how the user may have written the option. */
static void option_label(int val, char *out, size_t len)
{
	const char *long_name = NULL;

	for (const struct option *o = long_options; o->name; o++)
		if (o->val == val)
			long_name = o->name;
	if (val < 256 && long_name)
		snprintf(out, len, "-%c/--%s", val, long_name);
	else if (long_name)
		snprintf(out, len, "--%s", long_name);
	else
		snprintf(out, len, "-%c", val);
}

static void set_defaults(struct options *opt)
{
	memset(opt, 0, sizeof(*opt));
	filter_init(&opt->filter);
	opt->interval_ns = DEFAULT_INTERVAL_NS;
	opt->format = FORMAT_CSV;
	opt->sort_column = COL_RATE;
	column_list_defaults(&opt->output_columns);
	column_list_view(&opt->view_columns);
	opt->max_flows = DEFAULT_MAX_FLOWS;
	opt->udp_timeout_ns = DEFAULT_UDP_TIMEOUT_NS;
	opt->heat[0] = 1024.0;
	opt->heat[1] = 100 * 1024.0;
	opt->heat[2] = 10 * 1024.0 * 1024.0;
}

/* --no-config is known before the options are parsed: the file comes first. */
static bool wants_no_config(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--no-config") == 0)
			return true;
	return false;
}

static enum cli_result set_columns(struct cli_state *st, const char *arg);

/* tcptoprc under the command line: the file's settings become the defaults. */
static void read_settings_file(struct cli_state *st, int argc, char **argv)
{
	char path[4096];

	if (wants_no_config(argc, argv) || !tcptoprc_path(path, sizeof(path)))
		return;
	tcptoprc_apply(path, st->opt);
	if (st->opt->columns_text) {
		set_columns(st, st->opt->columns_text);
		st->opt->columns_from_config = true;
	}
}

static int set_interval(struct options *opt, const char *arg, const char **why)
{
	uint64_t ns;

	if (parse_duration_ns(arg, &ns, why) < 0)
		return -1;
	if (ns < MIN_INTERVAL_NS)
		return fail(why, "must be at least 10ms");
	opt->interval_ns = ns;
	return 0;
}

static int set_format(struct options *opt, const char *arg, const char **why)
{
	if (strcmp(arg, "csv") == 0)
		opt->format = FORMAT_CSV;
	else if (strcmp(arg, "jsonl") == 0)
		opt->format = FORMAT_JSONL;
	else
		return fail(why, "must be csv or jsonl");
	return 0;
}

/* Only an empty path is a bad value: what the path is (a directory, a missing one, a
 * link) is found when the log is opened, once the BPF programs are loaded, and refused
 * then with exit status 1 like any other failure to open it. */
static int set_log_path(const char **to, const char *path, const char **why)
{
	if (*path == '\0')
		return fail(why, "must not be empty");
	*to = path;
	return 0;
}

/* Repeated -p options add up: "-p 1 -p 2" means either process. */
static int add_pids(struct filter *f, const char *arg, const char **why)
{
	pid_t *pids, *all;
	size_t count;

	if (parse_pid_list(arg, &pids, &count, why) < 0)
		return -1;
	all = realloc(f->pids, (f->npids + count) * sizeof(*all));
	if (!all) {
		free(pids);
		return fail(why, "is too long (out of memory)");
	}
	memcpy(all + f->npids, pids, count * sizeof(*all));
	free(pids);
	f->pids = all;
	f->npids += count;
	return 0;
}

/* A filter's substring (--process, --cgroup): a copy of arg in *slot. */
static int set_substring(char **slot, const char *arg, const char **why)
{
	char *copy;

	if (*arg == '\0')
		return fail(why, "must not be empty");
	copy = strdup(arg);
	if (!copy)
		return fail(why, "cannot be stored (out of memory)");
	free(*slot);
	*slot = copy;
	return 0;
}

static int set_comm(struct filter *f, const char *arg, const char **why)
{
	/* The kernel keeps only 15 characters of a process name: a longer one never matches. */
	if (*arg != '\0' && strlen(arg) > COMM_MAX)
		return fail(why, "is longer than the 15 characters the kernel keeps");
	return set_substring(&f->comm_substring, arg, why);
}

static int set_port(int *port, const char *arg, const char **why)
{
	uint16_t value;

	if (parse_port(arg, &value, why) < 0)
		return -1;
	*port = value;
	return 0;
}

static int set_interface(struct options *opt, const char *arg, const char **why)
{
	unsigned int index = if_nametoindex(arg);

	if (index == 0)
		return fail(why, "no such network interface");
	opt->interface_name = arg;
	opt->filter.ifindex = index;
	return 0;
}

static int set_sort(struct options *opt, const char *arg, const char **why)
{
	int id = column_lookup(arg);

	if (id < 0)
		return fail(why, "unknown column (try rate, tx_rate, pid, comm, ...)");
	if (!column_sorts(id))
		return fail(why, "not a column rows can be sorted by (try rate, tx_rate, ...)");
	opt->sort_column = id;
	opt->sort_from_config = false;
	return 0;
}

/* All the column names, comma-separated, for the one line of an error. */
static void column_names_text(char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (int id = 0; id < COL_COUNT && used < len; id++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", id ? "," : "",
					 column_name(id));
}

/* The first column of list that grouping g has no value for, or -1. */
static int column_without_meaning(const struct column_list *list, enum grouping g)
{
	for (int i = 0; i < list->count; i++)
		if (!grouping_has_column(g, list->id[i]))
			return list->id[i];
	return -1;
}

/* The output columns the -o text chooses from the grouping's defaults, time first. */
static enum cli_result choose_output_columns(struct cli_state *st, const char *arg)
{
	struct options *opt = st->opt;
	struct column_list defaults;
	const char *bad;
	size_t bad_len;
	char names[640];
	int id;

	grouping_default_columns(opt->grouping, &defaults);
	st->columns_arg = arg;
	if (column_list_choose(arg, &defaults, &opt->output_columns, &bad, &bad_len) < 0) {
		column_names_text(names, sizeof(names));
		if (!bad_len)
			return usage_error(st,
					   COLUMNS_LABEL " '%s': an empty column name (valid: %s)",
					   arg, names);
		return usage_error(st, COLUMNS_LABEL " '%.*s': unknown column (valid: %s)",
				   (int)(bad_len < 40 ? bad_len : 40), bad, names);
	}
	id = column_without_meaning(&opt->output_columns, opt->grouping);
	if (id >= 0 && opt->grouping == GROUP_FLOW)
		return usage_error(st, COLUMNS_LABEL " '%s': a column of --group only",
				   column_name(id));
	if (id >= 0)
		return usage_error(st, COLUMNS_LABEL " '%s': no such column with --group %s",
				   column_name(id), grouping_name(opt->grouping));
	/* CSV and JSONL lines start with the snapshot's time. */
	column_list_remove(&opt->output_columns, COL_TIME);
	if (opt->output_columns.count == 0)
		return usage_error(st, COLUMNS_LABEL " '%s': leaves no column to show", arg);
	memmove(&opt->output_columns.id[1], &opt->output_columns.id[0],
		(size_t)opt->output_columns.count * sizeof(opt->output_columns.id[0]));
	opt->output_columns.id[0] = COL_TIME;
	opt->output_columns.count++;
	return CLI_RUN;
}

/* The same text chooses both lists: the live view keeps the columns it can show. Checked
 * here against the flow view's columns; again once --group is known (apply_grouping). */
static enum cli_result set_columns(struct cli_state *st, const char *arg)
{
	struct options *opt = st->opt;
	struct column_list view;
	const char *bad;
	size_t bad_len;

	opt->columns_text = arg;
	opt->columns_from_config = false;
	column_list_view(&view);
	column_list_choose(arg, &view, &opt->view_columns, &bad, &bad_len);
	for (int id = 0; id < COL_COUNT; id++)
		if (!column_table[id].view.title || column_table[id].group_only)
			column_list_remove(&opt->view_columns, id);
	if (opt->view_columns.count == 0)
		opt->view_columns = view; /* none it can show: its own, rather than none */
	return CLI_RUN;
}

static int set_grouping(struct options *opt, const char *arg, const char **why)
{
	int g = grouping_lookup(arg);

	if (g < 0)
		return fail(why, "must be flow, process, remote, port or cgroup");
	opt->grouping = (enum grouping)g;
	return 0;
}

/* -o and --sort, against the columns of the grouping chosen (wherever --group stood). */
static enum cli_result apply_grouping(struct cli_state *st)
{
	struct options *opt = st->opt;
	enum cli_result result = CLI_RUN;

	if (opt->columns_text)
		result = choose_output_columns(st, opt->columns_text);
	else
		grouping_default_columns(opt->grouping, &opt->output_columns);
	if (result != CLI_RUN || grouping_has_column(opt->grouping, opt->sort_column))
		return result;
	if (opt->grouping == GROUP_FLOW)
		return usage_error(st, "-s/--sort '%s': a column of --group only",
				   column_name(opt->sort_column));
	return usage_error(st, "-s/--sort '%s': no such column with --group %s",
			   column_name(opt->sort_column), grouping_name(opt->grouping));
}

static int set_max_flows(struct options *opt, const char *arg, const char **why)
{
	uint64_t value;

	if (parse_count(arg, MAX_FLOWS_MIN, MAX_FLOWS_MAX, &value, why) < 0)
		return -1;
	opt->max_flows = (uint32_t)value;
	return 0;
}

static int set_udp_timeout(struct options *opt, const char *arg, const char **why)
{
	return parse_duration_ns(arg, &opt->udp_timeout_ns, why);
}

/* A number inside a replay spec: text[0..len), decimal, at most UINT32_MAX. */
static int parse_spec_number(const char *text, size_t len, uint64_t *out)
{
	char number[16];
	const char *why;

	if (len == 0 || len >= sizeof(number))
		return -1;
	memcpy(number, text, len);
	number[len] = '\0';
	return parse_count(number, 0, UINT32_MAX, out, &why);
}

static int set_hooks(struct options *opt, const char *arg, const char **why)
{
	static const char *const names[] = { [HOOKS_AUTO] = "auto", [HOOKS_MODERN] = "modern",
					     [HOOKS_COMPAT] = "compat" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(arg, names[i]) == 0) {
			opt->hooks = (enum hook_choice)i;
			return 0;
		}
	}
	return fail(why, "must be auto, modern or compat");
}

static int set_udp_mode(struct options *opt, const char *arg, const char **why)
{
	static const char *const names[] = {
		[UDP_PER_PEER] = "per-peer", [UDP_PER_SOCKET] = "per-socket"
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(arg, names[i]) == 0) {
			opt->udp_mode = (enum udp_mode)i;
			return 0;
		}
	}
	return fail(why, "must be per-peer or per-socket");
}

static int set_time(const char **to, const char *text, const char **why)
{
	if (!record_time_valid(text))
		return fail(why, "must be an ISO-8601 time as the CSV prints it (e.g. "
				 "2026-12-04T03:12:05.123Z, or a prefix of it) or HH:MM[:SS]");
	*to = text;
	return 0;
}

/* Checks the syntax only; the replay backend reads the numbers itself. */
static int set_replay(struct options *opt, const char *spec, const char **why)
{
	static const char prefix[] = "synthetic:";
	const char *syntax = "must be synthetic:N, synthetic:N:ACTIVE or synthetic:N:ACTIVE:PROCS";
	const char *part, *colon;
	uint64_t n[3] = { 0, 0, 0 };
	int parts = 0;

	if (strncmp(spec, prefix, strlen(prefix)) != 0)
		return fail(why, syntax);
	for (part = spec + strlen(prefix);; part = colon + 1) {
		colon = strchrnul(part, ':');
		if (parts == 3 || parse_spec_number(part, (size_t)(colon - part), &n[parts]) < 0)
			return fail(why, syntax);
		parts++;
		if (!*colon)
			break;
	}
	if (n[0] < 1)
		return fail(why, "N must be at least 1");
	if (n[1] > n[0])
		return fail(why, "ACTIVE must not be more than N");
	if (parts == 3 && (n[2] < 1 || n[2] > REPLAY_PROCS_MAX))
		return fail(why, "PROCS must be from 1 to 1000000");
	opt->replay_spec = spec;
	return 0;
}

static int set_metrics(struct options *opt, const char *arg, const char **why)
{
	if (listen_addr_parse(arg, &opt->metrics_addr, why) < 0)
		return -1;
	opt->metrics = true;
	return 0;
}

static int set_metrics_top(struct options *opt, const char *arg, const char **why)
{
	uint64_t value;

	if (parse_count(arg, 0, METRICS_TOP_MAX, &value, why) < 0)
		return -1;
	opt->metrics_top = (uint32_t)value;
	return 0;
}

static int set_alert(struct options *opt, const char *arg, const char **why)
{
	if (parse_rate(arg, &opt->alert_bytes_per_s, why) < 0)
		return -1;
	opt->alert = true;
	return 0;
}

static int set_count(struct options *opt, const char *arg, const char **why)
{
	return parse_count(arg, 1, UINT64_MAX, &opt->count, why);
}

/* Options that take a value: checks it and stores it in opt. */
static int apply_option(struct options *opt, int val, const char *arg, const char **why)
{
	switch (val) {
	case 'd':
		return set_interval(opt, arg, why);
	case 'N':
		return set_count(opt, arg, why);
	case OPT_FORMAT:
		return set_format(opt, arg, why);
	case 'l':
		return set_log_path(&opt->log_path, arg, why);
	case OPT_CLOSED:
		return set_log_path(&opt->closed_path, arg, why);
	case 'w':
		return set_log_path(&opt->write_path, arg, why);
	case 'r':
		return set_log_path(&opt->read_path, arg, why);
	case OPT_BEGIN:
		return set_time(&opt->begin_time, arg, why);
	case OPT_END:
		return set_time(&opt->end_time, arg, why);
	case 'p':
		return add_pids(&opt->filter, arg, why);
	case 'c':
		return set_comm(&opt->filter, arg, why);
	case OPT_CGROUP:
		return set_substring(&opt->filter.cgroup_substring, arg, why);
	case OPT_ALERT:
		return set_alert(opt, arg, why);
	case OPT_PORT:
		return set_port(&opt->filter.port, arg, why);
	case OPT_SPORT:
		return set_port(&opt->filter.sport, arg, why);
	case OPT_DPORT:
		return set_port(&opt->filter.dport, arg, why);
	case 'i':
		return set_interface(opt, arg, why);
	case 's':
		return set_sort(opt, arg, why);
	case OPT_GROUP:
		return set_grouping(opt, arg, why);
	case OPT_MAX_FLOWS:
		return set_max_flows(opt, arg, why);
	case OPT_UDP_TIMEOUT:
		return set_udp_timeout(opt, arg, why);
	case OPT_REPLAY:
		return set_replay(opt, arg, why);
	case OPT_HOOKS:
		return set_hooks(opt, arg, why);
	case OPT_UDP_MODE:
		return set_udp_mode(opt, arg, why);
	case OPT_METRICS:
		return set_metrics(opt, arg, why);
	case OPT_METRICS_TOP:
		return set_metrics_top(opt, arg, why);
	}
	return fail(why, "is not handled (a tcptop bug)");
}

/* Options that are switches: returns false for those that take a value. */
static bool apply_flag(struct options *opt, int val)
{
	switch (val) {
	case 'b':
		opt->batch = true;
		return true;
	case 't':
		opt->filter.tcp = true;
		return true;
	case 'u':
		opt->filter.udp = true;
		return true;
	case '4':
		opt->filter.ipv4 = true;
		return true;
	case '6':
		opt->filter.ipv6 = true;
		return true;
	case 'n':
		opt->no_resolve = true;
		return true;
	case OPT_NO_MOUSE:
		opt->no_mouse = true;
		return true;
	case OPT_NO_CONFIG:
		opt->no_config = true;
		return true;
	case 'q':
		opt->quiet = true;
		return true;
	case 'v':
		opt->verbose++;
		return true;
	}
	return false;
}

static enum cli_result apply_positional(struct cli_state *st, const char *arg)
{
	const char *why;

	switch (st->npositional++) {
	case 0:
		if (set_interval(st->opt, arg, &why) < 0)
			return usage_error(st, "interval '%s': %s", arg, why);
		return CLI_RUN;
	case 1:
		if (set_count(st->opt, arg, &why) < 0)
			return usage_error(st, "count '%s': %s", arg, why);
		return CLI_RUN;
	}
	return usage_error(st, "'%s': too many arguments (usage: tcptop [options] "
			   "[interval [count]])", arg);
}

/* How many long options start with name (up to any "=value"). */
static int long_option_matches(const char *name)
{
	size_t len = strcspn(name, "=");
	int matches = 0;

	for (const struct option *o = long_options; o->name; o++)
		matches += strncmp(o->name, name, len) == 0;
	return matches;
}

static bool is_long_option_val(int val)
{
	for (const struct option *o = long_options; o->name; o++)
		if (o->val == val)
			return true;
	return false;
}

/* getopt_long returned '?': a value given to a switch (optopt is its val), an unknown short
 * option (optopt holds it) or an unknown or ambiguous long option (optopt is 0). */
static enum cli_result unknown_option(struct cli_state *st, char **argv)
{
	const char *arg;
	char label[32];
	int name_len;

	if (optopt != 0 && is_long_option_val(optopt)) {
		option_label(optopt, label, sizeof(label));
		return usage_error(st, "%s: does not take a value", label);
	}
	if (optopt != 0)
		return usage_error(st, "-%c: unknown option " SEE_HELP, optopt);
	arg = argv[optind - 1]; /* getopt has stepped past the long option */
	name_len = (int)strcspn(arg, "=");
	if (strncmp(arg, "--", 2) == 0 && long_option_matches(arg + 2) > 1)
		return usage_error(st, "%.*s: ambiguous option " SEE_HELP, name_len, arg);
	return usage_error(st, "%.*s: unknown option " SEE_HELP, name_len, arg);
}

static enum cli_result handle_option(struct cli_state *st, int val, char **argv)
{
	char label[32];
	const char *why;

	switch (val) {
	case 'h':
		print_usage(stdout);
		return CLI_EXIT_OK;
	case 'V':
		st->opt->show_version = true;
		return CLI_RUN;
	case '?':
		return unknown_option(st, argv);
	case ':':
		option_label(optopt, label, sizeof(label));
		return usage_error(st, "%s: missing value " SEE_HELP, label);
	case OPT_POSITIONAL:
		return apply_positional(st, optarg);
	case 'o':
		return set_columns(st, optarg);
	}
	if (apply_flag(st->opt, val) || apply_option(st->opt, val, optarg, &why) == 0)
		return CLI_RUN;
	option_label(val, label, sizeof(label));
	return usage_error(st, "%s '%s': %s", label, optarg, why);
}

/* Whether the -o text has the item "-alert". */
static bool removes_alert(const char *columns)
{
	size_t len = strlen("-alert");

	for (const char *p = columns; p; p = strchr(p, ',')) {
		p += *p == ',';
		if (strncmp(p, "-alert", len) == 0 && (p[len] == ',' || p[len] == '\0'))
			return true;
	}
	return false;
}

/* The alert column: with --alert, CSV and JSONL gain it (at the end, unless -o places it
 * or removes it); without, it has no meaning. */
static enum cli_result choose_alert_column(struct cli_state *st)
{
	struct options *opt = st->opt;
	bool has = column_list_has(&opt->output_columns, COL_ALERT);

	if (opt->alert && !has && !(st->columns_arg && removes_alert(st->columns_arg)))
		column_list_add(&opt->output_columns, COL_ALERT);
	else if (!opt->alert && has)
		return usage_error(st, COLUMNS_LABEL " 'alert': only with --alert RATE");
	return CLI_RUN;
}

/* Options that make no sense together. */
static enum cli_result check_combinations(struct cli_state *st)
{
	const struct options *opt = st->opt;

	if ((opt->begin_time || opt->end_time) && !opt->read_path)
		return usage_error(st, "--begin/--end: only with -r/--read");
	if (opt->read_path && opt->replay_spec)
		return usage_error(st, "-r/--read: not with --replay");
	if (opt->read_path && opt->write_path)
		return usage_error(st, "-w/--write: not with -r/--read (copy the file instead)");
	return CLI_RUN;
}

/* Anything but CLI_RUN frees what was allocated, so callers need not call cli_free()
 * (calling it anyway is harmless). */
enum cli_result cli_parse(int argc, char **argv, struct options *opt, char *message,
			  size_t message_len)
{
	struct cli_state st = { opt, message, message_len, 0, NULL };
	enum cli_result result = CLI_RUN;
	int val;

	set_defaults(opt);
	if (message_len > 0)
		message[0] = '\0';
	read_settings_file(&st, argc, argv);
	optind = 0; /* 0, not 1: makes glibc forget the previous argv entirely */
	opterr = 0;
	while (result == CLI_RUN &&
	       (val = getopt_long(argc, argv, short_options, long_options, NULL)) != -1)
		result = handle_option(&st, val, argv);
	/* Whatever follows "--" is positional. */
	for (; result == CLI_RUN && optind < argc; optind++)
		result = apply_positional(&st, argv[optind]);
	if (result == CLI_RUN)
		result = check_combinations(&st);
	if (opt->columns_from_config && opt->grouping != GROUP_FLOW)
		opt->columns_text = NULL; /* the file's are flow columns */
	if (opt->sort_from_config && !grouping_has_column(opt->grouping, opt->sort_column))
		opt->sort_column = COL_RATE; /* a flow column the grouping has not: its default */
	if (result == CLI_RUN)
		result = apply_grouping(&st);
	if (result == CLI_RUN)
		result = choose_alert_column(&st);
	if (result == CLI_RUN && opt->show_version)
		result = CLI_VERSION;
	if (result != CLI_RUN && result != CLI_VERSION)
		cli_free(opt);
	return result;
}

void cli_free(struct options *opt)
{
	filter_free(&opt->filter);
	/* Leave nothing dangling, whatever filter_free() resets, so a second call is safe. */
	opt->filter.pids = NULL;
	opt->filter.npids = 0;
	opt->filter.comm_substring = NULL;
}
