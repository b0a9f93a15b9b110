/* The one way tcptop reports a problem: one line on stderr, "tcptop: ...". */
#ifndef TCPTOP_REPORT_H
#define TCPTOP_REPORT_H

#define EXIT_USAGE 2

void report_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Quiet unless -v was given. */
void report_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_set_verbose(int level);
int report_verbose_level(void);

#endif
