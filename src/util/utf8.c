/* UTF-8 checks for text from outside (util/utf8.h). */
#include "util/utf8.h"

size_t utf8_sequence_len(const unsigned char *s, size_t avail)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (len > avail || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

bool utf8_is_control(const unsigned char *s, size_t len)
{
	return (len == 1 && (s[0] < 0x20 || s[0] == 0x7f)) ||
	       (len == 2 && s[0] == 0xc2 && s[1] <= 0x9f);
}

void utf8_make_printable(char *text, bool utf8)
{
	unsigned char *from = (unsigned char *)text, *to = from;
	size_t left = 0;

	while (from[left])
		left++;
	while (left > 0) {
		size_t n = utf8 || *from < 0x80 ? utf8_sequence_len(from, left) : 0;

		if (n == 0 || utf8_is_control(from, n)) {
			*to++ = '?';
			n = n ? n : 1;
		} else {
			for (size_t i = 0; i < n; i++)
				to[i] = from[i];
			to += n;
		}
		from += n;
		left -= n;
	}
	*to = '\0';
}
