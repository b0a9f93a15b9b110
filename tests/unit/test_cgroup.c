/* cgroup names: the shortening rules of tcptop(8) "CGROUP NAMES", interning, the cgroup
 * column and the --cgroup filter. */
#include <criterion/criterion.h>
#include <string.h>

#include "cgroup/cgroup_name.h"
#include "output/format.h"
#include "view/columns.h"
#include "view/filter.h"
#include "time_limit.h"

TestSuite(cgroup_shorten, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(cgroup_name, .timeout = UNIT_TIME_LIMIT_S);

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID "1f2e3d4c-5b6a-7988-a7b6-c5d4e3f2a1b0"
#define UID_ "1f2e3d4c_5b6a_7988_a7b6_c5d4e3f2a1b0"

static void assert_shown(const char *path, const char *expected)
{
	char out[CGROUP_SHOWN_MAX + 1];

	cgroup_shorten(path, out, sizeof(out));
	cr_assert_str_eq(out, expected, "%s", path);
}

Test(cgroup_shorten, names_the_systemd_unit)
{
	assert_shown("/system.slice/nginx.service", "nginx.service");
	assert_shown("/system.slice/nginx.service/worker", "nginx.service");
	assert_shown("/user.slice/user-1000.slice/session-3.scope", "session-3.scope");
	assert_shown("/user.slice/user-1000.slice/user@1000.service/app.slice/app-x.scope",
		     "app-x.scope");
}

Test(cgroup_shorten, names_a_container_by_runtime_and_twelve_digits)
{
	assert_shown("/system.slice/docker-" ID64 ".scope", "docker:0123456789ab");
	assert_shown("/docker/" ID64, "docker:0123456789ab");
	assert_shown("/system.slice/cri-containerd-" ID64 ".scope", "containerd:0123456789ab");
	assert_shown("/machine.slice/libpod-" ID64 ".scope", "podman:0123456789ab");
	assert_shown("/system.slice/crio-" ID64 ".scope", "crio:0123456789ab");
}

Test(cgroup_shorten, names_a_kubernetes_pod_and_its_container)
{
	assert_shown("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
		     ".slice/cri-containerd-" ID64 ".scope",
		     "pod:" UID "/0123456789ab");
	assert_shown("/kubepods.slice/kubepods-pod" UID_ ".slice", "pod:" UID);
	assert_shown("/kubepods/besteffort/pod" UID "/" ID64, "pod:" UID "/0123456789ab");
	assert_shown("/kubepods/besteffort/pod" UID, "pod:" UID);
}

Test(cgroup_shorten, shows_any_other_path_as_it_is)
{
	char longer[300], expected[CGROUP_SHOWN_MAX + 1];

	assert_shown("/", "/");
	assert_shown("", "/");
	assert_shown("/batch/job-7", "/batch/job-7");
	assert_shown("/docker/not-an-id", "/docker/not-an-id");
	assert_shown("/system.slice/docker-0123.scope", "docker-0123.scope");
	memset(longer, 'a', sizeof(longer) - 1);
	longer[0] = '/';
	longer[sizeof(longer) - 1] = '\0';
	snprintf(expected, sizeof(expected), "...%s", longer + 299 - (CGROUP_SHOWN_MAX - 3));
	assert_shown(longer, expected);
	cr_assert_eq(strlen(expected), CGROUP_SHOWN_MAX);
}

Test(cgroup_name, one_per_path_for_good)
{
	const struct cgroup_name *a = cgroup_name_intern("/system.slice/sshd.service");
	const struct cgroup_name *b = cgroup_name_intern("/system.slice/sshd.service");
	const struct cgroup_name *c = cgroup_name_intern("/system.slice/cron.service");

	cr_assert_not_null(a);
	cr_assert_eq(a, b);
	cr_assert_neq(a, c);
	cr_assert_str_eq(a->path, "/system.slice/sshd.service");
	cr_assert_str_eq(a->shown, "sshd.service");
}

Test(cgroup_name, column_shows_the_name_or_null)
{
	struct flow_row row;
	struct column_value v;
	char line[512];

	memset(&row, 0, sizeof(row));
	column_value(&row, COL_CGROUP, &v);
	cr_assert(v.is_null);
	cr_assert(column_table[COL_CGROUP].extra, "not a default column: the CSV header stays");
	row.cgroup = cgroup_name_intern("/x/we\"ird,name\x1b.service");
	column_value(&row, COL_CGROUP, &v);
	cr_assert_not(v.is_null);
	cr_assert_str_eq(v.text, "we\"ird,name\x1b.service");
	*format_value(line, FORMAT_CSV, COL_CGROUP, &v) = '\0';
	cr_assert_str_eq(line, "\"we\"\"ird,name\\x1b.service\"");
	*format_value(line, FORMAT_JSONL, COL_CGROUP, &v) = '\0';
	cr_assert_str_eq(line, "\"we\\\"ird,name\\u001b.service\"");
}

Test(cgroup_name, filter_matches_the_name_or_the_path)
{
	struct filter f;
	struct flow_row row;

	memset(&row, 0, sizeof(row));
	filter_init(&f);
	f.cgroup_substring = strdup("nginx");
	cr_assert_not(filter_match(&f, &row), "a row without a cgroup matches no --cgroup");
	row.cgroup = cgroup_name_intern("/system.slice/nginx.service");
	cr_assert(filter_match(&f, &row));
	free(f.cgroup_substring);
	f.cgroup_substring = strdup("system.slice");
	cr_assert(filter_match(&f, &row), "the path matches too");
	free(f.cgroup_substring);
	f.cgroup_substring = strdup("docker");
	cr_assert_not(filter_match(&f, &row));
	filter_free(&f);
}
