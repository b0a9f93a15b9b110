/* The RTT histogram's buckets (metrics/process_series.h). */
#include "metrics/process_series.h"

const double rtt_bucket_bounds[RTT_BUCKETS] = {
	0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
	0.025,   0.05,   0.1,     0.25,   0.5,   1.0,    2.0,
};

const char *const rtt_bucket_labels[RTT_BUCKETS] = {
	"0.00005", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
	"0.025",   "0.05",   "0.1",     "0.25",   "0.5",   "1.0",    "2.0",
};

int rtt_bucket(uint32_t srtt_us)
{
	double s = srtt_us / 1e6;
	int i = 0;

	while (i < RTT_BUCKETS && s > rtt_bucket_bounds[i])
		i++;
	return i;
}
