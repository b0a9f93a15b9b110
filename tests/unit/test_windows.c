/* The window averages' arithmetic (flow_windows.h): a steady rate through intervals of
 * any length, a step, a pause, a flow younger than a window, and an idle flow's decay. */
#include <criterion/criterion.h>
#include "flow_windows.h"
#include "time_limit.h"

TestSuite(windows, .timeout = UNIT_TIME_LIMIT_S);

#define S 1000000000ULL
#define MS 1000000ULL

static struct flow_windows w;
static uint64_t clock_ns;

/* rate bytes/s sent (and rate / 2 received) over the next interval of len_ns. */
static void feed(double rate, uint64_t len_ns)
{
	uint64_t tx = (uint64_t)(rate * (double)len_ns / 1e9 + 0.5);

	flow_windows_add(&w, clock_ns, clock_ns + len_ns, tx, tx / 2);
	clock_ns += len_ns;
}

static void expect(uint64_t now_ns, double r2, double r10, double r40)
{
	float tx[FLOW_WINDOWS], rx[FLOW_WINDOWS];
	double want[FLOW_WINDOWS] = { r2, r10, r40 };

	flow_windows_rates(&w, now_ns, tx, rx);
	for (int r = 0; r < FLOW_WINDOWS; r++) {
		double slack = want[r] * 0.005 + 0.5;

		cr_expect(tx[r] >= want[r] - slack && tx[r] <= want[r] + slack,
			  "window %d at %.3f s: tx %.2f, want %.2f", r, (double)now_ns / 1e9, tx[r],
			  want[r]);
		cr_expect(rx[r] >= want[r] / 2 - slack && rx[r] <= want[r] / 2 + slack,
			  "window %d at %.3f s: rx %.2f, want %.2f", r, (double)now_ns / 1e9, rx[r],
			  want[r] / 2);
	}
}

static void start(uint64_t at_ns)
{
	clock_ns = at_ns;
	flow_windows_init(&w, at_ns);
}

Test(windows, steady_rate_any_interval)
{
	const uint64_t lens[] = { 10 * MS, 3700 * MS, 250 * MS, 61 * S, 10 * MS, 1 * S, 777 * MS };

	start(1000 * S + 123 * MS);
	for (int i = 0; i < 60; i++)
		feed(8000.0, lens[i % 7]);
	expect(clock_ns, 8000.0, 8000.0, 8000.0);
	feed(8000.0, 10 * MS);
	expect(clock_ns, 8000.0, 8000.0, 8000.0);
}

Test(windows, rate_step)
{
	start(1000 * S);
	for (int i = 0; i < 240; i++)
		feed(1000.0, 250 * MS);
	for (int i = 0; i < 4; i++)
		feed(3000.0, 250 * MS);
	/* One second of 3000 B/s after 60 s of 1000 B/s. */
	expect(clock_ns, 2000.0, 1200.0, 1050.0);
	for (int i = 0; i < 4; i++)
		feed(3000.0, 250 * MS);
	expect(clock_ns, 3000.0, 1400.0, 1100.0);
}

Test(windows, pause_then_resume)
{
	start(1000 * S);
	for (int i = 0; i < 60; i++)
		feed(1000.0, 1 * S);
	feed(0.0, 120 * S); /* paused: nothing measured for two minutes */
	expect(clock_ns, 0.0, 0.0, 0.0);
	feed(5000.0, 120 * S); /* one two-minute interval at 5000 B/s */
	expect(clock_ns, 5000.0, 5000.0, 5000.0);
}

Test(windows, young_flow_averages_over_its_age)
{
	start(1000 * S);
	for (int i = 0; i < 10; i++)
		feed(500.0, 100 * MS);
	expect(clock_ns, 500.0, 500.0, 500.0); /* one second old */
	for (int i = 0; i < 40; i++)
		feed(500.0, 100 * MS);
	expect(clock_ns, 500.0, 500.0, 500.0); /* five seconds: older than the 2 s window */
}

Test(windows, idle_flow_decays)
{
	start(1000 * S);
	for (int i = 0; i < 60; i++)
		feed(1000.0, 1 * S);
	expect(clock_ns + 1 * S, 500.0, 900.0, 975.0);
	expect(clock_ns + 2 * S + 500 * MS, 0.0, 750.0, 937.5);
	expect(clock_ns + 41 * S, 0.0, 0.0, 0.0);
}
