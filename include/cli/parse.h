/* Parsers for command-line values. Each returns 0 on success, or -1 and leaves a short
 * reason ("must be at least 10ms", "is not a number") in *why. */
#ifndef TCPTOP_PARSE_H
#define TCPTOP_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "250ms", "0.5s", "2s", "2" (seconds), "1m"; strictly positive. */
int parse_duration_ns(const char *text, uint64_t *out_ns, const char **why);
/* 1..65535 (0 never names a real connection). */
int parse_port(const char *text, uint16_t *out, const char **why);
/* "123" or "1,2,3": allocates *out_pids (free()). */
int parse_pid_list(const char *text, pid_t **out_pids, size_t *out_count, const char **why);
/* A positive integer in [min, max]. */
int parse_count(const char *text, uint64_t min, uint64_t max, uint64_t *out, const char **why);

/* A rate for --alert: a decimal number ("10", "1.5") and a unit, B/s, KiB/s, MiB/s, GiB/s
 * (powers of 1024) or kbit/s, Mbit/s, Gbit/s, also kb/s, Mb/s, Gb/s (powers of 1000, bits),
 * in bytes/s. */
int parse_rate(const char *text, double *out_bytes_per_s, const char **why);

#endif
