/* wlhttp.c — the workload's keep-alive HTTP/1.1 client (see wlhttp.h). */
#include "wlhttp.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Larger answers are refused (the node's values are at most a few MiB). */
#define WH_MAX_RESPONSE ((size_t)256 << 20)
/* A response head larger than this is not from our node. */
#define WH_MAX_HEAD ((size_t)64 << 10)

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

int wh_target_parse(wh_target *t, const char *url, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	if (strncmp(url, "http://", 7) != 0) {
		snprintf(err, errlen, "%s: not an http:// URL", url);
		return -1;
	}
	const char *hp = url + 7;
	const char *slash = strchr(hp, '/');
	size_t hp_len = slash ? (size_t)(slash - hp) : strlen(hp);
	const char *colon = memchr(hp, ':', hp_len);
	if (hp_len == 0 || (colon != NULL && (colon == hp || colon + 1 == hp + hp_len))) {
		snprintf(err, errlen, "%s: expected http://host[:port]", url);
		return -1;
	}
	size_t host_len = colon ? (size_t)(colon - hp) : hp_len;
	t->host = dup_n(hp, host_len);
	t->port = colon ? dup_n(colon + 1, hp_len - host_len - 1) : dup_n("80", 2);
	t->hostport = dup_n(hp, hp_len);
	t->prefix = slash ? dup_n(slash, strlen(slash)) : dup_n("", 0);
	if (t->host == NULL || t->port == NULL || t->hostport == NULL || t->prefix == NULL) {
		wh_target_free(t);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* http_urls_parse strips trailing slashes already; be sure anyway. */
	size_t pl = strlen(t->prefix);
	while (pl > 0 && t->prefix[pl - 1] == '/')
		t->prefix[--pl] = '\0';
	return 0;
}

void wh_target_free(wh_target *t)
{
	free(t->host);
	free(t->port);
	free(t->hostport);
	free(t->prefix);
	memset(t, 0, sizeof *t);
}

void wh_init(wh_conn *h)
{
	memset(h, 0, sizeof *h);
	h->fd = -1;
}

static void conn_close(wh_conn *h)
{
	if (h->fd >= 0)
		close(h->fd); /* also removes it from the epoll set */
	h->fd = -1;
	h->state = WH_IDLE;
}

void wh_free(wh_conn *h)
{
	conn_close(h);
	bytebuf_free(&h->out);
	bytebuf_free(&h->in);
	wh_init(h);
}

/* Ends the request with no answer. */
static int fail(wh_conn *h, int not_sent, const char *what, int e)
{
	if (e != 0)
		snprintf(h->err, sizeof h->err, "%s: %s", what, strerror(e));
	else
		snprintf(h->err, sizeof h->err, "%s", what);
	h->status = 0;
	h->not_sent = not_sent;
	conn_close(h);
	return 1;
}

void wh_abort(wh_conn *h, const char *why)
{
	fail(h, 0, why, 0);
}

const char *wh_body(const wh_conn *h)
{
	if (h->status == 0 || h->in.data == NULL)
		return "";
	return (const char *)h->in.data + h->body_off;
}

static int resolve(wh_target *t)
{
	if (t->addr_len != 0)
		return 0;
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(t->host, t->port, &hints, &res);
	if (rc != 0 || res == NULL)
		return -1;
	if (res->ai_addrlen > sizeof t->addr) {
		freeaddrinfo(res);
		return -1;
	}
	memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
	t->addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Sends what is left of the request. 1 = the request ended (failure),
 * 0 otherwise. */
static int do_send(wh_conn *h)
{
	while (h->out_off < h->out.len) {
		ssize_t n = send(h->fd, h->out.data + h->out_off, h->out.len - h->out_off,
				 MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				h->state = WH_SENDING;
				return 0;
			}
			return fail(h, 0, "send failed", errno);
		}
		h->out_off += (size_t)n;
	}
	h->state = WH_RECEIVING;
	return 0;
}

static int open_conn(wh_conn *h, int epfd, wh_target *t, void *owner)
{
	if (resolve(t) != 0)
		return fail(h, 1, "Could not resolve host", 0);
	int fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(h, 1, "socket", errno);
	h->fd = fd;
	h->new_conn = 1;
	int one = 1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
		return fail(h, 1, "setsockopt", errno);
	/* Edge-triggered, registered once for the connection's life: reads
	 * always drain to EAGAIN and writes retry until EAGAIN. */
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
				 .data.ptr = owner};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return fail(h, 1, "epoll_ctl", errno);
	if (connect(fd, (const struct sockaddr *)&t->addr, t->addr_len) != 0) {
		if (errno == EINPROGRESS) {
			h->state = WH_CONNECTING;
			return 0;
		}
		int e = errno;
		t->addr_len = 0; /* resolve again next time */
		/* Nothing was sent on a connection that never opened. */
		return fail(h, 1, "Couldn't connect to server", e);
	}
	return do_send(h);
}

int wh_start(wh_conn *h, int epfd, wh_target *t, void *owner, const char *method,
	     const char *path, const char *ctype, const char *body, size_t body_len)
{
	h->out.len = 0;
	h->out_off = 0;
	h->in.len = 0;
	h->scanned = 0;
	h->body_off = 0;
	h->body_len = 0;
	h->has_len = 0;
	h->close_after = 0;
	h->status = 0;
	h->not_sent = 0;
	h->err[0] = '\0';
	char cl[64];
	int bad = bytebuf_append_str(&h->out, method) != 0 ||
		  bytebuf_append_str(&h->out, " ") != 0 ||
		  bytebuf_append_str(&h->out, t->prefix) != 0 ||
		  bytebuf_append_str(&h->out, path) != 0 ||
		  bytebuf_append_str(&h->out, " HTTP/1.1\r\nHost: ") != 0 ||
		  bytebuf_append_str(&h->out, t->hostport) != 0 ||
		  bytebuf_append_str(&h->out, "\r\n") != 0;
	if (!bad && body != NULL) {
		snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", body_len);
		bad = (ctype != NULL && (bytebuf_append_str(&h->out, "Content-Type: ") != 0 ||
					 bytebuf_append_str(&h->out, ctype) != 0 ||
					 bytebuf_append_str(&h->out, "\r\n") != 0)) ||
		      bytebuf_append_str(&h->out, cl) != 0;
	}
	bad = bad || bytebuf_append_str(&h->out, "\r\n") != 0 ||
	      (body != NULL && bytebuf_append(&h->out, body, body_len) != 0);
	if (bad)
		return -1;
	if (h->fd < 0)
		return open_conn(h, epfd, t, owner);
	h->new_conn = 0;
	return do_send(h);
}

static int parse_status(const char *p, size_t n, long *st)
{
	/* "HTTP/1.x SSS" */
	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ')
		return -1;
	long v = 0;
	for (int i = 9; i < 12; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	if (v < 100)
		return -1;
	*st = v;
	if (p[7] == '0')
		return 1; /* HTTP/1.0: close unless told otherwise (we never ask) */
	return 0;
}

static int header_is(const char *line, size_t n, const char *name, const char **val,
		     size_t *vlen)
{
	size_t nl = strlen(name);
	if (n <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
		return 0;
	const char *v = line + nl + 1;
	const char *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*val = v;
	*vlen = (size_t)(end - v);
	return 1;
}

static int contains_ci(const char *s, size_t n, const char *word)
{
	size_t wl = strlen(word);
	for (size_t i = 0; i + wl <= n; i++)
		if (strncasecmp(s + i, word, wl) == 0)
			return 1;
	return 0;
}

/* Parses the head in in[0..head_len) (without the blank line). 0 ok,
 * 1 an interim 1xx to skip, -1 not a response we can read. */
static int parse_head(wh_conn *h, size_t head_len)
{
	const char *p = (const char *)h->in.data;
	const char *end = p + head_len;
	const char *eol = memchr(p, '\r', head_len);
	if (eol == NULL)
		eol = end;
	long st;
	int v10 = parse_status(p, (size_t)(eol - p), &st);
	if (v10 < 0)
		return -1;
	int has_len = 0, chunked = 0, close_hdr = 0, keep_alive_hdr = 0;
	size_t len = 0;
	const char *line = eol < end ? eol + 2 : end;
	while (line < end) {
		const char *le = memchr(line, '\r', (size_t)(end - line));
		if (le == NULL)
			le = end;
		const char *v;
		size_t vl;
		size_t n = (size_t)(le - line);
		if (header_is(line, n, "content-length", &v, &vl)) {
			if (vl == 0 || vl > 18)
				return -1;
			size_t x = 0;
			for (size_t i = 0; i < vl; i++) {
				if (v[i] < '0' || v[i] > '9')
					return -1;
				x = x * 10 + (size_t)(v[i] - '0');
			}
			if (has_len && x != len)
				return -1;
			len = x;
			has_len = 1;
		} else if (header_is(line, n, "transfer-encoding", &v, &vl)) {
			if (!(vl == 8 && strncasecmp(v, "identity", 8) == 0))
				chunked = 1;
		} else if (header_is(line, n, "connection", &v, &vl)) {
			close_hdr |= contains_ci(v, vl, "close");
			keep_alive_hdr |= contains_ci(v, vl, "keep-alive");
		}
		line = le + 2;
	}
	if (st < 200)
		return 1;
	if (chunked)
		return -1; /* the node never sends it; refuse rather than misread */
	h->status = st;
	h->has_len = has_len;
	h->body_len = len;
	h->close_after = close_hdr || (v10 && !keep_alive_hdr) || !has_len;
	if (st == 204 || st == 304) {
		h->has_len = 1;
		h->body_len = 0;
	}
	return 0;
}

/* The response is complete: terminate the body, keep or drop the
 * connection. */
static int finish(wh_conn *h)
{
	size_t end = h->body_off + h->body_len;
	if (h->in.len != end)
		h->close_after = 1; /* bytes beyond the response: out of step */
	if (h->in.len == end && bytebuf_reserve(&h->in, 1) != 0)
		return fail(h, 0, "out of memory", 0);
	h->in.data[end] = '\0';
	if (h->close_after)
		conn_close(h);
	else
		h->state = WH_IDLE;
	return 1;
}

/* Looks at what has arrived: 1 when the request ended, 0 for more. */
static int examine(wh_conn *h)
{
	for (;;) {
		if (h->body_off == 0) {
			const uint8_t *d = h->in.data;
			size_t i = h->scanned;
			size_t found = 0;
			for (; i + 4 <= h->in.len; i++) {
				if (d[i] == '\r' && d[i + 1] == '\n' && d[i + 2] == '\r' &&
				    d[i + 3] == '\n') {
					found = i + 4;
					break;
				}
			}
			if (found == 0) {
				h->scanned = h->in.len >= 3 ? h->in.len - 3 : 0;
				if (h->in.len > WH_MAX_HEAD)
					return fail(h, 0, "response head too large", 0);
				return 0;
			}
			int rc = parse_head(h, found - 4);
			if (rc < 0)
				return fail(h, 0, "unreadable response", 0);
			if (rc == 1) { /* 1xx: drop it, read the real one */
				bytebuf_consume(&h->in, found);
				h->scanned = 0;
				continue;
			}
			h->body_off = found;
			if (h->has_len && h->body_len > WH_MAX_RESPONSE)
				return fail(h, 0, "response too large", 0);
		}
		if (h->has_len && h->in.len - h->body_off >= h->body_len)
			return finish(h);
		return 0;
	}
}

static int do_recv(wh_conn *h)
{
	for (;;) {
		if (bytebuf_reserve(&h->in, 16384) != 0)
			return fail(h, 0, "out of memory", 0);
		ssize_t n = recv(h->fd, h->in.data + h->in.len, h->in.cap - h->in.len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return examine(h);
			return fail(h, 0, "Recv failure", errno);
		}
		if (n == 0) {
			/* EOF: ends a response without a length, or cuts one. */
			if (examine(h) == 1)
				return 1;
			if (h->body_off != 0 && !h->has_len) {
				h->body_len = h->in.len - h->body_off;
				h->close_after = 1;
				return finish(h);
			}
			return fail(h, 0, h->in.len == 0 ? "Empty reply from server"
							 : "connection closed mid-response", 0);
		}
		h->in.len += (size_t)n;
		if (h->in.len > WH_MAX_RESPONSE + WH_MAX_HEAD)
			return fail(h, 0, "response too large", 0);
	}
}

int wh_on_event(wh_conn *h, uint32_t events)
{
	if (h->fd < 0)
		return 0;
	switch (h->state) {
	case WH_IDLE:
		/* Nothing asked: the node closed or broke the connection. */
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			conn_close(h);
		return 0;
	case WH_CONNECTING: {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return 0;
		int e = 0;
		socklen_t el = sizeof e;
		if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
			e = errno;
		if (e != 0)
			return fail(h, 1, "Couldn't connect to server", e);
		if (do_send(h) == 1)
			return 1;
		if (h->state != WH_RECEIVING)
			return 0;
		return do_recv(h); /* edge-triggered: data may already wait */
	}
	case WH_SENDING:
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
			if (do_send(h) == 1)
				return 1;
		}
		if (h->state != WH_RECEIVING)
			return 0;
		return do_recv(h);
	case WH_RECEIVING:
		return do_recv(h);
	default:
		return 0;
	}
}
