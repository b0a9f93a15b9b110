/* Addresses into C strings (addr_text writes them), and the names of the kernel's TCP
 * states. */
#include <stdio.h>
#include <string.h>
#include "addr.h"
#include "addr_text.h"
#include "tcptop_shared.h"

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
