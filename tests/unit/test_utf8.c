/* Text from outside made safe for a terminal (util/utf8.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include "util/utf8.h"
#include "time_limit.h"

TestSuite(utf8, .timeout = UNIT_TIME_LIMIT_S);

static void assert_printable(const char *in, bool utf8, const char *want)
{
	char text[64];

	snprintf(text, sizeof(text), "%s", in);
	utf8_make_printable(text, utf8);
	cr_assert_str_eq(text, want, "from \"%s\"", in);
}

/* Any user can name a process so (issue 16): an OSC title, a bell, an 8-bit CSI. */
Test(utf8, controls_and_bytes_that_are_not_utf8_become_question_marks)
{
	assert_printable("ev\x1b]0;own\x07\x9b"
			 "1m",
			 true, "ev?]0;own??1m");
	assert_printable("del\x7f", true, "del?");
	assert_printable("csi\xc2\x9b"
			 "1m",
			 true, "csi?1m"); /* U+009B, valid UTF-8 */
	assert_printable("cut\xe2\x82", true, "cut??");
	assert_printable("\xc0\xaf\xed\xa0\x80", true, "?????"); /* overlong, surrogate */
}

Test(utf8, leaves_printable_utf8_as_it_is)
{
	assert_printable("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7", true,
			 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7");
	assert_printable("", true, "");
}

Test(utf8, shows_only_ascii_in_another_character_set)
{
	assert_printable("caf\xc3\xa9\x9b", false, "caf???");
	assert_printable("plain ~", false, "plain ~");
}

Test(utf8, knows_c1_controls_from_other_two_byte_characters)
{
	cr_assert(utf8_is_control((const unsigned char *)"\xc2\x80", 2));
	cr_assert(utf8_is_control((const unsigned char *)"\xc2\x9f", 2));
	cr_assert_not(utf8_is_control((const unsigned char *)"\xc2\xa0", 2));
	cr_assert_not(utf8_is_control((const unsigned char *)"\xc3\x80", 2));
	cr_assert_eq(utf8_sequence_len((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
}
