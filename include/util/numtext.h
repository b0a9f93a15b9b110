/* Numbers as decimal text without stdio: the same bytes as printf's "%" PRIu64 and "%.*f"
 * in the C locale, at a fraction of the cost. */
#ifndef TCPTOP_NUMTEXT_H
#define TCPTOP_NUMTEXT_H

#include <stdint.h>

/* Room that any call below needs at out: "%.9f" of the largest double is 309 digits,
 * a sign, a point and 9 decimals. */
#define NUMTEXT_MAX 328

/* Writes v at out (no NUL); returns the end. */
char *numtext_u64(char *out, uint64_t v);
/* Writes v with decimals (0..9) digits after the point, rounded to nearest with ties to
 * even on v's exact binary value, as glibc's printf does; returns the end. */
char *numtext_fixed(char *out, double v, int decimals);
/* Writes units of 10^-decimals (decimals 1..9) as a decimal number: 1234 with 3 decimals
 * is "1.234"; returns the end. */
char *numtext_scaled(char *out, uint64_t units, int decimals);

#endif
