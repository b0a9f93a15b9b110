/* close_race SECONDS THREADS: connections on 127.0.0.1 closed by a reset from the server
 * while their client thread is still sending, over and over, from THREADS threads at
 * once. The close arrives in softirq on one CPU while a send is being counted on another:
 * the window in which a socket without a slot could take one after its close (issue
 * "slot leak"). Prints {"port": P, "connections": N} when done; every socket is closed by
 * then. SIGPIPE is ignored: a send after the reset fails with EPIPE or ECONNRESET. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in server_addr;
static int listener;
static atomic_bool stopping;
static atomic_long connections;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Reads a little of each connection, then resets it (SO_LINGER 0). */
static void *serve(void *arg)
{
	struct linger reset = { .l_onoff = 1, .l_linger = 0 };
	char buf[512];

	(void)arg;
	for (;;) {
		int fd = accept(listener, NULL, NULL);

		if (fd < 0) {
			if (atomic_load(&stopping))
				return NULL;
			continue;
		}
		(void)!recv(fd, buf, sizeof(buf), 0);
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
		close(fd);
	}
}

/* Sends until the reset makes a send fail, then closes; again until the time is up. */
static void *client(void *arg)
{
	char buf[256];

	(void)arg;
	memset(buf, 'r', sizeof(buf));
	while (!atomic_load(&stopping)) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&server_addr, sizeof(server_addr)) < 0)
			die("connect");
		while (send(fd, buf, sizeof(buf), MSG_NOSIGNAL) > 0)
			;
		close(fd);
		atomic_fetch_add(&connections, 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	socklen_t len = sizeof(server_addr);
	int seconds = argc > 1 ? atoi(argv[1]) : 3, threads = argc > 2 ? atoi(argv[2]) : 8;
	pthread_t server, clients[64];

	signal(SIGPIPE, SIG_IGN);
	if (threads < 1 || threads > 64)
		threads = 8;
	server_addr.sin_family = AF_INET;
	server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listener = socket(AF_INET, SOCK_STREAM, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&server_addr, len) < 0 ||
	    listen(listener, 512) < 0 ||
	    getsockname(listener, (struct sockaddr *)&server_addr, &len) < 0)
		die("listener");
	pthread_create(&server, NULL, serve, NULL);
	for (int i = 0; i < threads; i++)
		pthread_create(&clients[i], NULL, client, NULL);
	sleep((unsigned)seconds);
	atomic_store(&stopping, true);
	for (int i = 0; i < threads; i++)
		pthread_join(clients[i], NULL);
	shutdown(listener, SHUT_RDWR);
	pthread_join(server, NULL);
	close(listener);
	printf("{\"port\": %u, \"connections\": %ld}\n", ntohs(server_addr.sin_port),
	       atomic_load(&connections));
	return 0;
}
