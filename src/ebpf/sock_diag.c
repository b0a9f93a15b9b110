/* NETLINK_SOCK_DIAG dumps of TCP and UDP sockets, v4 and v6, with tcp_info for TCP. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include "ebpf/sock_diag.h"
#include "tcptop_shared.h"

#define SOCK_DIAG_BUF_BYTES (64 * 1024)
#define SOCK_DIAG_ALL_STATES 0xffffffffu
#define LISTEN_STATE (1u << TCPTOP_TCP_LISTEN)
#define TCP_INFO_EXT (1 << (INET_DIAG_INFO - 1))
#define MEMINFO_EXT (1 << (INET_DIAG_SKMEMINFO - 1))

struct sock_diag_request {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 req;
};

static int sock_diag_send(int fd, uint8_t family, uint8_t protocol, uint32_t states, uint8_t ext)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct sock_diag_request r;

	memset(&r, 0, sizeof(r));
	r.nlh.nlmsg_len = sizeof(r);
	r.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	r.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	r.req.sdiag_family = family;
	r.req.sdiag_protocol = protocol;
	r.req.idiag_states = states;
	r.req.idiag_ext = ext;
	if (sendto(fd, &r, sizeof(r), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	return 0;
}

static void sock_diag_entry_of(struct sock_diag_entry *e, const struct nlmsghdr *h,
			       uint8_t proto)
{
	const struct inet_diag_msg *msg = NLMSG_DATA(h);
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*msg)));
	const struct rtattr *attr = (const struct rtattr *)(msg + 1);

	memset(e, 0, sizeof(*e));
	e->msg = msg;
	e->proto = proto;
	e->cookie = (uint64_t)msg->id.idiag_cookie[1] << 32 | msg->id.idiag_cookie[0];
	for (; RTA_OK(attr, len); attr = RTA_NEXT(attr, len)) {
		if (attr->rta_type == INET_DIAG_INFO) {
			e->info = RTA_DATA(attr);
			e->info_len = RTA_PAYLOAD(attr);
		} else if (attr->rta_type == INET_DIAG_SKMEMINFO) {
			e->meminfo = RTA_DATA(attr);
			e->meminfo_len = RTA_PAYLOAD(attr) / sizeof(uint32_t);
		}
	}
}

/* Reads one dump to its NLMSG_DONE. */
static int sock_diag_read(int fd, uint8_t proto, char *buf,
			  void (*fn)(const struct sock_diag_entry *e, void *ctx), void *ctx)
{
	for (;;) {
		ssize_t got = recv(fd, buf, SOCK_DIAG_BUF_BYTES, 0);
		const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
		struct sock_diag_entry e;
		int n = (int)got;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *err = NLMSG_DATA(h);

				return err->error ? err->error : -EIO;
			}
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
				continue;
			sock_diag_entry_of(&e, h, proto);
			fn(&e, ctx);
		}
	}
}

struct sock_diag_dump {
	uint8_t family, protocol, proto;
	uint32_t states;
	uint8_t ext;
};

static int sock_diag_dumps(const struct sock_diag_dump *dumps, size_t ndumps,
			   void (*fn)(const struct sock_diag_entry *e, void *ctx), void *ctx)
{
	char *buf = malloc(SOCK_DIAG_BUF_BYTES);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	int err = 0;

	if (!buf || fd < 0) {
		err = buf ? -errno : -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ndumps && !err; i++) {
		err = sock_diag_send(fd, dumps[i].family, dumps[i].protocol, dumps[i].states,
				     dumps[i].ext);
		if (!err)
			err = sock_diag_read(fd, dumps[i].proto, buf, fn, ctx);
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}

int sock_diag_each(void (*fn)(const struct sock_diag_entry *e, void *ctx), void *ctx)
{
	static const struct sock_diag_dump dumps[] = {
		{ AF_INET, IPPROTO_TCP, TCPTOP_PROTO_TCP, SOCK_DIAG_ALL_STATES, TCP_INFO_EXT },
		{ AF_INET6, IPPROTO_TCP, TCPTOP_PROTO_TCP, SOCK_DIAG_ALL_STATES, TCP_INFO_EXT },
		{ AF_INET, IPPROTO_UDP, TCPTOP_PROTO_UDP, SOCK_DIAG_ALL_STATES, 0 },
		{ AF_INET6, IPPROTO_UDP, TCPTOP_PROTO_UDP, SOCK_DIAG_ALL_STATES, 0 },
	};

	return sock_diag_dumps(dumps, sizeof(dumps) / sizeof(dumps[0]), fn, ctx);
}

int sock_diag_listeners(void (*fn)(const struct sock_diag_entry *e, void *ctx), void *ctx)
{
	static const struct sock_diag_dump dumps[] = {
		{ AF_INET, IPPROTO_TCP, TCPTOP_PROTO_TCP, LISTEN_STATE, MEMINFO_EXT },
		{ AF_INET6, IPPROTO_TCP, TCPTOP_PROTO_TCP, LISTEN_STATE, MEMINFO_EXT },
	};

	return sock_diag_dumps(dumps, sizeof(dumps) / sizeof(dumps[0]), fn, ctx);
}
