/* Text from outside (process names any user can set, DNS answers, what the user types)
 * checked as UTF-8, for every output that must not pass on what a terminal acts on. */
#ifndef TCPTOP_UTF8_H
#define TCPTOP_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (at most avail bytes, avail > 0), 0 when it is
 * not one. Refuses overlong forms, UTF-16 surrogates and code points above U+10FFFF. */
size_t utf8_sequence_len(const unsigned char *s, size_t avail);
/* Whether the len bytes utf8_sequence_len() found at s are a character a terminal would
 * act on rather than show: a C0 control, DEL, or a C1 control (U+0080-U+009F). */
bool utf8_is_control(const unsigned char *s, size_t len);
/* In place, for a terminal: each control and each byte that is not part of valid UTF-8
 * becomes '?'; without utf8 (another character set), so does every byte above 0x7e. */
void utf8_make_printable(char *text, bool utf8);

#endif
