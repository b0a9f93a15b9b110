/* Rate histories (view/rate_history.h) and their sparkline (ui_view.h). */
#include <math.h>
#include <string.h>
#include <criterion/criterion.h>
#include "ui/ui_view.h"
#include "view/rate_history.h"
#include "time_limit.h"

TestSuite(rate_history, .timeout = UNIT_TIME_LIMIT_S);
TestSuite(sparkline, .timeout = UNIT_TIME_LIMIT_S);

/* Older rates are log-coded: within 0.034%; the newest is exact. */
static bool near(double got, double want)
{
	return fabs(got - want) <= want * 0.00035;
}

static struct flow_key key_of(uint64_t cookie)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	k.cookie = cookie;
	return k;
}

/* One snapshot of generation gen: flows 1..n at rate gen * cookie, total bytes so far. */
static void learn(struct rate_history *h, uint64_t gen, int n)
{
	rate_history_begin(h, gen, 1.0);
	for (int f = 1; f <= n; f++) {
		struct flow_key k = key_of((uint64_t)f);

		rate_history_add(h, &k, (double)(gen * (uint64_t)f),
				 gen * (gen + 1) / 2 * (uint64_t)f);
	}
	cr_assert_eq(rate_history_end(h), 0);
}

Test(rate_history, keeps_the_last_forty_oldest_first)
{
	struct rate_history *h = rate_history_new();
	struct flow_key k = key_of(2);
	double r[RATE_HISTORY_LEN];

	learn(h, 1, 2);
	cr_assert_eq(rate_history_get(h, &k, r), 1);
	cr_assert_eq(r[0], 2.0);
	for (uint64_t g = 2; g <= 45; g++)
		learn(h, g, 2);
	cr_assert_eq(rate_history_get(h, &k, r), RATE_HISTORY_LEN);
	for (int i = 0; i < RATE_HISTORY_LEN; i++)
		cr_assert(near(r[i], 2.0 * (6 + i)), "entry %d: %f", i, r[i]);
	cr_assert_eq(r[RATE_HISTORY_LEN - 1], 90.0, "the newest exact");
	rate_history_free(h);
}

Test(rate_history, the_same_snapshot_again_adds_nothing_and_gone_rows_are_forgotten)
{
	struct rate_history *h = rate_history_new();
	struct flow_key one = key_of(1), two = key_of(2), nobody = key_of(9);
	double r[RATE_HISTORY_LEN];

	learn(h, 1, 2);
	learn(h, 1, 2);
	cr_assert_eq(rate_history_get(h, &one, r), 1);
	learn(h, 2, 1);
	cr_assert_eq(rate_history_get(h, &one, r), 2);
	cr_assert_eq(rate_history_get(h, &two, r), 0, "a flow not in the snapshot is gone");
	cr_assert_eq(rate_history_get(h, &nobody, r), 0);
	rate_history_free(h);
}

/* Snapshots 3 and 4 unseen: what the flow moved meanwhile, beyond the interval the row's
 * rate covers, spread over their two intervals. */
Test(rate_history, unseen_snapshots_get_the_bytes_moved_meanwhile)
{
	struct rate_history *h = rate_history_new();
	struct flow_key k = key_of(1);
	double r[RATE_HISTORY_LEN];

	rate_history_begin(h, 2, 0.5);
	rate_history_add(h, &k, 100.0, 1000);
	rate_history_end(h);
	rate_history_begin(h, 5, 0.5);
	rate_history_add(h, &k, 400.0, 1000 + 600);
	rate_history_end(h);
	cr_assert_eq(rate_history_get(h, &k, r), 4);
	cr_assert(near(r[0], 100.0));
	cr_assert(near(r[1], 400.0), "(600 - 400 * 0.5) / (2 * 0.5): %f", r[1]);
	cr_assert(near(r[2], 400.0));
	cr_assert_eq(r[3], 400.0);
	rate_history_free(h);
}

Test(rate_history, many_flows_come_and_go)
{
	struct rate_history *h = rate_history_new();
	double r[RATE_HISTORY_LEN];

	for (uint64_t g = 1; g <= 6; g++) {
		rate_history_begin(h, g, 1.0);
		for (uint64_t f = g * 1000; f < g * 1000 + 5000; f++) {
			struct flow_key k = key_of(f);

			rate_history_add(h, &k, (double)f, f);
		}
		cr_assert_eq(rate_history_end(h), 0);
	}
	for (uint64_t f = 6000; f < 11000; f++) {
		struct flow_key k = key_of(f);

		cr_assert_eq(rate_history_get(h, &k, r), 6 - (f - 5000) / 1000);
		cr_assert(near(r[0], (double)f));
	}
	rate_history_free(h);
}

Test(sparkline, scales_to_the_peak_newest_right_blank_for_zero)
{
	const double rates[6] = { 0, 1, 40, 80, 0.01, 20 };
	char out[64];

	ui_format_sparkline(rates, 6, 40, false, out, sizeof(out));
	cr_assert_str_eq(out, " .=@.:");
	ui_format_sparkline(rates, 6, 3, false, out, sizeof(out));
	cr_assert_str_eq(out, "@.:", "only the newest that fit");
	ui_format_sparkline(rates, 6, 40, true, out, sizeof(out));
	cr_assert_str_eq(out, " \u2581\u2584\u2588\u2581\u2582");
	ui_format_sparkline(rates, 0, 40, true, out, sizeof(out));
	cr_assert_str_eq(out, "");
}
