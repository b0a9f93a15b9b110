/* The command-line contract: tcptop [options] [interval [count]]. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "cli/cli.h"
#include "view/columns.h"
#include "time_limit.h"

#define MAX_ARGS 16

static struct options opt;
static char message[512];

static void release_options(void)
{
	cli_free(&opt);
}

TestSuite(cli, .fini = release_options, .timeout = UNIT_TIME_LIMIT_S);

/* Runs cli_parse on "tcptop" followed by args (NULL-terminated), first freeing what an
 * earlier parse in the same test allocated. */
static enum cli_result parse_argv(const char *const *args)
{
	char *argv[MAX_ARGS + 2] = { "tcptop" };
	int argc = 1;

	cli_free(&opt);
	for (; args[argc - 1]; argc++) {
		cr_assert_lt(argc, MAX_ARGS, "too many arguments for the test helper");
		argv[argc] = (char *)args[argc - 1];
	}
	memset(message, 'x', sizeof(message) - 1);
	message[sizeof(message) - 1] = '\0';
	return cli_parse(argc, argv, &opt, message, sizeof(message));
}

#define PARSE(...) parse_argv((const char *const[]){ __VA_ARGS__, NULL })
#define PARSE_NOTHING() parse_argv((const char *const[]){ NULL })

#define assert_runs(result) \
	cr_assert_eq((result), CLI_RUN, "expected CLI_RUN, message: %s", message)

static void assert_usage_error(enum cli_result result, const char *expected)
{
	cr_assert_eq(result, CLI_USAGE_ERROR, "expected a usage error: %s", expected);
	cr_assert_str_eq(message, expected);
}

/* For errors whose exact wording is not part of the contract. */
static void assert_usage_error_names(enum cli_result result, const char *option)
{
	cr_assert_eq(result, CLI_USAGE_ERROR, "expected a usage error for %s", option);
	cr_assert_eq(strncmp(message, option, strlen(option)), 0,
		     "message '%s' does not start with '%s'", message, option);
	cr_assert_null(strchr(message, '\n'), "message has a newline: '%s'", message);
}

Test(cli, defaults_without_arguments)
{
	assert_runs(PARSE_NOTHING());
	cr_assert_eq(opt.interval_ns, 1000000000ULL);
	cr_assert_eq(opt.count, 0);
	cr_assert_not(opt.batch);
	cr_assert_eq(opt.format, FORMAT_CSV);
	cr_assert_null(opt.log_path);
	cr_assert_null(opt.filter.pids);
	cr_assert_eq(opt.filter.npids, 0);
	cr_assert_null(opt.filter.comm_substring);
	cr_assert_eq(opt.filter.port, -1);
	cr_assert_eq(opt.filter.sport, -1);
	cr_assert_eq(opt.filter.dport, -1);
	cr_assert_not(opt.filter.tcp || opt.filter.udp || opt.filter.ipv4 || opt.filter.ipv6);
	cr_assert_eq(opt.filter.ifindex, 0);
	cr_assert_null(opt.interface_name);
	cr_assert_eq(opt.sort_column, COL_RATE);
	cr_assert_not(opt.no_resolve);
	cr_assert_eq(opt.verbose, 0);
	cr_assert_eq(opt.max_flows, 65536);
	cr_assert_eq(opt.udp_timeout_ns, 30000000000ULL);
	cr_assert_null(opt.replay_spec);
}

Test(cli, accepts_interval_in_every_form)
{
	assert_runs(PARSE("-d", "250ms"));
	cr_assert_eq(opt.interval_ns, 250000000ULL);
	assert_runs(PARSE("--interval", "0.5s"));
	cr_assert_eq(opt.interval_ns, 500000000ULL);
	assert_runs(PARSE("--interval=2"));
	cr_assert_eq(opt.interval_ns, 2000000000ULL);
	assert_runs(PARSE("-d1m"));
	cr_assert_eq(opt.interval_ns, 60000000000ULL);
}

Test(cli, accepts_interval_of_exactly_10ms)
{
	assert_runs(PARSE("-d", "10ms"));
	cr_assert_eq(opt.interval_ns, 10000000ULL);
}

Test(cli, rejects_interval_below_10ms)
{
	assert_usage_error(PARSE("-d", "9ms"), "-d/--interval '9ms': must be at least 10ms");
}

Test(cli, rejects_interval_that_is_not_a_duration)
{
	assert_usage_error(PARSE("-d", "250mss"),
			   "-d/--interval '250mss': is not a duration (try 250ms, 0.5s or 2)");
	assert_usage_error_names(PARSE("--interval", "abc"), "-d/--interval 'abc'");
	assert_usage_error_names(PARSE("-d", "1.5.2s"), "-d/--interval '1.5.2s'");
}

Test(cli, rejects_zero_interval)
{
	assert_usage_error(PARSE("-d", "0"), "-d/--interval '0': must be greater than zero");
}

Test(cli, rejects_negative_interval)
{
	assert_usage_error_names(PARSE("-d", "-5ms"), "-d/--interval '-5ms'");
}

Test(cli, positional_interval_sets_interval)
{
	assert_runs(PARSE("2"));
	cr_assert_eq(opt.interval_ns, 2000000000ULL);
	cr_assert_eq(opt.count, 0);
}

Test(cli, positional_count_sets_count)
{
	assert_runs(PARSE("0.5s", "3"));
	cr_assert_eq(opt.interval_ns, 500000000ULL);
	cr_assert_eq(opt.count, 3);
}

Test(cli, positional_arguments_may_come_after_options)
{
	assert_runs(PARSE("-b", "250ms", "-n", "4"));
	cr_assert(opt.batch);
	cr_assert(opt.no_resolve);
	cr_assert_eq(opt.interval_ns, 250000000ULL);
	cr_assert_eq(opt.count, 4);
}

Test(cli, later_option_interval_wins_over_positional)
{
	assert_runs(PARSE("2", "-d", "500ms"));
	cr_assert_eq(opt.interval_ns, 500000000ULL);
}

Test(cli, later_positional_interval_wins_over_option)
{
	assert_runs(PARSE("-d", "500ms", "2"));
	cr_assert_eq(opt.interval_ns, 2000000000ULL);
}

Test(cli, later_count_wins)
{
	assert_runs(PARSE("1", "5", "-N", "7"));
	cr_assert_eq(opt.count, 7);
	assert_runs(PARSE("-N", "7", "1", "5"));
	cr_assert_eq(opt.count, 5);
}

Test(cli, arguments_after_double_dash_are_positional)
{
	assert_runs(PARSE("-b", "--", "3", "4"));
	cr_assert_eq(opt.interval_ns, 3000000000ULL);
	cr_assert_eq(opt.count, 4);
}

Test(cli, rejects_too_many_positional_arguments)
{
	enum cli_result result = PARSE("1", "2", "3");

	cr_assert_eq(result, CLI_USAGE_ERROR);
	cr_assert(strstr(message, "'3'") && strstr(message, "too many arguments"),
		  "message was '%s'", message);
}

Test(cli, rejects_bad_positional_interval_naming_it)
{
	assert_usage_error(PARSE("5ms"), "interval '5ms': must be at least 10ms");
	assert_usage_error(PARSE("fast"),
			   "interval 'fast': is not a duration (try 250ms, 0.5s or 2)");
}

Test(cli, rejects_bad_positional_count_naming_it)
{
	assert_usage_error(PARSE("1", "0"), "count '0': must be at least 1");
	assert_usage_error(PARSE("1", "x"), "count 'x': is not a number");
}

Test(cli, accepts_count)
{
	assert_runs(PARSE("-N", "4"));
	cr_assert_eq(opt.count, 4);
	assert_runs(PARSE("--count=12"));
	cr_assert_eq(opt.count, 12);
}

Test(cli, rejects_zero_count)
{
	assert_usage_error(PARSE("-N", "0"), "-N/--count '0': must be at least 1");
}

Test(cli, rejects_count_that_is_not_a_number)
{
	assert_usage_error(PARSE("--count", "four"), "-N/--count 'four': is not a number");
	assert_usage_error_names(PARSE("-N", "-1"), "-N/--count '-1'");
}

Test(cli, accepts_batch)
{
	assert_runs(PARSE("--batch"));
	cr_assert(opt.batch);
	assert_runs(PARSE("-b"));
	cr_assert(opt.batch);
}

Test(cli, accepts_both_formats)
{
	assert_runs(PARSE("--format", "jsonl"));
	cr_assert_eq(opt.format, FORMAT_JSONL);
	assert_runs(PARSE("--format=csv"));
	cr_assert_eq(opt.format, FORMAT_CSV);
}

Test(cli, rejects_unknown_format)
{
	assert_usage_error(PARSE("--format", "xml"), "--format 'xml': must be csv or jsonl");
	assert_usage_error(PARSE("--format", "CSV"), "--format 'CSV': must be csv or jsonl");
}

/* A private directory for a log path test, which removes it. dir holds 64 bytes. */
static char *make_temp_dir(char *dir)
{
	strcpy(dir, "/tmp/tcptop-test-cli-XXXXXX");
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	return dir;
}

Test(cli, accepts_log_path_in_existing_directory_without_creating_it)
{
	char dir_buf[64], *dir = make_temp_dir(dir_buf);
	char path[256];

	snprintf(path, sizeof(path), "%s/out.csv", dir);
	assert_runs(PARSE("-l", path));
	cr_assert_str_eq(opt.log_path, path);
	cr_assert_eq(access(path, F_OK), -1, "cli_parse created the log file");
	cr_assert_eq(rmdir(dir), 0);
}

Test(cli, accepts_existing_log_file_without_truncating_it)
{
	char dir_buf[64], *dir = make_temp_dir(dir_buf);
	char path[256];
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "%s/old.jsonl", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("{\"earlier\":1}\n", f);
	fclose(f);
	assert_runs(PARSE("--log", path));
	cr_assert_str_eq(opt.log_path, path);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_size, 14, "log file was changed");
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(rmdir(dir), 0);
}

Test(cli, accepts_log_path_relative_to_current_directory)
{
	char dir_buf[64], *dir = make_temp_dir(dir_buf);
	char cwd[4096];

	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	cr_assert_eq(chdir(dir), 0);
	assert_runs(PARSE("-l", "relative.csv"));
	cr_assert_eq(chdir(cwd), 0);
	cr_assert_eq(rmdir(dir), 0);
}

/* What the path is (a directory, under a missing directory, a link) is for the log file to
 * find once the BPF programs are loaded: a failure to open it is exit status 1, not a
 * usage error. */
Test(cli, leaves_checking_the_log_path_to_the_log_file)
{
	char dir_buf[64], *dir = make_temp_dir(dir_buf);
	char path[256];

	assert_runs(PARSE("-l", dir));
	cr_assert_str_eq(opt.log_path, dir);
	snprintf(path, sizeof(path), "%s/missing/x.csv", dir);
	assert_runs(PARSE("-l", path));
	cr_assert_eq(access(path, F_OK), -1);
	cr_assert_eq(rmdir(dir), 0);
}

Test(cli, rejects_empty_log_path)
{
	assert_usage_error_names(PARSE("-l", ""), "-l/--log ''");
}

Test(cli, accepts_single_pid)
{
	assert_runs(PARSE("-p", "123"));
	cr_assert_eq(opt.filter.npids, 1);
	cr_assert_eq(opt.filter.pids[0], 123);
}

Test(cli, accepts_pid_list)
{
	assert_runs(PARSE("--pid", "1,2,3"));
	cr_assert_eq(opt.filter.npids, 3);
	cr_assert_eq(opt.filter.pids[0], 1);
	cr_assert_eq(opt.filter.pids[1], 2);
	cr_assert_eq(opt.filter.pids[2], 3);
}

Test(cli, repeated_pid_options_add_up)
{
	assert_runs(PARSE("-p", "10,11", "-p", "12"));
	cr_assert_eq(opt.filter.npids, 3);
	cr_assert_eq(opt.filter.pids[0], 10);
	cr_assert_eq(opt.filter.pids[1], 11);
	cr_assert_eq(opt.filter.pids[2], 12);
}

Test(cli, rejects_pid_that_is_not_a_number)
{
	assert_usage_error(PARSE("-p", "12ab"), "-p/--pid '12ab': is not a process id");
}

Test(cli, rejects_pid_list_with_empty_element)
{
	assert_usage_error_names(PARSE("-p", "1,,2"), "-p/--pid '1,,2'");
	assert_usage_error_names(PARSE("-p", "1,"), "-p/--pid '1,'");
}

Test(cli, rejects_pid_out_of_range)
{
	assert_usage_error(PARSE("-p", "0"), "-p/--pid '0': must be between 1 and 4194304");
	assert_usage_error(PARSE("-p", "4194305"),
			   "-p/--pid '4194305': must be between 1 and 4194304");
}

Test(cli, accepts_process_name_as_a_copy)
{
	char name[] = "nginx";

	assert_runs(PARSE("-c", name));
	name[0] = 'X';
	cr_assert_str_eq(opt.filter.comm_substring, "nginx");
}

Test(cli, later_process_name_wins)
{
	assert_runs(PARSE("--process", "curl", "-c", "wget"));
	cr_assert_str_eq(opt.filter.comm_substring, "wget");
}

Test(cli, rejects_empty_process_name)
{
	assert_usage_error(PARSE("-c", ""), "-c/--process '': must not be empty");
}

Test(cli, rejects_process_name_longer_than_the_kernel_keeps)
{
	assert_runs(PARSE("-c", "fifteen_chars_x"));
	assert_usage_error_names(PARSE("-c", "sixteen_chars_xx"),
				 "-c/--process 'sixteen_chars_xx'");
}

Test(cli, accepts_ports)
{
	assert_runs(PARSE("--port", "443", "--sport", "1", "--dport=65535"));
	cr_assert_eq(opt.filter.port, 443);
	cr_assert_eq(opt.filter.sport, 1);
	cr_assert_eq(opt.filter.dport, 65535);
}

Test(cli, rejects_port_above_65535)
{
	assert_usage_error(PARSE("--port", "70000"), "--port '70000': must be between 1 and 65535");
	assert_usage_error(PARSE("--sport", "65536"),
			   "--sport '65536': must be between 1 and 65535");
	assert_usage_error(PARSE("--dport", "70000"),
			   "--dport '70000': must be between 1 and 65535");
}

Test(cli, rejects_port_zero)
{
	assert_usage_error(PARSE("--port", "0"), "--port '0': must be between 1 and 65535");
}

Test(cli, rejects_port_that_is_not_a_number)
{
	assert_usage_error(PARSE("--port", "https"), "--port 'https': is not a port number");
	assert_usage_error_names(PARSE("--dport", "-1"), "--dport '-1'");
}

Test(cli, accepts_protocol_and_family_switches)
{
	assert_runs(PARSE("-t", "-6"));
	cr_assert(opt.filter.tcp);
	cr_assert_not(opt.filter.udp);
	cr_assert(opt.filter.ipv6);
	cr_assert_not(opt.filter.ipv4);
	assert_runs(PARSE("--udp", "-4"));
	cr_assert(opt.filter.udp);
	cr_assert_not(opt.filter.tcp);
	cr_assert(opt.filter.ipv4);
}

Test(cli, accepts_grouped_short_switches)
{
	assert_runs(PARSE("-btu46nvv"));
	cr_assert(opt.batch && opt.no_resolve);
	cr_assert(opt.filter.tcp && opt.filter.udp && opt.filter.ipv4 && opt.filter.ipv6);
	cr_assert_eq(opt.verbose, 2);
}

Test(cli, accepts_loopback_interface)
{
	assert_runs(PARSE("-i", "lo"));
	cr_assert_str_eq(opt.interface_name, "lo");
	cr_assert_eq(opt.filter.ifindex, if_nametoindex("lo"));
	cr_assert_neq(opt.filter.ifindex, 0);
}

Test(cli, rejects_unknown_interface)
{
	assert_usage_error(PARSE("--interface", "nosuch0"),
			   "-i/--interface 'nosuch0': no such network interface");
}

Test(cli, accepts_sort_by_column_name)
{
	assert_runs(PARSE("-s", "tx_rate"));
	cr_assert_eq(opt.sort_column, COL_TX_RATE);
	assert_runs(PARSE("--sort", "pid"));
	cr_assert_eq(opt.sort_column, COL_PID);
	assert_runs(PARSE("--sort=comm"));
	cr_assert_eq(opt.sort_column, COL_COMM);
}

Test(cli, accepts_sort_by_total_rate)
{
	assert_runs(PARSE("-s", "pid", "-s", "rate"));
	cr_assert_eq(opt.sort_column, COL_RATE);
}

Test(cli, rejects_unknown_sort_column)
{
	assert_usage_error(PARSE("-s", "foo"),
			   "-s/--sort 'foo': unknown column (try rate, tx_rate, pid, comm, ...)");
}

Test(cli, accepts_no_resolve)
{
	assert_runs(PARSE("--no-resolve"));
	cr_assert(opt.no_resolve);
}

Test(cli, verbose_is_counted)
{
	assert_runs(PARSE("-v", "--verbose", "-vv"));
	cr_assert_eq(opt.verbose, 4);
}

Test(cli, accepts_max_flows_at_both_limits)
{
	assert_runs(PARSE("--max-flows", "64"));
	cr_assert_eq(opt.max_flows, 64);
	assert_runs(PARSE("--max-flows=16777216"));
	cr_assert_eq(opt.max_flows, 16777216);
}

Test(cli, rejects_max_flows_out_of_range)
{
	assert_usage_error(PARSE("--max-flows", "63"),
			   "--max-flows '63': must be between 64 and 16777216");
	assert_usage_error(PARSE("--max-flows", "16777217"),
			   "--max-flows '16777217': must be between 64 and 16777216");
	assert_usage_error(PARSE("--max-flows", "lots"), "--max-flows 'lots': is not a number");
}

Test(cli, accepts_udp_timeout)
{
	assert_runs(PARSE("--udp-timeout", "5s"));
	cr_assert_eq(opt.udp_timeout_ns, 5000000000ULL);
	assert_runs(PARSE("--udp-timeout", "2m"));
	cr_assert_eq(opt.udp_timeout_ns, 120000000000ULL);
}

Test(cli, rejects_bad_udp_timeout)
{
	assert_usage_error(PARSE("--udp-timeout", "0"),
			   "--udp-timeout '0': must be greater than zero");
	assert_usage_error_names(PARSE("--udp-timeout", "soon"), "--udp-timeout 'soon'");
}

Test(cli, accepts_replay_specs)
{
	assert_runs(PARSE("--replay", "synthetic:10"));
	cr_assert_str_eq(opt.replay_spec, "synthetic:10");
	assert_runs(PARSE("--replay", "synthetic:10:3"));
	cr_assert_str_eq(opt.replay_spec, "synthetic:10:3");
	assert_runs(PARSE("--replay=synthetic:10:0"));
	assert_runs(PARSE("--replay=synthetic:10:10"));
	assert_runs(PARSE("--replay", "synthetic:10000:10000:1000"));
	cr_assert_str_eq(opt.replay_spec, "synthetic:10000:10000:1000");
	assert_runs(PARSE("--replay=synthetic:10:0:1"));
	assert_runs(PARSE("--replay=synthetic:10:10:1000000"));
}

Test(cli, rejects_replay_procs_out_of_range)
{
	assert_usage_error(PARSE("--replay", "synthetic:10:10:0"),
			   "--replay 'synthetic:10:10:0': PROCS must be from 1 to 1000000");
	assert_usage_error(PARSE("--replay", "synthetic:10:10:1000001"),
			   "--replay 'synthetic:10:10:1000001': PROCS must be from 1 to 1000000");
}

Test(cli, rejects_replay_spec_with_bad_syntax)
{
	static const char *const bad[] = {
		"synthetic",
		"synthetic:",
		"synthetic:x",
		"synthetic:5:",
		"synthetic:1:1:",
		"synthetic:1:1:x",
		"synthetic:1:1:1:1",
		"synthetic:5::2",
		"file:3",
		"",
		"synthetic:-1",
		"synthetic: 3",
		"synth",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char expected[128];

		snprintf(expected, sizeof(expected),
			 "--replay '%s': must be synthetic:N, synthetic:N:ACTIVE or "
			 "synthetic:N:ACTIVE:PROCS",
			 bad[i]);
		assert_usage_error(PARSE("--replay", bad[i]), expected);
	}
}

Test(cli, rejects_replay_with_no_flows)
{
	assert_usage_error(PARSE("--replay", "synthetic:0"),
			   "--replay 'synthetic:0': N must be at least 1");
}

Test(cli, rejects_replay_with_more_active_than_flows)
{
	assert_usage_error(PARSE("--replay", "synthetic:3:4"),
			   "--replay 'synthetic:3:4': ACTIVE must not be more than N");
}

Test(cli, rejects_unknown_long_option)
{
	assert_usage_error(PARSE("--frobnicate"),
			   "--frobnicate: unknown option (see tcptop --help)");
	assert_usage_error(PARSE("--frobnicate=1"),
			   "--frobnicate: unknown option (see tcptop --help)");
}

Test(cli, rejects_unknown_short_option)
{
	assert_usage_error(PARSE("-x"), "-x: unknown option (see tcptop --help)");
	assert_usage_error(PARSE("-bx"), "-x: unknown option (see tcptop --help)");
}

Test(cli, rejects_ambiguous_long_option)
{
	assert_usage_error_names(PARSE("--p", "1"), "--p:");
	cr_assert(strstr(message, "ambiguous"), "message was '%s'", message);
}

Test(cli, accepts_unambiguous_long_option_prefix)
{
	assert_runs(PARSE("--interv", "2s"));
	cr_assert_eq(opt.interval_ns, 2000000000ULL);
}

Test(cli, rejects_missing_option_value_naming_the_option)
{
	assert_usage_error_names(PARSE("-d"), "-d/--interval:");
	assert_usage_error_names(PARSE("--port"), "--port:");
	assert_usage_error_names(PARSE("-b", "--log"), "-l/--log:");
}

Test(cli, rejects_value_for_a_switch)
{
	assert_usage_error_names(PARSE("--batch=yes"), "-b/--batch:");
}

Test(cli, error_message_is_one_line_without_prefix)
{
	cr_assert_eq(PARSE("--port", "x"), CLI_USAGE_ERROR);
	cr_assert_null(strchr(message, '\n'));
	cr_assert_neq(strncmp(message, "tcptop:", 7), 0, "message has a prefix: '%s'", message);
}

Test(cli, truncates_message_to_the_buffer)
{
	char *argv[] = { "tcptop", "--frobnicate", NULL };
	char small[8];

	cr_assert_eq(cli_parse(2, argv, &opt, small, sizeof(small)), CLI_USAGE_ERROR);
	cr_assert_str_eq(small, "--frobn");
}

Test(cli, first_error_wins)
{
	assert_usage_error(PARSE("--port", "0", "-s", "foo"),
			   "--port '0': must be between 1 and 65535");
}

Test(cli, help_prints_usage_and_exits_ok, .init = cr_redirect_stdout)
{
	char text[16384];
	size_t len;
	FILE *out;

	cr_assert_eq(PARSE("--help"), CLI_EXIT_OK);
	fflush(stdout);
	out = cr_get_redirected_stdout();
	len = fread(text, 1, sizeof(text) - 1, out);
	text[len] = '\0';
	cr_assert_eq(strncmp(text, "Usage: tcptop [options] [interval [count]]\n", 43), 0);
	cr_assert(strstr(text, "EXAMPLES"));
	cr_assert(strstr(text, "--udp-timeout DUR"));
	cr_assert(strstr(text, "time,pid,comm,proto,laddr,lport,raddr,rport,state,"));
	cr_assert(strstr(text, "rtt_us,retrans,age_s,netns\n"));
}

Test(cli, short_help_exits_ok_even_after_other_options, .init = cr_redirect_stdout)
{
	cr_assert_eq(PARSE("-b", "-d", "2s", "-h"), CLI_EXIT_OK);
}

/* main() prints the version and probes the hook set: parsing only asks for it. */
Test(cli, version_is_asked_for_with_the_options_after_it)
{
	cr_assert_eq(PARSE("--version", "--hooks", "compat"), CLI_VERSION);
	cr_assert(opt.show_version);
	cr_assert_eq(opt.hooks, HOOKS_COMPAT);
}

Test(cli, short_version_asks_for_the_version)
{
	cr_assert_eq(PARSE("-V"), CLI_VERSION);
}

Test(cli, version_with_a_bad_option_is_a_usage_error)
{
	cr_assert_eq(PARSE("-V", "--hooks", "old"), CLI_USAGE_ERROR);
}

Test(cli, hooks_default_to_auto)
{
	assert_runs(PARSE("-b"));
	cr_assert_eq(opt.hooks, HOOKS_AUTO);
	cr_assert_not(opt.show_version);
}

Test(cli, accepts_each_hook_set)
{
	assert_runs(PARSE("--hooks", "modern"));
	cr_assert_eq(opt.hooks, HOOKS_MODERN);
	assert_runs(PARSE("--hooks=compat"));
	cr_assert_eq(opt.hooks, HOOKS_COMPAT);
	assert_runs(PARSE("--hooks", "auto"));
	cr_assert_eq(opt.hooks, HOOKS_AUTO);
}

Test(cli, rejects_unknown_hook_sets)
{
	static const char *const bad[] = { "", "Modern", "fentry", "compat,modern" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char expected[128];

		snprintf(expected, sizeof(expected), "--hooks '%s': must be auto, modern or compat",
			 bad[i]);
		assert_usage_error(PARSE("--hooks", bad[i]), expected);
	}
}

Test(cli, can_parse_again_after_an_error)
{
	cr_assert_eq(PARSE("-p", "1,2", "-c", "ssh", "--frobnicate"), CLI_USAGE_ERROR);
	cli_free(&opt);
	assert_runs(PARSE("3", "-p", "9"));
	cr_assert_eq(opt.interval_ns, 3000000000ULL);
	cr_assert_eq(opt.count, 0);
	cr_assert_eq(opt.filter.npids, 1);
	cr_assert_null(opt.filter.comm_substring);
}

Test(cli, can_parse_again_after_success)
{
	assert_runs(PARSE("-d", "2s", "5"));
	cli_free(&opt);
	assert_runs(PARSE("3"));
	cr_assert_eq(opt.interval_ns, 3000000000ULL);
	cr_assert_eq(opt.count, 0, "count leaked from the previous parse");
}

Test(cli, free_is_safe_twice)
{
	assert_runs(PARSE("-p", "1,2", "-c", "ssh"));
	cli_free(&opt);
	cli_free(&opt);
	cr_assert_null(opt.filter.pids);
	cr_assert_null(opt.filter.comm_substring);
}

/* ---------------------------------------------------------------- -o/--columns */

static void assert_list(const struct column_list *l, int count, const int *ids)
{
	cr_assert_eq(l->count, count);
	for (int i = 0; i < count; i++)
		cr_assert_eq(l->id[i], ids[i], "column %d is %s", i, column_name(l->id[i]));
}

Test(cli, columns_default_to_every_column_and_the_live_views)
{
	struct column_list all, view;

	assert_runs(PARSE_NOTHING());
	column_list_defaults(&all);
	column_list_view(&view);
	assert_list(&opt.output_columns, all.count, all.id);
	assert_list(&opt.view_columns, view.count, view.id);
}

Test(cli, columns_replace_with_time_first_and_the_view_keeps_what_it_shows)
{
	assert_runs(PARSE("-o", "rport,pid,time,tx_rate"));
	assert_list(&opt.output_columns, 4,
		    (const int[]){ COL_TIME, COL_RPORT, COL_PID, COL_TX_RATE });
	assert_list(&opt.view_columns, 2, (const int[]){ COL_PID, COL_TX_RATE });
}

Test(cli, columns_the_view_cannot_show_leave_it_its_own)
{
	struct column_list view;

	assert_runs(PARSE("-o", "lport,netns"));
	assert_list(&opt.output_columns, 3, (const int[]){ COL_TIME, COL_LPORT, COL_NETNS });
	column_list_view(&view);
	assert_list(&opt.view_columns, view.count, view.id);
}

Test(cli, columns_add_and_remove_from_the_defaults)
{
	struct column_list view;

	assert_runs(PARSE("--columns", "-laddr,-lport,-raddr,-rport,-retrans,-rtt_us"));
	assert_list(&opt.output_columns, 13,
		    (const int[]){ COL_TIME, COL_PID, COL_COMM, COL_PROTO, COL_STATE, COL_TX_BYTES,
				   COL_RX_BYTES, COL_TX_PACKETS, COL_RX_PACKETS, COL_TX_RATE,
				   COL_RX_RATE, COL_AGE_S, COL_NETNS });
	column_list_view(&view);
	cr_assert_eq(opt.view_columns.count, view.count - 3);
	cr_assert_not(column_list_has(&opt.view_columns, COL_LADDR));
	cr_assert_not(column_list_has(&opt.view_columns, COL_RTT_US));
}

Test(cli, columns_refuse_an_unknown_name_listing_the_valid_ones)
{
	assert_usage_error(PARSE("-o", "pid,bogus"),
			   "-o/--columns 'bogus': unknown column (valid: time,pid,comm,proto,"
			   "laddr,lport,raddr,rport,state,tx_bytes,rx_bytes,tx_packets,"
			   "rx_packets,tx_rate,rx_rate,rtt_us,retrans,age_s,netns,cgroup,"
			   "tx_rate_2s,rx_rate_2s,tx_rate_10s,rx_rate_10s,tx_rate_40s,rx_rate_40s,"
			   "history,backlog,backlog_max,drops,drop_rate,sendq,recvq,cwnd,"
			   "delivery_rate,limited,alert,"
			   "flows,established,opening,closing,listen,closed,udp,port)");
	assert_usage_error_names(PARSE("-o", "pid,,comm"), "-o/--columns");
	assert_usage_error_names(PARSE("-o", "time"), "-o/--columns");
	assert_usage_error_names(PARSE("-o", "+rate"), "-o/--columns");
}
