/* Row filters: every criterion that is set must hold. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/addr.h"
#include "view/filter.h"

void filter_init(struct filter *f)
{
	memset(f, 0, sizeof(*f));
	f->port = -1;
	f->sport = -1;
	f->dport = -1;
}

void filter_free(struct filter *f)
{
	free(f->pids);
	f->pids = NULL;
	f->npids = 0;
	free(f->comm_substring);
	f->comm_substring = NULL;
	free(f->cgroup_substring);
	f->cgroup_substring = NULL;
}

static bool match_pid(const struct filter *f, const struct flow_row *row)
{
	if (f->npids == 0)
		return true;
	for (size_t i = 0; i < f->npids; i++)
		if (f->pids[i] > 0 && (uint32_t)f->pids[i] == row->id->tgid)
			return true;
	return false;
}

static bool match_comm(const struct filter *f, const struct flow_row *row)
{
	char comm[TCPTOP_COMM_LEN + 1];
	size_t len;

	if (!f->comm_substring)
		return true;
	/* The kernel leaves no NUL when a name fills all TCPTOP_COMM_LEN bytes. */
	len = strnlen(row->id->comm, sizeof(row->id->comm));
	memcpy(comm, row->id->comm, len);
	comm[len] = '\0';
	return strstr(comm, f->comm_substring) != NULL;
}

/* The shown name or the path: "nginx" finds nginx.service, "system.slice" its services. */
static bool match_cgroup(const struct filter *f, const struct flow_row *row)
{
	if (!f->cgroup_substring)
		return true;
	return row->cgroup && (strstr(row->cgroup->shown, f->cgroup_substring) ||
			       strstr(row->cgroup->path, f->cgroup_substring));
}

static bool match_ports(const struct filter *f, const struct flow_row *row)
{
	if (f->port >= 0 && row->id->lport != f->port && row->id->rport != f->port)
		return false;
	if (f->sport >= 0 && row->id->lport != f->sport)
		return false;
	return f->dport < 0 || row->id->rport == f->dport;
}

static bool match_proto(const struct filter *f, const struct flow_row *row)
{
	if (!f->tcp && !f->udp)
		return true;
	return (f->tcp && row->id->proto == TCPTOP_PROTO_TCP) ||
	       (f->udp && row->id->proto == TCPTOP_PROTO_UDP);
}

/* The backend stores v4-mapped addresses as IPv4; the bytes are checked as well so that a
 * row it did not normalise still counts as IPv4. An IPv6 socket with an unbound (::) local
 * address that talks to a mapped peer carries IPv4 traffic too. */
static bool row_is_ipv4(const struct flow_row *row)
{
	if (row->id->family == TCPTOP_AF_INET)
		return true;
	return row->id->family == TCPTOP_AF_INET6 &&
	       (addr_is_v4_mapped(row->id->laddr) || addr_is_v4_mapped(row->id->raddr));
}

static bool match_family(const struct filter *f, const struct flow_row *row)
{
	bool v4;

	if (!f->ipv4 && !f->ipv6)
		return true;
	v4 = row_is_ipv4(row);
	return (f->ipv4 && v4) || (f->ipv6 && !v4 && row->id->family == TCPTOP_AF_INET6);
}

bool filter_match(const struct filter *f, const struct flow_row *row)
{
	return match_pid(f, row) && match_comm(f, row) && match_cgroup(f, row) &&
	       match_ports(f, row) && match_proto(f, row) && match_family(f, row) &&
	       (f->ifindex == 0 || row->id->ifindex == f->ifindex);
}

struct text_buf {
	char *out;
	size_t len;
	size_t used;
};

/* Appends; once the buffer is full, later text is dropped and it stays NUL-terminated. */
__attribute__((format(printf, 2, 3)))
static void text_append(struct text_buf *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->used + 1 >= t->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->out + t->used, t->len - t->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->used = (size_t)n < t->len - t->used ? t->used + (size_t)n : t->len - 1;
}

/* Separator before every item but the first. */
static const char *item_sep(const struct text_buf *t)
{
	return t->used > 0 ? " " : "";
}

static void describe_pids(const struct filter *f, struct text_buf *t)
{
	if (f->npids == 0)
		return;
	text_append(t, "%spid=%d", item_sep(t), (int)f->pids[0]);
	for (size_t i = 1; i < f->npids; i++)
		text_append(t, ",%d", (int)f->pids[i]);
}

static void describe_port(struct text_buf *t, const char *name, int port)
{
	if (port >= 0)
		text_append(t, "%s%s=%d", item_sep(t), name, port);
}

static void describe_flag(struct text_buf *t, const char *name, bool set)
{
	if (set)
		text_append(t, "%s%s", item_sep(t), name);
}

void filter_describe(const struct filter *f, char *out, size_t len)
{
	struct text_buf t = { .out = out, .len = len, .used = 0 };

	if (len == 0)
		return;
	out[0] = '\0';
	describe_pids(f, &t);
	if (f->comm_substring)
		text_append(&t, "%sproc=%s", item_sep(&t), f->comm_substring);
	if (f->cgroup_substring)
		text_append(&t, "%scgroup=%s", item_sep(&t), f->cgroup_substring);
	describe_port(&t, "port", f->port);
	describe_port(&t, "sport", f->sport);
	describe_port(&t, "dport", f->dport);
	describe_flag(&t, "tcp", f->tcp);
	describe_flag(&t, "udp", f->udp);
	describe_flag(&t, "ipv4", f->ipv4);
	describe_flag(&t, "ipv6", f->ipv6);
	if (f->ifindex)
		text_append(&t, "%sif=%u", item_sep(&t), f->ifindex);
}
