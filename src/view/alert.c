/* The --alert threshold. A file-scope value rather than an argument: the column table's
 * accessors see only the row, and the threshold is fixed before any thread reads it. */
#include "view/alert.h"

static double threshold = -1.0; /* below zero: no --alert */

void alert_set_threshold(double bytes_per_s)
{
	threshold = bytes_per_s;
}

bool alert_enabled(void)
{
	return threshold >= 0.0;
}

double alert_threshold(void)
{
	return threshold;
}

bool alert_row_above(const struct flow_row *row)
{
	return alert_enabled() && (row->tx_rate > threshold || row->rx_rate > threshold);
}
