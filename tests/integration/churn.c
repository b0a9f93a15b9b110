/* churn COUNT [RATE [announce]]: COUNT short TCP connections on 127.0.0.1, as fast as one client and
 * one server thread go (or at most RATE per second): each carries 64 bytes each way, is
 * closed by the server first, then reset by the client (no TIME_WAIT socket is left to
 * outlast the test: 20000 of them would crowd every later test's host). Prints {"port": P, "count": COUNT, "pid":
 * PID, "seconds": S} once done, for the closed-log test to check every connection against;
 * with "announce", {"listening": P} first, for a test that watches while it runs.
 * Python makes about 1.5k connections a second; this makes 10k. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MESSAGE 64

static int listener;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void exchange(int fd, int first)
{
	char buf[MESSAGE] = { 'x' };
	size_t got = 0;
	ssize_t n;

	if (first && send(fd, buf, sizeof(buf), 0) != MESSAGE)
		die("send");
	while (got < MESSAGE && (n = recv(fd, buf + got, MESSAGE - got, 0)) > 0)
		got += (size_t)n;
	if (got != MESSAGE)
		die("recv");
	if (!first && send(fd, buf, sizeof(buf), 0) != MESSAGE)
		die("send");
}

static void *serve(void *arg)
{
	long count = (long)arg;

	for (long i = 0; i < count; i++) {
		int fd = accept(listener, NULL, NULL);

		if (fd < 0)
			die("accept");
		exchange(fd, 0);
		close(fd);
	}
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	long count = argc > 1 ? atol(argv[1]) : 1000;
	double rate = argc > 2 ? atof(argv[2]) : 0, start;
	struct linger reset = { .l_onoff = 1, .l_linger = 0 };
	pthread_t server;
	char eof;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listener = socket(AF_INET, SOCK_STREAM, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(listener, 128) < 0 || getsockname(listener, (struct sockaddr *)&addr, &len) < 0)
		die("listener");
	if (argc > 3 && strcmp(argv[3], "announce") == 0) {
		printf("{\"listening\": %u}\n", ntohs(addr.sin_port));
		fflush(stdout);
	}
	pthread_create(&server, NULL, serve, (void *)count);
	start = now();
	for (long i = 0; i < count; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			die("connect");
		exchange(fd, 1);
		if (recv(fd, &eof, 1, 0) != 0) /* the server's close */
			die("more than the answer");
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
		close(fd);
		while (rate > 0 && now() - start < (double)(i + 1) / rate)
			usleep(100);
	}
	pthread_join(server, NULL);
	printf("{\"port\": %u, \"count\": %ld, \"pid\": %d, \"seconds\": %.3f}\n",
	       ntohs(addr.sin_port), count, (int)getpid(), now() - start);
	return 0;
}
