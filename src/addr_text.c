/* inet_ntop's spelling, written directly: dotted quads, and IPv6 in lowercase hex words
 * with the first longest run of two or more zero words as "::" and the IPv4-compatible
 * form ::a.b.c.d (glibc's inet_ntop6, which follows BIND's). */
#include "addr_text.h"
#include "tcptop_shared.h"

static char *put_byte(char *out, uint8_t b)
{
	if (b >= 100) {
		*out++ = (char)('0' + b / 100);
		b %= 100;
		*out++ = (char)('0' + b / 10);
	} else if (b >= 10) {
		*out++ = (char)('0' + b / 10);
	}
	*out++ = (char)('0' + b % 10);
	return out;
}

static char *put_ipv4(char *out, const uint8_t a[4])
{
	for (int i = 0; i < 4; i++) {
		if (i > 0)
			*out++ = '.';
		out = put_byte(out, a[i]);
	}
	return out;
}

static char *put_hex_word(char *out, unsigned w)
{
	static const char hex[] = "0123456789abcdef";
	int shift = 12;

	while (shift > 0 && !(w >> shift))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*out++ = hex[(w >> shift) & 0xf];
	return out;
}

struct zero_run {
	int base, len;
};

/* The first longest run of zero words; base -1 when none is two words or longer. */
static struct zero_run longest_zero_run(const unsigned words[8])
{
	struct zero_run best = { -1, 0 }, cur = { -1, 0 };

	for (int i = 0; i < 8; i++) {
		if (words[i] == 0) {
			if (cur.base < 0)
				cur = (struct zero_run){ i, 0 };
			cur.len++;
			if (cur.len > best.len)
				best = cur;
		} else {
			cur.base = -1;
		}
	}
	if (best.len < 2)
		best.base = -1;
	return best;
}

static char *put_ipv6(char *out, const uint8_t a[16])
{
	unsigned words[8];
	struct zero_run zeros;

	for (int i = 0; i < 8; i++)
		words[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	zeros = longest_zero_run(words);
	for (int i = 0; i < 8; i++) {
		if (zeros.base >= 0 && i >= zeros.base && i < zeros.base + zeros.len) {
			if (i == zeros.base)
				*out++ = ':';
			continue;
		}
		if (i > 0)
			*out++ = ':';
		if (i == 6 && zeros.base == 0 &&
		    (zeros.len == 6 || (zeros.len == 5 && words[5] == 0xffff)))
			return put_ipv4(out, a + 12);
		out = put_hex_word(out, words[i]);
	}
	if (zeros.base >= 0 && zeros.base + zeros.len == 8)
		*out++ = ':';
	return out;
}

char *addr_text(uint8_t family, const uint8_t addr[16], char *out)
{
	if (family == TCPTOP_AF_INET)
		return put_ipv4(out, addr);
	if (family != TCPTOP_AF_INET6)
		return out;
	if (addr_is_v4_mapped(addr))
		return put_ipv4(out, addr + 12);
	return put_ipv6(out, addr);
}
