/* Sliding-window averages from coarse buckets (flow_windows.h). A window of W seconds has
 * buckets W/4 wide: the one filling now counts whole, the four before it too but the
 * oldest only for the part of it still inside the window, as if its bytes came evenly.
 * An interval longer than a bucket (a slow -d, a pause) is spread over the buckets it
 * covers, so any interval from milliseconds to minutes gives the same averages. */
#include <string.h>
#include "flow_windows.h"

const uint64_t flow_window_ns[FLOW_WINDOWS] = { 2000000000ULL, 10000000000ULL, 40000000000ULL };

#define BUCKET_2S (2000000000ULL / FLOW_WINDOW_SPAN)
#define BUCKET_10S (10000000000ULL / FLOW_WINDOW_SPAN)
#define BUCKET_40S (40000000000ULL / FLOW_WINDOW_SPAN)

/* The functions below are inlined with each ring's bucket width as a constant: divisions
 * by it become multiplications (ten 64-bit divisions per changed flow and build were most
 * of the windows' cost). */
#define INLINE static inline __attribute__((always_inline))

void flow_windows_init(struct flow_windows *w, uint64_t start_ns)
{
	memset(w, 0, sizeof(*w));
	w->start_ns = start_ns;
	w->head[0] = (uint32_t)(start_ns / BUCKET_2S);
	w->head[1] = (uint32_t)(start_ns / BUCKET_10S);
	w->head[2] = (uint32_t)(start_ns / BUCKET_40S);
}

/* Ring r's newest bucket becomes n: those between it and n are emptied. */
INLINE void advance(struct flow_windows *w, int r, uint64_t n)
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
	w->head[r] = (uint32_t)n;
}

/* The interval [t0, t1) into ring r of buckets b ns wide. */
INLINE void add_ring(struct flow_windows *w, int r, uint64_t b, uint64_t t0, uint64_t t1, double tx,
		     double rx)
{
	uint64_t last = (t1 - 1) / b, k = t0 / b, lo, hi;
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
	add_ring(w, 0, BUCKET_2S, t0_ns, t1_ns, (double)tx, (double)rx);
	add_ring(w, 1, BUCKET_10S, t0_ns, t1_ns, (double)tx, (double)rx);
	add_ring(w, 2, BUCKET_40S, t0_ns, t1_ns, (double)tx, (double)rx);
}

/* Ring r's averages (buckets b ns wide) at now_ns; true when either is not zero. */
INLINE bool rate_ring(const struct flow_windows *w, int r, uint64_t b, uint64_t now_ns, float *tx,
		      float *rx)
{
	uint64_t c = now_ns / b, head = w->head[r];
	uint64_t win = FLOW_WINDOW_SPAN * b, age = now_ns - w->start_ns;
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
	*tx = win ? (float)(st * 1e9 / (double)win) : 0.0f;
	*rx = win ? (float)(sr * 1e9 / (double)win) : 0.0f;
	return *tx > 0.0f || *rx > 0.0f;
}

bool flow_windows_rates(const struct flow_windows *w, uint64_t now_ns, float tx[FLOW_WINDOWS],
			float rx[FLOW_WINDOWS])
{
	bool any = rate_ring(w, 0, BUCKET_2S, now_ns, &tx[0], &rx[0]);

	any = rate_ring(w, 1, BUCKET_10S, now_ns, &tx[1], &rx[1]) || any;
	return rate_ring(w, 2, BUCKET_40S, now_ns, &tx[2], &rx[2]) || any;
}
