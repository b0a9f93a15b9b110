/* The walks without BPF iterators (kernels before 5.9, or 5.11 for socket files): sockets
 * from sock_diag, owners from /proc/PID/fd, as ss -p finds them. Records go where the
 * iterator walk's go (walk_record_merge, flow_table_set_owner), so the table cannot
 * tell the two apart. */
#include <dirent.h>
#include <inttypes.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "util/addr.h"
#include "ebpf/walk_record.h"
#include "ebpf/walk_procfs.h"
#include "ebpf/sock_diag.h"

struct inode_cookie {
	uint64_t inode;
	uint64_t cookie;
};

struct procfs_walk {
	struct flow_table *table; /* NULL: list sockets only for their owners */
	int flows_fd;
	uint64_t now_ns;
	uint32_t netns;
	struct inode_cookie *sockets;
	size_t nsockets, cap;
	int err;
};

static uint32_t procfs_own_netns(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) == 0 ? (uint32_t)st.st_ino : 0;
}

static void procfs_remember_inode(struct procfs_walk *w, uint64_t inode, uint64_t cookie)
{
	struct inode_cookie *grown;

	if (!inode)
		return;
	if (w->nsockets == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 1024;
		grown = realloc(w->sockets, w->cap * sizeof(*grown));
		if (!grown) {
			w->err = -ENOMEM;
			return;
		}
		w->sockets = grown;
	}
	w->sockets[w->nsockets++] = (struct inode_cookie){ inode, cookie };
}

/* As flow_read_tuple in BPF: v4-mapped (or "::" beside a v4-mapped peer) becomes IPv4. */
static void procfs_tuple(struct flow_identity *id, const struct inet_diag_msg *m)
{
	static const uint8_t zero[16];
	bool lm, rm;

	id->lport = ntohs(m->id.idiag_sport);
	id->rport = ntohs(m->id.idiag_dport);
	memcpy(id->laddr, m->id.idiag_src, 16);
	memcpy(id->raddr, m->id.idiag_dst, 16);
	if (m->idiag_family == AF_INET) {
		memset(id->laddr + 4, 0, 12);
		memset(id->raddr + 4, 0, 12);
		id->family = TCPTOP_AF_INET;
		return;
	}
	id->family = TCPTOP_AF_INET6;
	lm = addr_is_v4_mapped(id->laddr);
	rm = addr_is_v4_mapped(id->raddr);
	if ((lm || rm) && (lm || !memcmp(id->laddr, zero, 16)) &&
	    (rm || !memcmp(id->raddr, zero, 16))) {
		memmove(id->laddr, id->laddr + 12, 4);
		memset(id->laddr + 4, 0, 12);
		memmove(id->raddr, id->raddr + 12, 4);
		memset(id->raddr + 4, 0, 12);
		id->family = TCPTOP_AF_INET;
	}
}

/* The bases the BPF walk would seed: counts start from zero now, FINs taken out as the
 * compat set takes them out (tcp_info has no snd_nxt: "nothing unacknowledged" stands in
 * for "our FIN is acknowledged"). */
static void procfs_tcp_bases(struct flow_counters *c, const struct tcp_info *info,
			     uint8_t state)
{
	uint64_t acked = info->tcpi_bytes_acked, received = info->tcpi_bytes_received;
	bool fin_sent = state == TCPTOP_TCP_FIN_WAIT1 || state == TCPTOP_TCP_FIN_WAIT2 ||
			state == TCPTOP_TCP_CLOSING || state == TCPTOP_TCP_LAST_ACK;
	bool fin_received = state == TCPTOP_TCP_CLOSE_WAIT || state == TCPTOP_TCP_LAST_ACK ||
			    state == TCPTOP_TCP_CLOSING;

	if (fin_sent && !info->tcpi_unacked && acked)
		acked--;
	if (fin_received && received)
		received--;
	c->tx_bytes_base = acked + (state == TCPTOP_TCP_SYN_SENT);
	c->rx_bytes_base = received;
	c->segs_out_base = info->tcpi_segs_out;
	c->segs_in_base = info->tcpi_segs_in;
	c->retrans_base = info->tcpi_total_retrans;
	c->srtt_us = info->tcpi_rtt;
}

static void procfs_socket(const struct sock_diag_entry *e, void *ctx)
{
	struct procfs_walk *w = ctx;
	const struct inet_diag_msg *m = e->msg;
	struct walk_socket_record r;
	struct flow_key key = { .cookie = e->cookie };
	struct flow_value seed;

	procfs_remember_inode(w, m->idiag_inode, e->cookie);
	if (!w->table || (e->proto == TCPTOP_PROTO_TCP && m->idiag_state == TCPTOP_TCP_NEW_SYN_RECV))
		return;
	memset(&r, 0, sizeof(r));
	r.cookie = e->cookie;
	procfs_tuple(&r.id, m);
	r.id.proto = e->proto;
	r.id.netns = w->netns;
	r.id.ifindex = m->id.idiag_if;
	r.state = e->proto == TCPTOP_PROTO_TCP ? m->idiag_state : TCPTOP_STATE_NONE;
	walk_record_merge(w->table, &r, w->now_ns);
	/* A live TCP socket is seeded into the flows map, so that its close is reported. */
	if (e->proto != TCPTOP_PROTO_TCP || r.state == TCPTOP_TCP_TIME_WAIT)
		return;
	memset(&seed, 0, sizeof(seed));
	seed.id = r.id;
	seed.counters.state = r.state;
	if (e->info && e->info_len >= offsetof(struct tcp_info, tcpi_segs_in) +
						 sizeof(e->info->tcpi_segs_in))
		procfs_tcp_bases(&seed.counters, e->info, r.state);
	bpf_map_update_elem(w->flows_fd, &key, &seed, BPF_NOEXIST);
}

static int procfs_by_inode(const void *a, const void *b)
{
	const struct inode_cookie *x = a, *y = b;

	return (x->inode > y->inode) - (x->inode < y->inode);
}

static void procfs_read_comm(const char *pid, char comm[TCPTOP_COMM_LEN])
{
	char path[64];
	FILE *f;

	memset(comm, 0, TCPTOP_COMM_LEN);
	snprintf(path, sizeof(path), "/proc/%.20s/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, TCPTOP_COMM_LEN, f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}

/* Each socket file of process pid gives its flows that process, if they have no owner. */
static void procfs_process(struct procfs_walk *w, const char *pid)
{
	char path[64], link[64], comm[TCPTOP_COMM_LEN];
	struct inode_cookie probe, *found;
	struct dirent *d;
	bool named = false;
	DIR *fds;

	snprintf(path, sizeof(path), "/proc/%.20s/fd", pid);
	fds = opendir(path);
	if (!fds)
		return; /* gone meanwhile */
	while ((d = readdir(fds))) {
		ssize_t n = readlinkat(dirfd(fds), d->d_name, link, sizeof(link) - 1);

		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "socket:[%" SCNu64 "]", &probe.inode) != 1)
			continue;
		found = bsearch(&probe, w->sockets, w->nsockets, sizeof(*found), procfs_by_inode);
		if (!found)
			continue;
		if (!named) {
			procfs_read_comm(pid, comm);
			named = true;
		}
		flow_table_set_owner(w->table, found->cookie, (uint32_t)strtoul(pid, NULL, 10),
				     comm);
	}
	closedir(fds);
}

static void procfs_owners(struct procfs_walk *w)
{
	struct dirent *d;
	DIR *proc;

	if (!w->table || !w->nsockets)
		return;
	qsort(w->sockets, w->nsockets, sizeof(*w->sockets), procfs_by_inode);
	proc = opendir("/proc");
	if (!proc) {
		w->err = -errno;
		return;
	}
	/* /proc lists thread-group leaders only: each process's files once. */
	while ((d = readdir(proc)))
		if (d->d_name[0] >= '1' && d->d_name[0] <= '9')
			procfs_process(w, d->d_name);
	closedir(proc);
}

static int procfs_walk(struct flow_table *table, int flows_fd, uint64_t now_ns,
		       bool sockets_into_table)
{
	struct procfs_walk w = {
		.table = sockets_into_table ? table : NULL,
		.flows_fd = flows_fd,
		.now_ns = now_ns,
		.netns = procfs_own_netns(),
	};
	int err = sock_diag_each(procfs_socket, &w);

	w.table = table;
	if (!err && !w.err) {
		flow_table_begin_owner_walk(table);
		procfs_owners(&w);
		flow_table_end_owner_walk(table);
	}
	free(w.sockets);
	return err ? err : w.err;
}

int procfs_walk_run(struct flow_table *table, int flows_fd, uint64_t now_ns)
{
	return procfs_walk(table, flows_fd, now_ns, true);
}

int procfs_walk_owners(struct flow_table *table)
{
	return procfs_walk(table, -1, 0, false);
}
