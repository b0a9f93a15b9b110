/* Parsing and showing the --metrics address (metrics/listen_addr.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include "cli/parse.h"
#include "metrics/listen_addr.h"

static int fail(const char **why, const char *reason)
{
	*why = reason;
	return -1;
}

static void set_v4(struct listen_addr *out, struct in_addr ip, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->addr;

	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr = ip;
	out->len = sizeof(*sin);
	out->beyond_loopback = (ntohl(ip.s_addr) >> 24) != 127;
}

static void set_v6(struct listen_addr *out, const struct in6_addr *ip, uint16_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->addr;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr = *ip;
	out->len = sizeof(*sin6);
	out->beyond_loopback = !IN6_IS_ADDR_LOOPBACK(ip);
}

/* host is text[0..host_len): empty, an IPv4 address or a bracketed IPv6 one. */
static int parse_host(const char *text, size_t host_len, uint16_t port, struct listen_addr *out,
		      const char **why)
{
	char host[INET6_ADDRSTRLEN + 2];
	struct in6_addr ip6;
	struct in_addr ip4;

	if (host_len >= sizeof(host))
		return fail(why, "is not an IPv4 address or a bracketed IPv6 one");
	memcpy(host, text, host_len);
	host[host_len] = '\0';
	if (host_len == 0) {
		ip4.s_addr = htonl(INADDR_ANY);
		set_v4(out, ip4, port);
		return 0;
	}
	if (inet_pton(AF_INET, host, &ip4) == 1) {
		set_v4(out, ip4, port);
		return 0;
	}
	if (host_len > 2 && host[0] == '[' && host[host_len - 1] == ']') {
		host[host_len - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &ip6) == 1) {
			set_v6(out, &ip6, port);
			return 0;
		}
	}
	return fail(why, "is not an IPv4 address or a bracketed IPv6 one (no names)");
}

int listen_addr_parse(const char *text, struct listen_addr *out, const char **why)
{
	const char *colon = strrchr(text, ':');
	const char *port_text = colon ? colon + 1 : text;
	struct in_addr loopback = { htonl(INADDR_LOOPBACK) };
	uint16_t port;

	memset(out, 0, sizeof(*out));
	if (colon && colon > text && colon[-1] != ']' && strchr(text, '['))
		return fail(why, "is not [ADDR:]PORT");
	if (parse_port(port_text, &port, why) < 0)
		return -1;
	if (!colon) {
		set_v4(out, loopback, port);
		return 0;
	}
	return parse_host(text, (size_t)(colon - text), port, out, why);
}

void listen_addr_text(const struct listen_addr *a, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (a->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->addr;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(out, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->addr;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(out, len, "%s:%u", host, ntohs(sin->sin_port));
	}
}
