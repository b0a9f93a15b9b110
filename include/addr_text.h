/* Addresses as text without stdio: the same bytes as addr_format() (inet_ntop, IPv4-mapped
 * IPv6 shown as IPv4), for writers that format one address per row. */
#ifndef TCPTOP_ADDR_TEXT_H
#define TCPTOP_ADDR_TEXT_H

#include <stdint.h>
#include "addr.h"

/* Writes the address at out, which holds ADDR_TEXT_LEN bytes (no NUL); returns the end.
 * Nothing for a family that is neither TCPTOP_AF_INET nor TCPTOP_AF_INET6. */
char *addr_text(uint8_t family, const uint8_t addr[16], char *out);

#endif
