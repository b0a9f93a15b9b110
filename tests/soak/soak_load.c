/* soak_load SECONDS RATE BULK_MBPS UDP_PEERS_PER_S: the soak's load on 127.0.0.1, for
 * SECONDS:
 * - short TCP connections at RATE a second in all, from two client threads: each carries
 *   64 bytes each way, is closed by the server first, then reset by the client (no
 *   TIME_WAIT socket is left behind);
 * - two long-lived TCP flows carrying BULK_MBPS MB/s each, closed at the end;
 * - UDP peers appearing and going idle: UDP_PEERS_PER_S new client sockets a second, each
 *   sending three 100-byte datagrams to one server socket that answers each.
 * Prints one JSON object when done: the ports, counts and bytes the soak checks the log
 * against. Every socket of the load is closed by then. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MESSAGE 64
#define CLIENTS 2
#define BULK_FLOWS 2
#define BULK_CHUNK (64 * 1024)
#define DATAGRAM 100
#define DATAGRAMS_PER_PEER 3

static double seconds, rate, bulk_mbps, udp_rate;
static double start;
static atomic_bool stopping;
static atomic_long short_done;
static atomic_long udp_peers;
static atomic_llong bulk_sent;
static int listener, bulk_listener, udp_server;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps until `due` (monotonic seconds) if it is ahead: paces a loop to a rate. */
static void wait_until(double due)
{
	double left = due - now();

	if (left > 0) {
		struct timespec ts = { (time_t)left, (long)((left - (time_t)left) * 1e9) };

		nanosleep(&ts, NULL);
	}
}

static int bound_listener(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 512) < 0)
		die("listener");
	return fd;
}

static struct sockaddr_in local_name(int fd)
{
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);

	if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0)
		die("getsockname");
	return addr;
}

static void read_exactly(int fd, char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n && (r = recv(fd, buf + got, n - got, 0)) > 0)
		got += (size_t)r;
	if (got != n)
		die("recv");
}

/* ------------------------------------------------------------ short connections */

static void *short_server(void *arg)
{
	char buf[MESSAGE];

	(void)arg;
	for (;;) {
		int fd = accept(listener, NULL, NULL);

		if (fd < 0) {
			if (atomic_load(&stopping))
				return NULL;
			die("accept");
		}
		read_exactly(fd, buf, MESSAGE);
		if (send(fd, buf, MESSAGE, 0) != MESSAGE)
			die("send");
		close(fd);
	}
}

static void *short_client(void *arg)
{
	struct sockaddr_in addr = local_name(listener);
	struct linger reset = { .l_onoff = 1, .l_linger = 0 };
	double each = CLIENTS / rate;
	char buf[MESSAGE] = { 'x' }, eof;

	(void)arg;
	for (long i = 0; now() - start < seconds; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			die("connect");
		if (send(fd, buf, MESSAGE, 0) != MESSAGE)
			die("send");
		read_exactly(fd, buf, MESSAGE);
		if (recv(fd, &eof, 1, 0) != 0) /* the server's close */
			die("more than the answer");
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
		close(fd);
		atomic_fetch_add(&short_done, 1);
		wait_until(start + (double)(i + 1) * each);
	}
	return NULL;
}

/* ------------------------------------------------------------ bulk flows */

static void *bulk_reader(void *arg)
{
	int fd = (int)(long)arg;
	static char sink[BULK_CHUNK];

	while (recv(fd, sink, sizeof(sink), 0) > 0)
		;
	close(fd);
	return NULL;
}

static void *bulk_writer(void *arg)
{
	struct sockaddr_in addr = local_name(bulk_listener);
	static char chunk[BULK_CHUNK];
	double each = BULK_CHUNK / (bulk_mbps * 1e6);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)arg;
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("bulk connect");
	for (long i = 0; now() - start < seconds; i++) {
		if (send(fd, chunk, sizeof(chunk), 0) != (ssize_t)sizeof(chunk))
			die("bulk send");
		atomic_fetch_add(&bulk_sent, sizeof(chunk));
		wait_until(start + (double)(i + 1) * each);
	}
	close(fd);
	return NULL;
}

/* ------------------------------------------------------------ UDP peers */

static void *udp_answer(void *arg)
{
	char buf[DATAGRAM];
	struct sockaddr_in peer;
	socklen_t len;

	(void)arg;
	for (;;) {
		ssize_t n;

		len = sizeof(peer);
		n = recvfrom(udp_server, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &len);
		if (n < 0) {
			if (atomic_load(&stopping))
				return NULL;
			if (errno == EINTR)
				continue;
			die("udp recvfrom");
		}
		if (n == 0 && atomic_load(&stopping))
			return NULL;
		sendto(udp_server, buf, (size_t)n, 0, (struct sockaddr *)&peer, len);
	}
}

static void *udp_peers_come_and_go(void *arg)
{
	struct sockaddr_in addr = local_name(udp_server);
	char buf[DATAGRAM] = { 'u' };

	(void)arg;
	for (long i = 0; now() - start < seconds; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		if (fd < 0)
			die("udp socket");
		for (int d = 0; d < DATAGRAMS_PER_PEER; d++) {
			if (sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&addr,
				   sizeof(addr)) != DATAGRAM)
				die("udp sendto");
			if (recv(fd, buf, sizeof(buf), 0) != DATAGRAM)
				die("udp recv");
		}
		close(fd);
		atomic_fetch_add(&udp_peers, 1);
		wait_until(start + (double)(i + 1) / udp_rate);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t servers[CLIENTS], clients[CLIENTS], writers[BULK_FLOWS], readers[BULK_FLOWS];
	pthread_t answer, peers;
	struct sockaddr_in udp_addr = { .sin_family = AF_INET };
	unsigned short_port, bulk_port, udp_port; /* read now: a closed listener has none */

	if (argc != 5)
		die("usage: soak_load SECONDS RATE BULK_MBPS UDP_PEERS_PER_S");
	seconds = atof(argv[1]);
	rate = atof(argv[2]);
	bulk_mbps = atof(argv[3]);
	udp_rate = atof(argv[4]);
	if (seconds <= 0 || rate <= 0 || bulk_mbps <= 0 || udp_rate <= 0)
		die("soak_load: every argument must be positive");
	listener = bound_listener();
	bulk_listener = bound_listener();
	udp_server = socket(AF_INET, SOCK_DGRAM, 0);
	udp_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (udp_server < 0 || bind(udp_server, (struct sockaddr *)&udp_addr, sizeof(udp_addr)) < 0)
		die("udp server");

	short_port = ntohs(local_name(listener).sin_port);
	bulk_port = ntohs(local_name(bulk_listener).sin_port);
	udp_port = ntohs(local_name(udp_server).sin_port);

	start = now();
	pthread_create(&answer, NULL, udp_answer, NULL);
	pthread_create(&peers, NULL, udp_peers_come_and_go, NULL);
	for (int i = 0; i < BULK_FLOWS; i++) {
		pthread_create(&writers[i], NULL, bulk_writer, NULL);
		int fd = accept(bulk_listener, NULL, NULL);

		if (fd < 0)
			die("bulk accept");
		pthread_create(&readers[i], NULL, bulk_reader, (void *)(long)fd);
	}
	for (int i = 0; i < CLIENTS; i++) {
		pthread_create(&servers[i], NULL, short_server, NULL);
		pthread_create(&clients[i], NULL, short_client, NULL);
	}
	for (int i = 0; i < CLIENTS; i++)
		pthread_join(clients[i], NULL);
	atomic_store(&stopping, true);
	/* Wakes the servers blocked in accept and the UDP server in recvfrom. */
	shutdown(listener, SHUT_RDWR);
	shutdown(udp_server, SHUT_RDWR);
	for (int i = 0; i < CLIENTS; i++)
		pthread_join(servers[i], NULL);
	pthread_join(peers, NULL);
	pthread_join(answer, NULL);
	for (int i = 0; i < BULK_FLOWS; i++) {
		pthread_join(writers[i], NULL);
		pthread_join(readers[i], NULL);
	}
	printf("{\"short_port\": %u, \"short_connections\": %ld, \"bulk_port\": %u, "
	       "\"bulk_bytes\": %lld, \"udp_port\": %u, \"udp_peers\": %ld, \"pid\": %d, "
	       "\"seconds\": %.3f}\n",
	       short_port, atomic_load(&short_done), bulk_port, atomic_load(&bulk_sent), udp_port,
	       atomic_load(&udp_peers), (int)getpid(), now() - start);
	close(listener);
	close(bulk_listener);
	close(udp_server);
	return 0;
}
