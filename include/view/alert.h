/* --alert RATE: the rate above which a row is marked (the live view) and its alert column
 * is 1 (CSV, JSONL). One threshold for the whole run, set before any reader starts. */
#ifndef TCPTOP_ALERT_H
#define TCPTOP_ALERT_H

#include <stdbool.h>
#include "flow_row.h"

/* Called once, from main() before the threads start; never with --alert absent. */
void alert_set_threshold(double bytes_per_s);
bool alert_enabled(void);
double alert_threshold(void);
/* Its tx_rate or its rx_rate (the last interval's) exceeds the threshold. */
bool alert_row_above(const struct flow_row *row);

#endif
