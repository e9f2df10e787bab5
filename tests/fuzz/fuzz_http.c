/*
 * fuzz_http.c — the HTTP request parser (node/http) on hostile bytes. One
 * server on 127.0.0.1 with small limits answers every request at once from
 * its query and body; each input is written on a fresh connection, which is
 * then half-closed, and the loop runs until the server has answered and
 * closed, so every byte goes through the same code as a real client's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "../../node/http/http_server.h"
#include "fuzz.h"

static uv_loop_t loop;
static http_server *srv;
static int port;

static void handler(void *ud, http_request *req)
{
	(void)ud;
	char *v = NULL;
	size_t vlen = 0;
	if (http_query_get(req, "key", &v) == 0) {
		vlen = strlen(v);
		free(v);
	}
	char out[128];
	int n = snprintf(out, sizeof out, "{\"m\":%zu,\"p\":%zu,\"b\":%zu,\"k\":%zu,\"a\":%d}",
			 strlen(req->method), strlen(req->path), req->body_len, vlen,
			 req->authorization != NULL);
	http_respond(req, req->body_len > 100 ? 413 : 200, NULL, out, (size_t)n);
}

static void start(void)
{
	FUZZ_CHECK(uv_loop_init(&loop) == 0);
	http_server_limits lim = { .max_body = 4096, .max_url = 1024, .max_headers = 2048 };
	char err[256];
	if (http_server_start(&loop, "127.0.0.1:0", &lim, handler, NULL, &srv, err, sizeof err) != 0) {
		fprintf(stderr, "fuzz_http: %s\n", err);
		abort();
	}
	port = http_server_port(srv);
	FUZZ_CHECK(port > 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (srv == NULL)
		start();
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	FUZZ_CHECK(fd >= 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	FUZZ_CHECK(rc == 0 || errno == EINPROGRESS);
	size_t sent = 0;
	bool shut = false, eof = false;
	char buf[4096];
	/* Bounded: a server that neither reads nor answers is a bug (hang). */
	for (int iter = 0; iter < 200000 && !eof; iter++) {
		if (sent < size) {
			ssize_t w = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
			if (w > 0)
				sent += (size_t)w;
			else if (w < 0 && errno != EAGAIN && errno != EINPROGRESS && errno != ENOTCONN)
				sent = size; /* the server closed on us: fine */
		}
		if (sent == size && !shut) {
			shut = shutdown(fd, SHUT_WR) == 0 || errno != ENOTCONN;
		}
		(void)uv_run(&loop, UV_RUN_NOWAIT);
		ssize_t r = recv(fd, buf, sizeof buf, 0);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != ENOTCONN))
			eof = true;
	}
	FUZZ_CHECK(eof);
	FUZZ_CHECK(close(fd) == 0);
	(void)uv_run(&loop, UV_RUN_NOWAIT);
	return 0;
}
