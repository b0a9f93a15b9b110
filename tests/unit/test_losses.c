/* The loss counters (output/losses.h): each read from where it is kept and said. */
#include <criterion/criterion.h>
#include <string.h>
#include "output/format.h"
#include "output/losses.h"
#include "time_limit.h"

TestSuite(losses, .timeout = UNIT_TIME_LIMIT_S);

/* The kernel's skipped runs of tcptop's programs (issue 17): a close the state program
 * never saw is one of them, said without -v like every other loss. */
Test(losses, skipped_bpf_runs_are_a_loss_said_everywhere)
{
	struct snapshot s;
	struct loss_sources src = { 0 };
	struct losses now, none;
	char text[512], line[FORMAT_LINE_MAX];

	memset(&s, 0, sizeof(s));
	losses_read(&none, &s, &src);
	s.events_missed = 3;
	losses_read(&now, &s, &src);
	cr_assert_eq(now.n[LOSS_EVENTS_MISSED], 3);
	cr_assert(losses_grew(&now, &none));
	cr_assert_str_eq(loss_key(LOSS_EVENTS_MISSED), "bpf_events_missed");
	losses_text(&now, text, sizeof(text));
	cr_assert_str_eq(text, "3 events missed by BPF programs");
	losses_json_line(&now, "T", line);
	cr_assert(strstr(line, ",\"bpf_events_missed\":3}}\n"), "%s", line);
}
