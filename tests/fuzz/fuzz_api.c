/*
 * fuzz_api.c — the JSON bodies of the node's endpoints, end to end: a
 * one-node cluster runs in a thread of this process (data on tmpfs when
 * there is one) and each input is sent as the body of one request; the first
 * byte picks the endpoint. The node must answer (any status) and still
 * answer /healthz afterwards: never crash, hang or leak (ASan watches).
 * Fault endpoints that stop the node (pause, crash, disk) are left out.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../../node/server/config.h"
#include "../../node/server/server.h"
#include "fuzz.h"

static const struct {
	const char *method, *path;
	bool heal; /* a fault was maybe set: clear it afterwards */
} endpoints[] = {
	{ "POST", "/kv/k/cas", false },
	{ "POST", "/txn", false },
	{ "POST", "/admin/transfer", false },
	{ "POST", "/admin/faults/partition", true },
	{ "POST", "/admin/faults/net", true },
	{ "POST", "/admin/faults/clock", true },
	{ "POST", "/admin/bugs", true },
	{ "PUT", "/kv/k", false },
	{ "POST", "/kv/k", false },
	{ "GET", "/kv/k", false },
};
#define N_ENDPOINTS (sizeof endpoints / sizeof endpoints[0])

static int http_port;
static node_config cfg;

static void *run_node(void *arg)
{
	(void)arg;
	(void)server_run(&cfg);
	return NULL;
}

/* libFuzzer's -timeout watchdog is a SIGALRM every few seconds, installed
 * without SA_RESTART (and a socket with SO_RCVTIMEO is never restarted
 * anyway): a recv, send or connect it lands in fails with EINTR. Taken for
 * a dead node, that stopped `make fuzz` once (build/fuzz/api.log: "no status
 * line: 0 bytes, then Interrupted system call"). So each is retried. */
static ssize_t send_all(int fd, const void *p, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t w = send(fd, (const char *)p + done, len - done, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return (ssize_t)done;
}

/* connect, which an interrupting signal leaves going on in the background:
 * then wait for it to finish and take its outcome from SO_ERROR. */
static int connect_retry(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINTR)
		return -1;
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int r;
	while ((r = poll(&pfd, 1, 60000)) < 0 && errno == EINTR)
		;
	if (r <= 0)
		return -1;
	int soerr = 0;
	socklen_t sl = sizeof soerr;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		return -1;
	if (soerr != 0) {
		errno = soerr;
		return -1;
	}
	return 0;
}

/* Why the last request() got no status (for the report when a check fails:
 * a stop that cannot be explained afterwards is worth little). */
static char why[256];

/* One request on a fresh connection; returns the status, or -1 (why says). */
static int request(const char *method, const char *path, const uint8_t *body, size_t len)
{
	why[0] = '\0';
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		snprintf(why, sizeof why, "socket: %s", strerror(errno));
		return -1;
	}
	/* Generous: under `make fuzz` at low priority on a loaded machine a
	 * request can wait seconds for the CPU (a 10 s limit gave false alarms). */
	struct timeval tv = { .tv_sec = 60 };
	FUZZ_CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)http_port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect_retry(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		snprintf(why, sizeof why, "connect to port %d: %s", http_port, strerror(errno));
		close(fd);
		return -1;
	}
	char head[256];
	int n = snprintf(head, sizeof head,
			 "%s %s HTTP/1.1\r\nHost: f\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n",
			 method, path, len);
	int status = -1;
	if (send_all(fd, head, (size_t)n) != n) {
		snprintf(why, sizeof why, "send of the head: %s", strerror(errno));
	} else if (len > 0 && send_all(fd, body, len) != (ssize_t)len) {
		snprintf(why, sizeof why, "send of the %zu-byte body: %s", len, strerror(errno));
	} else {
		/* The status line may arrive in pieces. */
		char buf[512];
		size_t got = 0;
		int err = 0;
		while (got < sizeof buf - 1 && memchr(buf, '\n', got) == NULL) {
			ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				err = r < 0 ? errno : 0;
				break;
			}
			got += (size_t)r;
		}
		buf[got] = '\0';
		if (sscanf(buf, "HTTP/1.1 %d", &status) != 1) {
			status = -1;
			snprintf(why, sizeof why, "no status line: %zu bytes (%.40s), then %s", got, buf,
				 err ? strerror(err) : "end of stream");
		}
	}
	close(fd);
	return status;
}

/* A request whose status must be `want`: else says what came instead. */
static void expect_status(const char *method, const char *path, int want)
{
	int st = request(method, path, NULL, 0);
	if (st == want)
		return;
	fprintf(stderr, "fuzz_api: %s %s: %d, not %d%s%s\n", method, path, st, want,
		why[0] ? ": " : "", why);
	abort();
}

/* Two loopback ports the kernel says are free now (both sockets are bound
 * before either closes, so they differ): a port derived from the pid can
 * collide with another process's ephemeral port, as seen in make test. The
 * moment between close and the node's bind is a small race that remains. */
static void free_ports(int *p1, int *p2)
{
	int fds[2];
	int *out[2] = { p1, p2 };
	for (int i = 0; i < 2; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		FUZZ_CHECK(fds[i] >= 0);
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		socklen_t len = sizeof sa;
		FUZZ_CHECK(bind(fds[i], (struct sockaddr *)&sa, sizeof sa) == 0);
		FUZZ_CHECK(getsockname(fds[i], (struct sockaddr *)&sa, &len) == 0);
		*out[i] = ntohs(sa.sin_port);
	}
	FUZZ_CHECK(close(fds[0]) == 0);
	FUZZ_CHECK(close(fds[1]) == 0);
}

static void start_node(void)
{
	static char dir[64], http[32], cluster[64];
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof dir, "%s/raftkv-fuzz-api-XXXXXX", base);
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	int raft_port;
	free_ports(&http_port, &raft_port);
	snprintf(http, sizeof http, "127.0.0.1:%d", http_port);
	snprintf(cluster, sizeof cluster, "0,127.0.0.1:%d", raft_port);
	const char *argv[] = { "raftkv", "--node", "0", "--http", http, "--cluster", cluster,
			       "--data-dir", dir, "--enable-faults", "--request-timeout-ms", "500",
			       "--max-value-bytes", "65536" };
	char err[256];
	if (config_parse((int)(sizeof argv / sizeof argv[0]), (char **)argv, &cfg, err, sizeof err) != 0) {
		fprintf(stderr, "fuzz_api: %s\n", err);
		abort();
	}
	/* SIGTERM and SIGINT are the fuzzer's (its time limit, Ctrl-C): were the
	 * node to take them, it would stop, the next check would fail and the
	 * input running then would be saved as a crash that passes alone. That
	 * is what stopped a long run once (crashes/api/crash-9f3bed4e...). */
	cfg.host_keeps_signals = true;
	pthread_t th;
	FUZZ_CHECK(pthread_create(&th, NULL, run_node, NULL) == 0);
	FUZZ_CHECK(pthread_detach(th) == 0);
	/* wait until it serves and leads: 5 s by the clock, since a signal
	 * cuts each sleep short */
	struct timespec t0, now;
	FUZZ_CHECK(clock_gettime(CLOCK_MONOTONIC, &t0) == 0);
	do {
		if (request("PUT", "/kv/ready", (const uint8_t *)"1", 1) == 200)
			return;
		usleep(10000);
		FUZZ_CHECK(clock_gettime(CLOCK_MONOTONIC, &now) == 0);
	} while (now.tv_sec - t0.tv_sec < 5);
	fprintf(stderr, "fuzz_api: the node did not come up on port %d\n", http_port);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (http_port == 0)
		start_node();
	if (size == 0)
		return 0;
	size_t e = data[0] % N_ENDPOINTS;
	int st = request(endpoints[e].method, endpoints[e].path, data + 1, size - 1);
	if (st < 200 || st >= 600) {
		fprintf(stderr, "fuzz_api: %s %s with a %zu-byte body: %d: %s\n", endpoints[e].method,
			endpoints[e].path, size - 1, st, why);
		abort();
	}
	if (endpoints[e].heal)
		expect_status("DELETE", "/admin/faults", 200);
	if (e == 6)
		expect_status("DELETE", "/admin/bugs", 200);
	expect_status("GET", "/healthz", 200);
	return 0;
}
