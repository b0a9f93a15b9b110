/* Sliding-window averages from coarse buckets (flow_windows.h). A window of W seconds has
 * buckets W/4 wide: the one filling now counts whole, the four before it too but the
 * oldest only for the part of it still inside the window, as if its bytes came evenly.
 * An interval longer than a bucket (a slow -d, a pause) is spread over the buckets it
 * covers, so any interval from milliseconds to minutes gives the same averages. */
#include <string.h>
#include "flow_windows.h"

const uint64_t flow_window_ns[FLOW_WINDOWS] = { 2000000000ULL, 10000000000ULL, 40000000000ULL };

static uint64_t bucket_ns(int r)
{
	return flow_window_ns[r] / FLOW_WINDOW_SPAN;
}

void flow_windows_init(struct flow_windows *w, uint64_t start_ns)
{
	memset(w, 0, sizeof(*w));
	w->start_ns = start_ns;
	for (int r = 0; r < FLOW_WINDOWS; r++)
		w->head[r] = start_ns / bucket_ns(r);
}

/* Ring r's newest bucket becomes n: those between it and n are emptied. */
static void advance(struct flow_windows *w, int r, uint64_t n)
{
	uint64_t k = w->head[r];

	if (n <= k)
		return;
	if (n - k > FLOW_WINDOW_RING)
		k = n - FLOW_WINDOW_RING;
	while (++k <= n) {
		w->tx[r][k % FLOW_WINDOW_RING] = 0.0f;
		w->rx[r][k % FLOW_WINDOW_RING] = 0.0f;
	}
	w->head[r] = n;
}

static void add_ring(struct flow_windows *w, int r, uint64_t t0, uint64_t t1, double tx, double rx)
{
	uint64_t b = bucket_ns(r), last = (t1 - 1) / b, k = t0 / b, lo, hi;
	double share;

	advance(w, r, last);
	if (w->head[r] >= FLOW_WINDOW_RING && k <= w->head[r] - FLOW_WINDOW_RING)
		k = w->head[r] - FLOW_WINDOW_RING + 1; /* older buckets have left the ring */
	for (; k <= last; k++) {
		lo = k * b > t0 ? k * b : t0;
		hi = (k + 1) * b < t1 ? (k + 1) * b : t1;
		share = (double)(hi - lo) / (double)(t1 - t0);
		w->tx[r][k % FLOW_WINDOW_RING] += (float)(tx * share);
		w->rx[r][k % FLOW_WINDOW_RING] += (float)(rx * share);
	}
}

void flow_windows_add(struct flow_windows *w, uint64_t t0_ns, uint64_t t1_ns, uint64_t tx,
		      uint64_t rx)
{
	if (t1_ns <= t0_ns)
		t0_ns = t1_ns - 1; /* no time measured: the bytes go to the bucket of t1 */
	for (int r = 0; r < FLOW_WINDOWS; r++)
		add_ring(w, r, t0_ns, t1_ns, (double)tx, (double)rx);
}

bool flow_windows_rates(const struct flow_windows *w, uint64_t now_ns, float tx[FLOW_WINDOWS],
			float rx[FLOW_WINDOWS])
{
	bool any = false;

	for (int r = 0; r < FLOW_WINDOWS; r++) {
		uint64_t b = bucket_ns(r), c = now_ns / b, head = w->head[r];
		uint64_t win = flow_window_ns[r], age = now_ns - w->start_ns;
		/* Young: every byte added lies inside the window, the oldest bucket's too. */
		bool young = age < win;
		double oldest = young ? 1.0 : 1.0 - (double)(now_ns - c * b) / (double)b;
		double st = 0.0, sr = 0.0, weight;

		for (uint64_t k = c >= FLOW_WINDOW_SPAN ? c - FLOW_WINDOW_SPAN : 0; k <= c; k++) {
			if (k > head || k + FLOW_WINDOW_RING <= head)
				continue; /* empty since, or no longer kept */
			weight = k + FLOW_WINDOW_SPAN == c ? oldest : 1.0;
			st += weight * w->tx[r][k % FLOW_WINDOW_RING];
			sr += weight * w->rx[r][k % FLOW_WINDOW_RING];
		}
		if (young)
			win = age;
		tx[r] = win ? (float)(st * 1e9 / (double)win) : 0.0f;
		rx[r] = win ? (float)(sr * 1e9 / (double)win) : 0.0f;
		any = any || tx[r] > 0.0f || rx[r] > 0.0f;
	}
	return any;
}
