/* Least privilege over a run (doc/design.md, "Privileges"): every capability is needed
 * only to load, attach and walk; afterwards main and the collector keep what draining the
 * backend needs, and every other thread holds none (util/thread_start.h). */
#ifndef TCPTOP_PRIVILEGES_H
#define TCPTOP_PRIVILEGES_H

#include "backend.h"

/* First thing in a run, in main: execve() can grant no thread privileges any more, and
 * liburcu's call_rcu worker is started by a thread without capabilities, so that it holds
 * none either. 0, or -1 after saying why. */
int privileges_begin(void);
/* Once b is open and attached, before any thread of the pipeline starts: main keeps only
 * the capabilities b's drains need, for itself and the collector it starts (-v says
 * which). 0, or -1 after saying why. */
int privileges_after_start_up(struct backend *b);

#endif
