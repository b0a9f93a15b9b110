/* The settings file (config/tcptoprc.h): what each key sets, what a save keeps of the file
 * and what it writes. Files live in a directory of the test's own under /tmp. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/tcptoprc.h"
#include "time_limit.h"

static char dir[64], path[128];

static void remove_dir(void)
{
	char cmd[96];

	if (dir[0] && snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) < (int)sizeof(cmd))
		cr_assert_eq(system(cmd), 0);
}

TestSuite(tcptoprc, .timeout = UNIT_TIME_LIMIT_S, .fini = remove_dir);

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tcptoprc-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tcptop/tcptoprc", dir);
}

static void write_file(const char *text)
{
	char sub[96];
	FILE *f;

	snprintf(sub, sizeof(sub), "%s/tcptop", dir);
	mkdir(sub, 0700);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static void read_file(char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
}

static void defaults(struct options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->sort_column = COL_RATE;
	opt->interval_ns = DEFAULT_INTERVAL_NS;
}

Test(tcptoprc, every_key_sets_its_option, .init = cr_redirect_stderr)
{
	struct options opt;

	make_dir();
	write_file("sort = tx_bytes\nreverse = yes\ninterval = 250ms\nbits = on\n"
		   "hide_idle = true\nhide_listen = 1\nhide_time_wait = yes\ndns = no\n"
		   "heat_cool = 2KiB/s\nheat_warm = 1Mbit/s\nheat_hot = 1GiB/s\nalert = 10MiB/s\n"
		   "columns = pid,comm\n; a comment\n# another\n\n");
	defaults(&opt);
	cr_assert_eq(tcptoprc_apply(path, &opt), 0);
	cr_assert_eq(opt.sort_column, COL_TX_BYTES);
	cr_assert(opt.sort_reverse && opt.bits && opt.hide_idle && opt.hide_listen &&
		  opt.hide_time_wait && opt.no_resolve);
	cr_assert_eq(opt.interval_ns, 250000000ULL);
	cr_assert_float_eq(opt.heat[0], 2048.0, 0.0);
	cr_assert_float_eq(opt.heat[1], 125000.0, 0.0);
	cr_assert_float_eq(opt.heat[2], 1073741824.0, 0.0);
	cr_assert(opt.alert);
	cr_assert_float_eq(opt.alert_bytes_per_s, 10485760.0, 0.0);
	cr_assert_str_eq(opt.columns_text, "pid,comm");
	cr_assert(opt.columns_from_config);
}

Test(tcptoprc, a_missing_file_is_no_settings_and_no_warning, .init = cr_redirect_stderr)
{
	struct options opt;

	make_dir();
	defaults(&opt);
	cr_assert_eq(tcptoprc_apply(path, &opt), 0);
	cr_assert_eq(opt.sort_column, COL_RATE);
}

Test(tcptoprc, each_broken_line_is_a_warning_and_changes_nothing, .init = cr_redirect_stderr)
{
	struct options opt;

	make_dir();
	write_file("sort = nosuch\nreverse = perhaps\ninterval = 5ms\nbits\nmystery = 1\n"
		   "[section]\nalert = 3\ncolumns = pid,,comm\nheat_hot = hot\n");
	defaults(&opt);
	cr_assert_eq(tcptoprc_apply(path, &opt), 9);
	cr_assert_eq(opt.sort_column, COL_RATE);
	cr_assert(!opt.sort_reverse && !opt.alert && !opt.columns_text);
	cr_assert_eq(opt.interval_ns, DEFAULT_INTERVAL_NS);
}

Test(tcptoprc, save_keeps_other_lines_and_writes_the_view_anew)
{
	struct column_list shown = { 2, { COL_PID, COL_COMM } };
	struct tcptoprc_view v = { .sort = "pid", .reverse = true, .dns = true, .shown = &shown };
	struct stat st;
	char text[2048], leftover[160];

	make_dir();
	write_file("# mine\ninterval = 2s\nsort = rate\nbits = yes\nheat_hot = 1MiB/s");
	cr_assert_eq(tcptoprc_save(path, &v), 0);
	read_file(text, sizeof(text));
	cr_assert_str_eq(text, "# mine\ninterval = 2s\nheat_hot = 1MiB/s\nsort = pid\n"
			       "reverse = yes\nbits = no\nhide_idle = no\nhide_listen = no\n"
			       "hide_time_wait = no\ndns = yes\ncolumns = pid,comm\n");
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	snprintf(leftover, sizeof(leftover), "%s.new", path);
	cr_assert_neq(access(leftover, F_OK), 0, "the temporary file is left");
}

Test(tcptoprc, save_makes_the_directories_and_refuses_a_linked_one)
{
	struct column_list shown = { 1, { COL_PID } };
	struct tcptoprc_view v = { .sort = "rate", .shown = &shown };
	char target[96], link[96];

	make_dir();
	cr_assert_eq(tcptoprc_save(path, &v), 0, "the tcptop directory is made");
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	snprintf(link, sizeof(link), "%s/linked", dir);
	cr_assert_eq(mkdir(target, 0700), 0);
	cr_assert_eq(symlink(target, link), 0);
	snprintf(path, sizeof(path), "%s/linked/tcptoprc", dir);
	cr_assert_eq(tcptoprc_save(path, &v), -1);
	snprintf(path, sizeof(path), "%s/elsewhere/tcptoprc", dir);
	cr_assert_neq(access(path, F_OK), 0, "written through the link");
}
