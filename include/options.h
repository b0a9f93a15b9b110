/* Everything the command line decides, parsed once by cli_parse(). */
#ifndef TCPTOP_OPTIONS_H
#define TCPTOP_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include "metrics/listen_addr.h"
#include "view/columns.h"
#include "view/filter.h"
#include "view/group.h"
#include "output/format.h"

#define DEFAULT_INTERVAL_NS 1000000000ULL
#define MIN_INTERVAL_NS 10000000ULL
#define DEFAULT_MAX_FLOWS 65536
#define DEFAULT_UDP_TIMEOUT_NS 30000000000ULL

/* --hooks: which hook set the eBPF backend loads (include/ebpf_hooks.h). */
enum hook_choice {
	HOOKS_AUTO,   /* the best set that loads */
	HOOKS_MODERN,
	HOOKS_COMPAT,
};

/* --udp-mode: how unconnected UDP sockets' traffic is counted. Per socket the modern set
 * needs no cgroup sock_addr hooks, whose socket lock every addressed datagram pays. */
enum udp_mode {
	UDP_PER_PEER,   /* one flow per socket and peer (the default) */
	UDP_PER_SOCKET, /* one flow per socket */
};

/* The most processes --replay synthetic:N:ACTIVE:PROCS spreads its flows over. */
#define REPLAY_PROCS_MAX 1000000

/* Optional data the eBPF backend gathers only when something shows it (options.wants,
 * filled by main.c from the columns asked for). */
#define WANT_LISTENERS 1 /* the listeners' dump each drain: backlog..., a listener's queues */
#define WANT_ARRIVALS 2  /* recvq: a sample at each data arrival (tp_btf sk_data_ready) */
#define WANT_SEGMENTS 4  /* sendq, cwnd, delivery_rate, limited: at each segment in (tcp_probe) */
#define WANT_CHRONO 8    /* limited: the kernel's jiffies at each drain */
#define WANT_HEALTH 16   /* any health column: flows keep their samples */
#define WANT_ON_DEMAND (WANT_ARRIVALS | WANT_SEGMENTS | WANT_CHRONO)

struct options {
	uint64_t interval_ns;
	uint64_t count; /* snapshots to print, 0 = until interrupted */
	bool batch;
	enum output_format format;
	const char *log_path;    /* NULL = none */
	const char *closed_path; /* --closed, NULL = none */
	struct filter filter;
	const char *interface_name; /* -i, resolved into filter.ifindex */
	int sort_column;            /* enum column_id, COL_RATE by default */
	enum grouping grouping;     /* --group: GROUP_FLOW (no grouping) by default */
	bool columns_from_config;   /* columns_text is tcptoprc's, not -o's */
	bool sort_from_config;      /* sort_column is tcptoprc's, not -s's */
	const char *columns_text;   /* -o as given: applied once the grouping is known */
	struct column_list output_columns; /* -o: what CSV and JSONL write, time first */
	struct column_list view_columns;   /* -o: what the live view shows at start */
	bool no_resolve;
	bool no_mouse; /* --no-mouse: the live view asks for no mouse events */
	int verbose;
	uint32_t max_flows;
	uint64_t udp_timeout_ns;
	const char *write_path; /* -w: record snapshots to this file, NULL = none */
	const char *read_path;  /* -r: replay this recording instead of eBPF, NULL = none */
	const char *begin_time; /* --begin/--end with -r (record/record.h), NULL = none */
	const char *end_time;
	const char *replay_spec; /* --replay: synthetic backend instead of eBPF (tests, bench) */
	enum hook_choice hooks;
	enum udp_mode udp_mode;
	bool show_version; /* -V: print the version and the hook set this kernel takes */
	bool quiet;        /* no live view, nothing on stdout (a service) */
	bool metrics;      /* --metrics: serve /metrics on metrics_addr */
	struct listen_addr metrics_addr;
	uint32_t metrics_top; /* --metrics-top: the busiest flows as series, 0 for none */
	/* The live view's settings at start (tcptoprc, config/tcptoprc.h). */
	bool sort_reverse;
	bool bits;
	bool hide_idle, hide_listen, hide_time_wait;
	double heat[3]; /* bytes/s from which rate cells are cool, warm, hot */
	bool no_config; /* --no-config: tcptoprc neither read nor written */
	bool alert;     /* --alert: rows above alert_bytes_per_s are marked */
	double alert_bytes_per_s;
	unsigned wants; /* WANT_*: set by main.c before the backend opens */
};

#endif
