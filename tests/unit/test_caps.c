/* Threads start named and with only the capabilities their job needs; what a thread keeps
 * is what it asked for, nothing more. Run as root these see real capabilities; without
 * root the tests that need some skip. Each test runs in a process of its own, so dropping
 * capabilities here harms no other test. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <unistd.h>

#include "util/caps.h"
#include "util/thread_start.h"
#include "time_limit.h"

TestSuite(caps, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(thread_start, .timeout = UNIT_TIME_LIMIT_S);

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

struct seen {
	char name[16];
	unsigned long long effective, permitted, inheritable;
	bool ran;
};

/* The calling thread's name and capability sets, from its /proc status. */
static void read_own_status(struct seen *s)
{
	char path[64], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", gettid());
	f = fopen(path, "re");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "Name:\t%15s", s->name);
		sscanf(line, "CapEff:\t%llx", &s->effective);
		sscanf(line, "CapPrm:\t%llx", &s->permitted);
		sscanf(line, "CapInh:\t%llx", &s->inheritable);
	}
	fclose(f);
}

static void *look(void *arg)
{
	struct seen *s = arg;

	read_own_status(s);
	s->ran = true;
	return NULL;
}

static bool holds(cap_value_t cap)
{
	cap_t now = cap_get_proc();
	cap_flag_value_t value = CAP_CLEAR;

	cap_get_flag(now, cap, CAP_EFFECTIVE, &value);
	cap_free(now);
	return value == CAP_SET;
}

static void need(cap_value_t cap)
{
	if (!holds(cap))
		cr_skip_test("needs a capability this test runs without");
}

Test(thread_start, names_the_thread_and_empties_its_sets_before_it_runs)
{
	struct seen s = { 0 };
	pthread_t tid;

	need(CAP_SYS_PTRACE);
	cr_assert_eq(thread_start(&tid, NULL, "tcptop-test", THREAD_NO_CAPS, look, &s), 0);
	pthread_join(tid, NULL);
	cr_assert(s.ran);
	cr_assert_str_eq(s.name, "tcptop-test");
	cr_assert_eq(s.effective, 0, "effective %llx", s.effective);
	cr_assert_eq(s.permitted, 0, "permitted %llx", s.permitted);
	cr_assert_eq(s.inheritable, 0);
	cr_assert(holds(CAP_SYS_PTRACE), "the starter kept its own");
}

Test(thread_start, a_thread_that_keeps_capabilities_has_the_starters)
{
	struct seen s = { 0 };
	pthread_t tid;

	need(CAP_SYS_PTRACE);
	cr_assert_eq(thread_start(&tid, NULL, "tcptop-keeps", THREAD_KEEPS_CAPS, look, &s), 0);
	pthread_join(tid, NULL);
	cr_assert_str_eq(s.name, "tcptop-keeps");
	cr_assert(s.effective & (1ULL << CAP_SYS_PTRACE));
}

Test(thread_start, detached_threads_start_alike)
{
	struct seen s = { 0 };
	pthread_attr_t attr;
	pthread_t tid;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	cr_assert_eq(thread_start(&tid, &attr, "tcptop-detach", THREAD_NO_CAPS, look, &s), 0);
	pthread_attr_destroy(&attr);
	while (!__atomic_load_n(&s.ran, __ATOMIC_ACQUIRE))
		usleep(1000);
	cr_assert_eq(s.effective | s.permitted, 0);
}

Test(caps, keeping_proc_fds_keeps_cap_sys_ptrace_alone)
{
	struct seen s = { 0 };

	need(CAP_SYS_PTRACE);
	cr_assert_eq(caps_keep_only(CAPS_PROC_FDS), 0);
	read_own_status(&s);
	cr_assert_eq(s.effective, 1ULL << CAP_SYS_PTRACE, "effective %llx", s.effective);
	cr_assert_eq(s.permitted, 1ULL << CAP_SYS_PTRACE);
	cr_assert_eq(s.inheritable, 0);
}

Test(caps, cap_sys_admin_stands_in_for_a_missing_cap_bpf)
{
	cap_t without_bpf = cap_get_proc();
	cap_value_t bpf = CAP_BPF;
	struct seen s = { 0 };

	need(CAP_SYS_ADMIN);
	cap_set_flag(without_bpf, CAP_EFFECTIVE, 1, &bpf, CAP_CLEAR);
	cap_set_flag(without_bpf, CAP_PERMITTED, 1, &bpf, CAP_CLEAR);
	cr_assert_eq(cap_set_proc(without_bpf), 0);
	cap_free(without_bpf);
	cr_assert_eq(caps_keep_only(CAPS_BPF_SYSCALL), 0);
	read_own_status(&s);
	cr_assert_eq(s.effective, 1ULL << CAP_SYS_ADMIN, "effective %llx", s.effective);
}

Test(caps, what_is_missing_is_not_added_and_the_rest_goes)
{
	struct seen s = { 0 };

	cr_assert_eq(caps_drop_all(), 0);
	cr_assert_eq(caps_keep_only(CAPS_BPF_SYSCALL | CAPS_PROC_FDS), 0);
	read_own_status(&s);
	cr_assert_eq(s.effective | s.permitted | s.inheritable, 0);
}

Test(caps, lowered_effective_set_comes_back_from_the_permitted_one)
{
	struct seen before = { 0 }, lowered = { 0 }, after = { 0 };

	need(CAP_SYS_PTRACE);
	read_own_status(&before);
	cr_assert_eq(caps_lower_effective(), 0);
	read_own_status(&lowered);
	cr_assert_eq(lowered.effective, 0);
	cr_assert_eq(lowered.permitted, before.permitted);
	cr_assert_eq(caps_raise_effective(), 0);
	read_own_status(&after);
	cr_assert_eq(after.effective, before.permitted);
}

Test(caps, description_names_the_effective_capabilities)
{
	bool root = holds(CAP_SYS_PTRACE);
	char text[64];

	cr_assert_eq(caps_keep_only(CAPS_PROC_FDS), 0);
	caps_describe_effective(text, sizeof(text));
	cr_assert_str_eq(text, root ? "cap_sys_ptrace" : "none");
	cr_assert_eq(caps_drop_all(), 0);
	caps_describe_effective(text, sizeof(text));
	cr_assert_str_eq(text, "none");
}
