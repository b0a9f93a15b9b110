/* Loopback load generators for make bench: loadgen MODE SECONDS.
 *   rr     64 TCP connections, 64-byte request and 64-byte response; transactions/s
 *   bulk   one TCP stream of 64 KiB writes; bytes/s
 *   churn  connect, 64 bytes each way, close; connections/s
 *   udp    unconnected sockets, sendto/recvfrom of 64-byte datagrams, 16 in flight;
 *          round trips/s (each one datagram out and one back)
 * and loadgen idle SECONDS COUNT: COUNT TCP connections that each carry one message, then
 * stay idle; prints "ready" once they exist and exits after SECONDS.
 * Prints "rate R" (per second, measured after a 0.3 s warm-up) on stdout. Traffic stays on
 * 127.0.0.1; every loop ends when the time is up. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RR_CONNECTIONS 64
#define MESSAGE_BYTES 64
#define BULK_CHUNK (64 * 1024)
#define UDP_IN_FLIGHT 16

static atomic_bool stopping;
static atomic_uint_fast64_t done_ops;

static void die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* A blocking call on fd returns within 100 ms, so every loop sees the stop flag. */
static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int tcp_listener(uint16_t *port)
{
	struct sockaddr_in a = loopback(0);
	socklen_t len = sizeof(a);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1024) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		die("listen");
	set_timeouts(fd);
	*port = ntohs(a.sin_port);
	return fd;
}

static int tcp_connect(uint16_t port)
{
	struct sockaddr_in a = loopback(port);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	set_timeouts(fd);
	return fd;
}

/* Reads exactly n bytes; -1 on timeout-at-stop, error or end of stream. */
static int read_full(int fd, char *buf, size_t n)
{
	size_t have = 0;
	ssize_t r;

	while (have < n) {
		r = recv(fd, buf + have, n - have, 0);
		if (r > 0) {
			have += (size_t)r;
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR) && !atomic_load(&stopping))
			continue;
		return -1;
	}
	return 0;
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- request/response: both sides epoll over their 64 connections ---- */

struct rr_side {
	int fds[RR_CONNECTIONS];
	int is_client;
};

static void *rr_loop(void *arg)
{
	struct rr_side *side = arg;
	struct epoll_event ev, events[RR_CONNECTIONS];
	char buf[MESSAGE_BYTES];
	int ep = epoll_create1(EPOLL_CLOEXEC), i, n;

	if (ep < 0)
		die("epoll_create1");
	for (i = 0; i < RR_CONNECTIONS; i++) {
		ev.events = EPOLLIN;
		ev.data.fd = side->fds[i];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, side->fds[i], &ev) < 0)
			die("epoll_ctl");
	}
	while (!atomic_load(&stopping)) {
		n = epoll_wait(ep, events, RR_CONNECTIONS, 100);
		for (i = 0; i < n; i++) {
			if (read_full(events[i].data.fd, buf, sizeof(buf)) < 0)
				goto out;
			if (side->is_client)
				atomic_fetch_add(&done_ops, 1);
			if (send(events[i].data.fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
				goto out;
		}
	}
out:
	atomic_store(&stopping, true);
	close(ep);
	return NULL;
}

static void rr_start(pthread_t threads[2])
{
	static struct rr_side client = { .is_client = 1 }, server;
	char request[MESSAGE_BYTES] = { 'q' };
	uint16_t port;
	int lfd = tcp_listener(&port), i;

	for (i = 0; i < RR_CONNECTIONS; i++) {
		client.fds[i] = tcp_connect(port);
		server.fds[i] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (server.fds[i] < 0)
			die("accept");
		set_timeouts(server.fds[i]);
		if (send(client.fds[i], request, sizeof(request), 0) < 0)
			die("send");
	}
	close(lfd);
	pthread_create(&threads[0], NULL, rr_loop, &server);
	pthread_create(&threads[1], NULL, rr_loop, &client);
}

/* ---- bulk: one stream, a writer thread and a reader thread ---- */

static int bulk_fds[2];

static void *bulk_writer(void *arg)
{
	static char buf[BULK_CHUNK];

	(void)arg;
	while (!atomic_load(&stopping))
		if (send(bulk_fds[0], buf, sizeof(buf), 0) < 0 && errno != EAGAIN)
			break;
	return NULL;
}

static void *bulk_reader(void *arg)
{
	static char buf[BULK_CHUNK];
	ssize_t r;

	(void)arg;
	while (!atomic_load(&stopping)) {
		r = recv(bulk_fds[1], buf, sizeof(buf), 0);
		if (r > 0)
			atomic_fetch_add(&done_ops, (uint64_t)r);
		else if (r == 0 || errno != EAGAIN)
			break;
	}
	return NULL;
}

static void bulk_start(pthread_t threads[2])
{
	uint16_t port;
	int lfd = tcp_listener(&port);

	bulk_fds[0] = tcp_connect(port);
	bulk_fds[1] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (bulk_fds[1] < 0)
		die("accept");
	set_timeouts(bulk_fds[1]);
	close(lfd);
	pthread_create(&threads[0], NULL, bulk_reader, NULL);
	pthread_create(&threads[1], NULL, bulk_writer, NULL);
}

/* ---- churn: one connection at a time; the client resets, so no TIME_WAIT piles up ---- */

static int churn_listener;
static uint16_t churn_port;

static void *churn_server(void *arg)
{
	char buf[MESSAGE_BYTES];
	int fd;

	(void)arg;
	while (!atomic_load(&stopping)) {
		fd = accept4(churn_listener, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		set_timeouts(fd);
		if (read_full(fd, buf, sizeof(buf)) == 0)
			send(fd, buf, sizeof(buf), 0);
		close(fd);
	}
	return NULL;
}

static void *churn_client(void *arg)
{
	struct linger reset = { .l_onoff = 1, .l_linger = 0 };
	char buf[MESSAGE_BYTES] = { 'c' };
	int fd;

	(void)arg;
	while (!atomic_load(&stopping)) {
		fd = tcp_connect(churn_port);
		if (send(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) &&
		    read_full(fd, buf, sizeof(buf)) == 0)
			atomic_fetch_add(&done_ops, 1);
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
		close(fd);
	}
	return NULL;
}

static void churn_start(pthread_t threads[2])
{
	churn_listener = tcp_listener(&churn_port);
	pthread_create(&threads[0], NULL, churn_server, NULL);
	pthread_create(&threads[1], NULL, churn_client, NULL);
}

/* ---- udp: unconnected sockets, so the per-peer (sendmsg/recvmsg) hooks run too ---- */

static int udp_fds[2];
static struct sockaddr_in udp_addrs[2];

static int udp_socket(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	*addr = loopback(0);
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, sizeof(*addr)) < 0 ||
	    getsockname(fd, (struct sockaddr *)addr, &len) < 0)
		die("udp socket");
	set_timeouts(fd);
	return fd;
}

/* Side 0 is the client (counts round trips), side 1 echoes. */
static void *udp_loop(void *arg)
{
	int side = (int)(intptr_t)arg;
	struct sockaddr_in from, *peer = &udp_addrs[!side];
	char buf[MESSAGE_BYTES] = { 'u' };
	socklen_t len;
	int i;

	if (side == 0)
		for (i = 0; i < UDP_IN_FLIGHT; i++)
			sendto(udp_fds[0], buf, sizeof(buf), 0, (struct sockaddr *)peer,
			       sizeof(*peer));
	while (!atomic_load(&stopping)) {
		len = sizeof(from);
		if (recvfrom(udp_fds[side], buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) <
		    0)
			continue;
		if (side == 0)
			atomic_fetch_add(&done_ops, 1);
		sendto(udp_fds[side], buf, sizeof(buf), 0, (struct sockaddr *)peer, sizeof(*peer));
	}
	return NULL;
}

static void udp_start(pthread_t threads[2])
{
	udp_fds[0] = udp_socket(&udp_addrs[0]);
	udp_fds[1] = udp_socket(&udp_addrs[1]);
	pthread_create(&threads[0], NULL, udp_loop, (void *)(intptr_t)1);
	pthread_create(&threads[1], NULL, udp_loop, (void *)(intptr_t)0);
}

static void hold_idle_connections(double seconds, long count)
{
	char msg[MESSAGE_BYTES] = { 'i' };
	uint16_t port;
	int lfd = tcp_listener(&port), fd, peer;
	long i;

	for (i = 0; i < count; i++) {
		fd = tcp_connect(port);
		peer = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (peer < 0 || send(fd, msg, sizeof(msg), 0) < 0 ||
		    read_full(peer, msg, sizeof(msg)) < 0)
			die("idle connection");
	}
	printf("ready\n");
	fflush(stdout);
	sleep_s(seconds);
}

static const struct {
	const char *name;
	void (*start)(pthread_t threads[2]);
} modes[] = {
	{ "rr", rr_start },
	{ "bulk", bulk_start },
	{ "churn", churn_start },
	{ "udp", udp_start },
};

int main(int argc, char **argv)
{
	struct rlimit nofile = { 65536, 65536 };
	pthread_t threads[2];
	double seconds, t0, t1;
	uint64_t ops0, ops1;
	size_t i;

	if (argc < 3 || argc > 4 || (seconds = atof(argv[2])) <= 0 || seconds > 3600) {
		fprintf(stderr, "usage: loadgen rr|bulk|churn|udp SECONDS | idle SECONDS COUNT\n");
		return 2;
	}
	setrlimit(RLIMIT_NOFILE, &nofile);
	if (argc == 4 && strcmp(argv[1], "idle") == 0 && seconds > 0 && atol(argv[3]) > 0) {
		hold_idle_connections(seconds, atol(argv[3]));
		return 0;
	}
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(argv[1], modes[i].name) == 0)
			break;
	if (i == sizeof(modes) / sizeof(modes[0])) {
		fprintf(stderr, "loadgen: unknown mode '%s'\n", argv[1]);
		return 2;
	}
	modes[i].start(threads);
	sleep_s(0.3);
	t0 = now_s();
	ops0 = atomic_load(&done_ops);
	sleep_s(seconds);
	t1 = now_s();
	ops1 = atomic_load(&done_ops);
	atomic_store(&stopping, true);
	pthread_join(threads[0], NULL);
	pthread_join(threads[1], NULL);
	printf("rate %.1f\n", (double)(ops1 - ops0) / (t1 - t0));
	return 0;
}
