/* Decimal text for integers and fixed-point reals, two digits per division. Reals that the
 * fast path cannot hold exactly (not finite, or too large once scaled) go to snprintf. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "util/numtext.h"

static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

static const uint64_t powers_of_ten[20] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
	UINT64_C(10000000000), UINT64_C(100000000000), UINT64_C(1000000000000),
	UINT64_C(10000000000000), UINT64_C(100000000000000), UINT64_C(1000000000000000),
	UINT64_C(10000000000000000), UINT64_C(100000000000000000),
	UINT64_C(1000000000000000000), UINT64_C(10000000000000000000),
};

/* From the bit length: 1233 / 4096 is just above log10(2), so the guess is the count or
 * one more than it. */
static int digit_count(uint64_t v)
{
	int bits = 64 - __builtin_clzll(v | 1);
	int guess = (bits * 1233) >> 12;

	return guess + ((v | 1) >= powers_of_ten[guess]); /* | 1: 0 has one digit */
}

/* Exactly width digits of v (which fits in them), from the right. */
static void put_digits(char *out, uint32_t v, int width)
{
	char *p = out + width;

	while (p - out >= 2) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (p > out)
		*--p = (char)('0' + v % 10);
}

/* v < 10^8 as exactly eight digits, in two halves that do not wait for each other. */
static void put_8_digits(char *out, uint32_t v)
{
	uint32_t hi = v / 10000, lo = v % 10000;

	memcpy(out, digit_pairs + 2 * (hi / 100), 2);
	memcpy(out + 2, digit_pairs + 2 * (hi % 100), 2);
	memcpy(out + 4, digit_pairs + 2 * (lo / 100), 2);
	memcpy(out + 6, digit_pairs + 2 * (lo % 100), 2);
}

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* The eight digits of v < 10^8 as ASCII, most significant in the lowest byte, all lanes at
 * once (Paul Khuong, "How to print integers really fast"): two lanes of four digits, divided
 * by 100 and then by 10 with multiply-shifts that are exact in this range. */
static uint64_t ascii_8_digits(uint32_t v)
{
	uint64_t merged = (v / 10000) | (uint64_t)(v % 10000) << 32;
	uint64_t top = ((merged * 10486) >> 20) & (UINT64_C(0x7f) << 32 | 0x7f);
	uint64_t bottom = merged - 100 * top;
	uint64_t hundreds = (bottom << 16) + top;
	uint64_t tens = ((hundreds * 103) >> 10) & UINT64_C(0x000f000f000f000f);

	tens += (hundreds - 10 * tens) << 8;
	return tens + UINT64_C(0x3030303030303030);
}

/* v < 10^8 without a branch on its length: the digits' leading zeros shifted out and one
 * eight-byte store (out has NUMTEXT_MAX bytes of room). */
static char *put_small(char *out, uint32_t v)
{
	int n = digit_count(v);
	uint64_t digits = ascii_8_digits(v) >> (8 * (8 - n));

	memcpy(out, &digits, sizeof(digits));
	return out + n;
}
#else
static char *put_small(char *out, uint32_t v)
{
	int n = digit_count(v);

	put_digits(out, v, n);
	return out + n;
}
#endif

/* In 32-bit pieces of eight digits: 64-bit divisions are slower, and each piece's digits
 * depend only on it. */
char *numtext_u64(char *out, uint64_t v)
{
	const uint64_t e8 = 100000000, e16 = e8 * e8;

	if (v < e8)
		return put_small(out, (uint32_t)v);
	if (v < e16) {
		out = put_small(out, (uint32_t)(v / e8));
	} else {
		out = put_small(out, (uint32_t)(v / e16));
		put_8_digits(out, (uint32_t)(v / e8 % e8));
		out += 8;
	}
	put_8_digits(out, (uint32_t)(v % e8));
	return out + 8;
}

/* round(v * scale) with ties to even, exact: v = mantissa * 2^-shift, so the product is
 * an integer (mantissa * scale, below 2^83) shifted right. v >= 0 and v * scale < 2^62. */
static uint64_t scale_and_round(double v, uint64_t scale)
{
	unsigned __int128 product, rest, half;
	uint64_t bits, mantissa, result;
	int exponent, shift;

	if (v == 0)
		return 0;
	memcpy(&bits, &v, sizeof(bits));
	exponent = (int)(bits >> 52 & 0x7ff);
	mantissa = bits & ((UINT64_C(1) << 52) - 1);
	if (exponent)
		mantissa |= UINT64_C(1) << 52;
	else
		exponent = 1; /* subnormal */
	shift = 1075 - exponent; /* v = mantissa * 2^-shift */
	if (shift <= 0)
		return (mantissa << -shift) * scale;
	if (shift > 100)
		return 0; /* v * scale < 2^-17: far below one half */
	product = (unsigned __int128)mantissa * scale;
	result = (uint64_t)(product >> shift);
	rest = product & (((unsigned __int128)1 << shift) - 1);
	half = (unsigned __int128)1 << (shift - 1);
	if (rest > half || (rest == half && (result & 1)))
		result++;
	return result;
}

char *numtext_fixed(char *out, double v, int decimals)
{
	uint64_t scale, scaled;
	int n;

	if (decimals < 0 || decimals > 9 || !isfinite(v) ||
	    fabs(v) * (double)powers_of_ten[decimals] >= 0x1p62) {
		n = snprintf(out, NUMTEXT_MAX, "%.*f", decimals, v);
		return out + (n > 0 ? (n < NUMTEXT_MAX ? n : NUMTEXT_MAX - 1) : 0);
	}
	if (signbit(v)) {
		*out++ = '-'; /* printf keeps the sign of what rounds to zero: "-0" */
		v = -v;
	}
	scale = powers_of_ten[decimals];
	scaled = scale_and_round(v, scale);
	if (decimals == 0)
		return numtext_u64(out, scaled); /* no division by 1 */
	return numtext_scaled(out, scaled, decimals);
}

char *numtext_scaled(char *out, uint64_t units, int decimals)
{
	uint64_t scale = powers_of_ten[decimals];

	out = numtext_u64(out, units / scale);
	*out++ = '.';
	put_digits(out, (uint32_t)(units % scale), decimals);
	return out + decimals;
}
