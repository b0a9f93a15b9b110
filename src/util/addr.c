/* The one address formatter, and the kernel's TCP state names. Addresses are written in
 * inet_ntop's spelling directly, without stdio (writers format one per row): dotted
 * quads, and IPv6 in lowercase hex words with the first longest run of two or more zero
 * words as "::" and the IPv4-compatible form ::a.b.c.d (glibc's inet_ntop6, which follows
 * BIND's); IPv4-mapped IPv6 is shown as IPv4. */
#include <stdio.h>
#include <string.h>
#include "util/addr.h"
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

static const uint8_t v4_mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
};

/* Indexed by the kernel's state number (include/net/tcp_states.h). */
static const char *const tcp_state_names[TCPTOP_TCP_MAX_STATES] = {
	[TCPTOP_STATE_NONE] = "-",
	[1] = "ESTABLISHED",
	[2] = "SYN_SENT",
	[3] = "SYN_RECV",
	[4] = "FIN_WAIT1",
	[5] = "FIN_WAIT2",
	[6] = "TIME_WAIT",
	[7] = "CLOSE",
	[8] = "CLOSE_WAIT",
	[9] = "LAST_ACK",
	[10] = "LISTEN",
	[11] = "CLOSING",
	[12] = "NEW_SYN_RECV",
	[13] = "BOUND_INACTIVE",
};

bool addr_is_v4_mapped(const uint8_t addr[16])
{
	return memcmp(addr, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0;
}

void addr_format(uint8_t family, const uint8_t addr[16], char *out, size_t len)
{
	char text[ADDR_TEXT_LEN + 1];

	*addr_text(family, addr, text) = '\0';
	if (len > 0)
		snprintf(out, len, "%s", text);
}

const char *tcp_state_name(uint8_t state)
{
	if (state < TCPTOP_TCP_MAX_STATES && tcp_state_names[state])
		return tcp_state_names[state];
	return "UNKNOWN";
}
