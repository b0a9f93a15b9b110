/* The start-up walk. Sockets go first and owners after, so that every owner record finds
 * its flows in the table; flow_table_set_owner keeps the first owner (a socket shared
 * by several processes shows the first one found, until one of them uses it). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ebpf/hooks.h"
#include "ebpf/walk.h"
#include "ebpf/walk_procfs.h"
#include "ebpf/walk_record.h"
#include "util/report.h"
#include "walk.skel.h"

#define WALK_READ_BYTES (64 * 1024)

struct walk_reader {
	struct flow_table *table;
	uint64_t now_ns;
	unsigned char buf[WALK_READ_BYTES];
	size_t len; /* bytes in buf not yet consumed (a partial record) */
};

/* Reads one iterator to its end, handing each whole record to fn. */
static int walk_iterate(struct walk_reader *w, struct bpf_program *prog, size_t record_size,
			void (*fn)(struct walk_reader *w, const void *record))
{
	struct bpf_link *link = bpf_program__attach_iter(prog, NULL);
	int fd, err = 0;
	ssize_t n;

	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		bpf_link__destroy(link);
		return err;
	}
	w->len = 0;
	while ((n = read(fd, w->buf + w->len, sizeof(w->buf) - w->len)) != 0) {
		size_t off = 0;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		w->len += (size_t)n;
		for (; w->len - off >= record_size; off += record_size)
			fn(w, w->buf + off);
		w->len -= off;
		memmove(w->buf, w->buf + off, w->len);
	}
	close(fd);
	bpf_link__destroy(link);
	return err;
}

static void walk_socket(struct walk_reader *w, const void *record)
{
	struct walk_socket_record r;

	memcpy(&r, record, sizeof(r)); /* records sit at any offset in the buffer */
	walk_record_merge(w->table, &r, w->now_ns);
}

static void walk_owner(struct walk_reader *w, const void *record)
{
	struct walk_owner_record r;

	if (!w->table)
		return;
	memcpy(&r, record, sizeof(r));
	flow_table_set_owner(w->table, r.cookie, r.tgid, r.comm);
}

/* The iterators; -ENOTSUP when they cannot load on this kernel. */
static int ebpf_walk_iterators(struct walk_reader *reader, int flows_fd, int listeners_fd)
{
	struct walk_bpf *skel = walk_bpf__open();
	int err = skel ? bpf_map__reuse_fd(skel->maps.flows, flows_fd) : -ENOMEM;

	if (!err && listeners_fd >= 0) {
		err = bpf_map__reuse_fd(skel->maps.walked_listener_owners, listeners_fd);
		skel->rodata->walk_names_listeners = true;
	}

	if (!err && ebpf_hooks_broken_on_purpose("iterators"))
		ebpf_hooks_break_program(skel->progs.walk_tcp);
	if (!err && walk_bpf__load(skel) < 0)
		err = -ENOTSUP;
	if (err == -ESRCH || err == -ENOENT)
		err = -ENOTSUP;
	if (!err)
		err = walk_iterate(reader, skel->progs.walk_tcp, sizeof(struct walk_socket_record),
				   walk_socket);
	if (!err)
		err = walk_iterate(reader, skel->progs.walk_udp, sizeof(struct walk_socket_record),
				   walk_socket);
	if (!err)
		err = walk_iterate(reader, skel->progs.walk_owners,
				   sizeof(struct walk_owner_record), walk_owner);
	walk_bpf__destroy(skel);
	return err;
}

int ebpf_walk_run(struct flow_table *table, int flows_fd, int listeners_fd, uint64_t now_ns)
{
	struct walk_reader *reader = malloc(sizeof(*reader)); /* too big for a stack */
	int err;

	if (!reader)
		return -ENOMEM;
	reader->table = table;
	reader->now_ns = now_ns;
	flow_table_begin_owner_walk(table);
	err = ebpf_walk_iterators(reader, flows_fd, listeners_fd);
	flow_table_end_owner_walk(table);
	free(reader);
	if (err != -ENOTSUP) {
		report_verbose("start-up walk: BPF iterators (iter/tcp, iter/udp, iter/task_file)");
		return err;
	}
	report_verbose("start-up walk: sock_diag and /proc (the BPF iterators did not load)");
	return procfs_walk_run(table, flows_fd, now_ns);
}

/* One iterator program, read with a reader of its own (too big for a stack). */
static int walk_program(struct flow_table *table, struct bpf_program *prog, size_t record_size,
			void (*fn)(struct walk_reader *w, const void *record))
{
	struct walk_reader *reader = malloc(sizeof(*reader));
	int err;

	if (!reader)
		return -ENOMEM;
	reader->table = table;
	reader->now_ns = 0;
	err = walk_iterate(reader, prog, record_size, fn);
	free(reader);
	return err;
}

int ebpf_walk_owners(struct flow_table *table, struct bpf_program *owners_prog)
{
	int err;

	if (table)
		flow_table_begin_owner_walk(table);
	err = walk_program(table, owners_prog, sizeof(struct walk_owner_record), walk_owner);
	if (table)
		flow_table_end_owner_walk(table);
	return err;
}

static void walk_ignore(struct walk_reader *w, const void *record)
{
	(void)w, (void)record;
}

int ebpf_walk_silently(struct bpf_program *prog)
{
	return walk_program(NULL, prog, 1, walk_ignore);
}
