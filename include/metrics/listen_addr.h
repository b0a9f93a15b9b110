/* --metrics [ADDR:]PORT: where the endpoint listens. Loopback unless an address is given. */
#ifndef TCPTOP_METRICS_LISTEN_ADDR_H
#define TCPTOP_METRICS_LISTEN_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct listen_addr {
	struct sockaddr_storage addr;
	socklen_t len;
	bool beyond_loopback; /* an explicit opt-in to be reachable from other hosts */
};

/* "9977" (127.0.0.1), ":9977" (0.0.0.0), "0.0.0.0:9977", "[::1]:9977", "[::]:9977";
 * 0, or -1 with a short reason in *why. */
int listen_addr_parse(const char *text, struct listen_addr *out, const char **why);
/* "127.0.0.1:9977" or "[::]:9977". */
void listen_addr_text(const struct listen_addr *a, char *out, size_t len);

#endif
