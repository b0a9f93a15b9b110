/* Listing sockets through NETLINK_SOCK_DIAG (what ss(8) uses): the start-up walk's way on
 * kernels whose BPF iterators are missing (before 5.9/5.11). Sees the caller's network
 * namespace only, like the iterators. */
#ifndef TCPTOP_SOCK_DIAG_H
#define TCPTOP_SOCK_DIAG_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/inet_diag.h>
#include <linux/tcp.h>

struct sock_diag_entry {
	const struct inet_diag_msg *msg;
	const struct tcp_info *info; /* TCP sockets other than TIME_WAIT and listeners; else NULL */
	size_t info_len;             /* bytes of *info the kernel filled */
	const uint32_t *meminfo;     /* SK_MEMINFO_* (listeners' dump only); else NULL */
	size_t meminfo_len;          /* entries of *meminfo */
	uint8_t proto;               /* TCPTOP_PROTO_TCP or TCPTOP_PROTO_UDP */
	uint64_t cookie;
};

/* Calls fn for every TCP and UDP socket (IPv4 and IPv6) of the caller's namespace.
 * 0, or -errno. */
int sock_diag_each(void (*fn)(const struct sock_diag_entry *e, void *ctx), void *ctx);
/* The same for TCP listeners only, with their memory counters (SK_MEMINFO_DROPS: the
 * connections dropped for a full accept queue, among others). */
int sock_diag_listeners(void (*fn)(const struct sock_diag_entry *e, void *ctx), void *ctx);

#endif
