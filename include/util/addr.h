/* The one address formatter: inet_ntop output, IPv4-mapped IPv6 shown as IPv4. */
#ifndef TCPTOP_ADDR_H
#define TCPTOP_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADDR_TEXT_LEN 46 /* INET6_ADDRSTRLEN */

/* Writes the address at out, which holds ADDR_TEXT_LEN bytes (no NUL); returns the end.
 * Nothing for a family that is neither TCPTOP_AF_INET nor TCPTOP_AF_INET6. */
char *addr_text(uint8_t family, const uint8_t addr[16], char *out);
/* The same as a C string. family is TCPTOP_AF_INET (first 4 bytes used) or
 * TCPTOP_AF_INET6. Writes "" for family 0 (no address). */
void addr_format(uint8_t family, const uint8_t addr[16], char *out, size_t len);
/* True when the 16 bytes are ::ffff:a.b.c.d. */
bool addr_is_v4_mapped(const uint8_t addr[16]);

/* Kernel TCP state name as ss and the kernel spell it ("ESTABLISHED", "TIME_WAIT"); "-" for
 * TCPTOP_STATE_NONE (UDP). */
const char *tcp_state_name(uint8_t state);

#endif
