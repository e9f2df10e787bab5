/*
 * http_server.c — listening socket, connection lifetime, reads and batched
 * writes. Parsing is in http_parse.c, responses in http_respond.c.
 *
 * Per connection there is at most one uv_write in flight: responses finished
 * while it runs accumulate in c->out and leave together in the next write,
 * and a whole read chunk of pipelined requests is parsed before anything is
 * written, so a busy connection costs one read and one write per batch.
 * Writes are tried at once (uv_try_write); uv_write carries only what the
 * socket did not take, which keeps the usual case to a single write(2).
 */
#include <assert.h>
#include <limits.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/addr.h"
#include "http_internal.h"

/* Stop reading from a client that pipelines faster than it reads answers. */
#define MAX_PENDING_REQS 1024
#define MAX_UNSENT_BYTES (8u << 20)
/* Bytes read from all client connections per loop iteration, at most (a
 * read callback brings up to 64 KiB; the one that crosses the line finishes).
 * A flood of large bodies then costs each iteration a few milliseconds, so
 * the peers' heartbeats and answers, read in the same iteration, are never
 * late behind hundreds of megabytes of bodies, and a small request waits at
 * most a few short iterations, not behind every big body there is. */
#define HTTP_READ_BUDGET (1u << 20)
/* How long a closing connection waits for the client's FIN after our last
 * response, reading and discarding, so that closing does not turn into a
 * reset that destroys the response before the client reads it. */
#define LINGER_MS 2000

static void on_conn_handle_closed(uv_handle_t *h);
static void maybe_done(http_server *s);

/* ------------------------------------------------------------ closing */

void http_conn_forget_partial(http_conn *c)
{
	c->srv->buffered -= c->partial;
	c->partial = 0;
	c->in_msg = false;
}

/* Requests still with a handler outlive the connection: they are detached
 * and http_respond frees them. Answered ones (and a half-parsed one) go now. */
static void conn_detach_requests(http_conn *c)
{
	hreq *r = c->head;
	while (r) {
		hreq *next = r->next;
		if (r->responded) {
			hreq_release(r);
		} else {
			r->conn = NULL;
			r->next = NULL;
		}
		r = next;
	}
	c->head = c->tail = NULL;
	c->npending = 0;
	if (c->cur) {
		hreq_release(c->cur);
		c->cur = NULL;
	}
}

static void unthrottle(http_conn *c)
{
	if (!c->throttled)
		return;
	c->throttled = false;
	if (c->tprev)
		c->tprev->tnext = c->tnext;
	else
		c->srv->throttled = c->tnext;
	if (c->tnext)
		c->tnext->tprev = c->tprev;
	c->tprev = c->tnext = NULL;
}

void http_conn_close(http_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	unthrottle(c);
	conn_detach_requests(c);
	http_conn_forget_partial(c);
	if (c->counted) {
		/* Its descriptor is released now (uv_close), before the callback. */
		c->counted = false;
		c->srv->nopen--;
	}
	/* Unlink now so server close does not visit it twice. */
	http_server *s = c->srv;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
	uv_close((uv_handle_t *)&c->linger, on_conn_handle_closed);
}

static void on_conn_handle_closed(uv_handle_t *h)
{
	http_conn *c = h->data;
	if (--c->open_handles > 0)
		return;
	http_server *s = c->srv;
	bytebuf_free(&c->out);
	bytebuf_free(&c->wbuf);
	free(c);
	s->nconns--;
	maybe_done(s);
}

static void on_linger_timeout(uv_timer_t *t)
{
	http_conn_close(t->data);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	http_conn *c = req->data;
	if (c->closing)
		return;
	if (status < 0 || c->eof) {
		http_conn_close(c);
		return;
	}
	if (uv_timer_start(&c->linger, on_linger_timeout, LINGER_MS, 0) != 0)
		http_conn_close(c);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);

static void conn_read_start(http_conn *c)
{
	if (c->reading || c->closing || c->eof)
		return;
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
		http_conn_close(c);
		return;
	}
	c->reading = true;
}

static void conn_read_stop(http_conn *c)
{
	if (!c->reading)
		return;
	/* uv_read_stop cannot fail on a TCP handle; the return is checked anyway. */
	if (uv_read_stop((uv_stream_t *)&c->tcp) != 0) {
		http_conn_close(c);
		return;
	}
	c->reading = false;
}

/* Our side is done: send FIN after the queued bytes, then wait a little for
 * the client's FIN, discarding whatever it still sends. */
static void conn_linger(http_conn *c)
{
	if (c->lingering || c->closing)
		return;
	c->lingering = true;
	if (c->eof || c->srv->closing) {
		http_conn_close(c);
		return;
	}
	c->sreq.data = c;
	if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
		http_conn_close(c);
		return;
	}
	conn_read_start(c);
}

/* ------------------------------------------------------------ writing */

static void on_write(uv_write_t *req, int status)
{
	http_conn *c = req->data;
	c->writing = false;
	c->wbuf.len = 0;
	if (c->closing)
		return;
	if (status < 0) {
		http_conn_close(c);
		return;
	}
	bytebuf_shrink(&c->wbuf, 1u << 20);
	if (!c->no_more && c->npending < MAX_PENDING_REQS / 2)
		conn_read_start(c);
	http_conn_flush(c);
}

void http_conn_flush(http_conn *c)
{
	if (c->closing || c->writing || c->in_read)
		return;
	if (c->out.len > 0) {
		/* Try the write at once: a socket with room takes the whole batch
		 * and nothing is queued, so no write callback, no loop pass and no
		 * epoll_ctl (libuv re-arms the watcher whenever a queued write
		 * drains). Only what the socket refused goes through uv_write. */
		size_t done = 0;
		if (c->out.len <= INT_MAX) {
			uv_buf_t b0 = uv_buf_init((char *)c->out.data, (unsigned)c->out.len);
			int n = uv_try_write((uv_stream_t *)&c->tcp, &b0, 1);
			if (n < 0 && n != UV_EAGAIN) {
				http_conn_close(c);
				return;
			}
			if (n > 0)
				done = (size_t)n;
		}
		if (done == c->out.len) {
			c->out.len = 0;
			bytebuf_shrink(&c->out, 1u << 20);
			if (!c->no_more && c->npending < MAX_PENDING_REQS / 2)
				conn_read_start(c);
			if (c->closing)
				return;
		} else {
			/* Swap the buffers: out becomes the bytes in flight and the
			 * old in-flight buffer (capacity kept) collects what comes
			 * next. */
			bytebuf t = c->wbuf;
			c->wbuf = c->out;
			c->out = t;
			c->out.len = 0;
			size_t left = c->wbuf.len - done;
			uv_buf_t b = uv_buf_init((char *)c->wbuf.data + done, (unsigned)left);
			c->wreq.data = c;
			if (left > UINT32_MAX ||
			    uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0) {
				http_conn_close(c);
				return;
			}
			c->writing = true;
			return;
		}
	}
	if (c->close_after && c->head == NULL)
		conn_linger(c);
}

/* ------------------------------------------------------------ reading */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	http_conn *c = h->data;
	*buf = uv_buf_init(c->srv->rbuf, sizeof c->srv->rbuf);
}

static int parse_error_status(http_conn *c)
{
	if (c->err_status)
		return c->err_status;
	switch (HTTP_PARSER_ERRNO(&c->parser)) {
	case HPE_HEADER_OVERFLOW:
		return 431;
	default:
		return 400;
	}
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	http_conn *c = st->data;
	if (c->closing || nread == 0)
		return;
	if (nread < 0) {
		if (nread != UV_EOF || c->lingering) {
			http_conn_close(c);
			return;
		}
		/* Client finished sending (maybe only half-closed): answer what
		 * it asked, then close. A half-parsed request is dropped. */
		c->eof = true;
		c->reading = false;
		if (uv_read_stop(st) != 0) {
			http_conn_close(c);
			return;
		}
		c->no_more = true;
		c->close_after = true;
		if (c->cur) {
			hreq_release(c->cur);
			c->cur = NULL;
		}
		http_conn_forget_partial(c);
		http_conn_flush(c);
		return;
	}
	c->last_io_ms = uv_now(c->srv->loop);
	if (c->no_more)
		return; /* discarding: after the last request or while lingering */

	c->in_read = true;
	/* Between requests, complete common ones are served without
	 * http-parser; it takes over from the first one the scanner declines
	 * (a partial request continues in http-parser on the next read). */
	size_t n = c->in_msg ? 0 : http_fast_requests(c, buf->base, (size_t)nread);
	if (n < (size_t)nread && !c->no_more && !c->closing)
		n += http_parser_execute(&c->parser, &http_parse_settings, buf->base + n, (size_t)nread - n);
	c->in_read = false;
	if (c->closing)
		return;
	enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
	if (e != HPE_OK && e != HPE_PAUSED) {
		http_conn_fail(c, parse_error_status(c));
	} else if (e == HPE_OK && n != (size_t)nread && !c->no_more) {
		/* Stopped early without an error: an Upgrade we do not speak. */
		http_conn_fail(c, 400);
	}
	if (c->closing)
		return;
	if (c->npending >= MAX_PENDING_REQS || c->out.len + c->wbuf.len >= MAX_UNSENT_BYTES)
		conn_read_stop(c);
	if (c->no_more && !c->lingering)
		conn_read_stop(c); /* nothing more to parse; lingering restarts it */
	http_server *s = c->srv;
	s->iter_read += (size_t)nread;
	if (s->iter_read >= HTTP_READ_BUDGET && c->reading && !c->closing) {
		/* This iteration's budget is spent: the rest waits for the next. */
		conn_read_stop(c);
		if (!c->closing && !c->throttled) {
			c->throttled = true;
			c->tprev = NULL;
			c->tnext = s->throttled;
			if (s->throttled)
				s->throttled->tprev = c;
			s->throttled = c;
		}
	}
	http_conn_flush(c);
}

/* Before each poll: a new iteration's budget, and the connections that the
 * last one stopped read again (unless stopped for another reason too). */
static void on_budget(uv_prepare_t *h)
{
	http_server *s = h->data;
	s->iter_read = 0;
	while (s->throttled != NULL) {
		http_conn *c = s->throttled;
		unthrottle(c);
		if (!c->no_more && c->npending < MAX_PENDING_REQS &&
		    c->out.len + c->wbuf.len < MAX_UNSENT_BYTES)
			conn_read_start(c);
	}
}

/* ------------------------------------------------------------ accepting */

/* Accept ran out of descriptors (libuv has already taken the waiting
 * connection off the queue and closed it, with a descriptor it keeps in
 * reserve): close our newest connection too, so the next accept, and the
 * WAL's next file, find one free. */
static void shed_newest(http_server *s)
{
	for (http_conn *c = s->conns; c != NULL; c = c->next) {
		if (!c->closing) {
			s->st.shed_conns++;
			http_conn_close(c);
			return;
		}
	}
}

static void on_connection(uv_stream_t *ls, int status)
{
	http_server *s = ls->data;
	if (status == UV_EMFILE || status == UV_ENFILE) {
		shed_newest(s);
		return;
	}
	if (status < 0 || s->closing)
		return;
	http_conn *c = calloc(1, sizeof *c);
	if (c == NULL)
		return; /* out of memory: libuv keeps the connection pending */
	c->srv = s;
	if (uv_tcp_init(s->loop, &c->tcp) != 0) {
		free(c);
		return;
	}
	c->tcp.data = c;
	c->open_handles = 1;
	s->nconns++;
	/* Link first: from here every failure goes through http_conn_close. */
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	if (uv_timer_init(s->loop, &c->linger) != 0) {
		/* Only the TCP handle to close. */
		c->closing = true;
		if (c->next)
			c->next->prev = NULL;
		s->conns = c->next;
		uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
		return;
	}
	c->linger.data = c;
	c->open_handles = 2;
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	if (uv_accept(ls, (uv_stream_t *)&c->tcp) != 0) {
		http_conn_close(c);
		return;
	}
	c->counted = true;
	if (++s->nopen > s->lim.max_conns) {
		s->st.refused_conns++;
		http_conn_close(c);
		return;
	}
	c->last_io_ms = uv_now(s->loop);
	/* Responses are complete when written; Nagle would only delay them. */
	if (uv_tcp_nodelay(&c->tcp, 1) != 0) {
		http_conn_close(c);
		return;
	}
	conn_read_start(c);
}

/* ------------------------------------------------------------ deadlines */

/* Closes connections that hold a descriptor (and maybe memory) without
 * doing anything: idle ones silently, slow requests with 408. Requests a
 * handler is working on are not timed here (the handler has its own). */
static void on_sweep(uv_timer_t *t)
{
	http_server *s = t->data;
	uint64_t now = uv_now(s->loop);
	http_conn *c = s->conns;
	while (c) {
		http_conn *next = c->next;
		if (c->closing || c->lingering) {
			c = next;
			continue;
		}
		if (c->in_msg && c->reading) {
			uint64_t limit = c->headers_done ? s->lim.body_timeout_ms : s->lim.header_timeout_ms;
			if (now - c->msg_start_ms >= limit) {
				s->st.timed_out++;
				http_conn_fail(c, 408);
				http_conn_flush(c);
			}
		} else if (!c->in_msg && c->head == NULL && !c->writing && c->out.len == 0 &&
			   now - c->last_io_ms >= s->lim.idle_timeout_ms) {
			s->st.timed_out++;
			http_conn_close(c);
		}
		c = next;
	}
}

static uint64_t sweep_interval(const http_server_limits *l)
{
	uint64_t m = l->idle_timeout_ms;
	if (l->header_timeout_ms < m)
		m = l->header_timeout_ms;
	if (l->body_timeout_ms < m)
		m = l->body_timeout_ms;
	m /= 4; /* a deadline is noticed within a quarter of it */
	return m < 5 ? 5 : m > 1000 ? 1000 : m;
}

/* The connection limit, lowered so that HTTP_FD_RESERVE descriptors stay free. */
static size_t conn_limit(size_t want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return want;
	size_t room = rl.rlim_cur > 2 * HTTP_FD_RESERVE ? (size_t)rl.rlim_cur - HTTP_FD_RESERVE
							 : (size_t)rl.rlim_cur / 2;
	return want < room ? want : room;
}

void http_server_get_stats(const http_server *s, http_server_stats *st)
{
	*st = s->st;
	st->conns = s->nopen;
	st->buffered = s->buffered;
}

int http_server_start(uv_loop_t *loop, const char *addr, const http_server_limits *lim,
		      http_handler h, void *ud, http_server **out, char *err, size_t errlen)
{
	struct sockaddr_in sa;
	char why[300];
	if (addr_parse(addr, &sa, why, sizeof why) != 0) {
		snprintf(err, errlen, "http address %s: %s", addr ? addr : "(null)", why);
		return -1;
	}
	net_ignore_sigpipe();
	http_server *s = calloc(1, sizeof *s);
	if (s == NULL) {
		snprintf(err, errlen, "http address %s: out of memory", addr);
		return -1;
	}
	s->loop = loop;
	s->handler = h;
	s->ud = ud;
	s->lim.max_body = (lim && lim->max_body) ? lim->max_body : (1u << 20) + 4096;
	s->lim.max_url = (lim && lim->max_url) ? lim->max_url : 8192;
	s->lim.max_headers = (lim && lim->max_headers) ? lim->max_headers : 16384;
	s->lim.max_conns = conn_limit((lim && lim->max_conns) ? lim->max_conns : 4096);
	s->lim.max_buffered = (lim && lim->max_buffered) ? lim->max_buffered : (256u << 20);
	s->lim.idle_timeout_ms = (lim && lim->idle_timeout_ms) ? lim->idle_timeout_ms : 60000;
	s->lim.header_timeout_ms = (lim && lim->header_timeout_ms) ? lim->header_timeout_ms : 10000;
	s->lim.body_timeout_ms = (lim && lim->body_timeout_ms) ? lim->body_timeout_ms : 60000;
	int rc = uv_tcp_init(loop, &s->listener);
	if (rc != 0) {
		snprintf(err, errlen, "http address %s: %s", addr, uv_strerror(rc));
		free(s);
		return -1;
	}
	s->listener.data = s;
	s->listener_open = true;
	rc = uv_timer_init(loop, &s->stop_timer);
	if (rc == 0) {
		s->stop_timer.data = s;
		s->stop_timer_open = true;
		rc = uv_timer_init(loop, &s->sweep);
	}
	if (rc == 0) {
		s->sweep.data = s;
		s->sweep_open = true;
		uint64_t every = sweep_interval(&s->lim);
		rc = uv_timer_start(&s->sweep, on_sweep, every, every);
	}
	if (rc == 0)
		rc = uv_prepare_init(loop, &s->budget);
	if (rc == 0) {
		s->budget.data = s;
		s->budget_open = true;
		rc = uv_prepare_start(&s->budget, on_budget);
	}
	if (rc == 0) {
		/* Neither alone must keep a loop alive. */
		uv_unref((uv_handle_t *)&s->budget);
		uv_unref((uv_handle_t *)&s->sweep);
		rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&sa, 0);
	}
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&s->listener, 1024, on_connection);
	if (rc != 0) {
		snprintf(err, errlen, "http address %s: %s", addr, uv_strerror(rc));
		/* The handle is freed by the close callback once the loop runs. */
		s->closing = true;
		http_server_close(s, NULL, NULL);
		return -1;
	}
	*out = s;
	return 0;
}

int http_server_port(const http_server *s)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;
	if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family != AF_INET)
		return -1;
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void http_server_set_common_headers(http_server *s, http_header_fn fn, void *ud)
{
	s->hdr_fn = fn;
	s->hdr_ud = ud;
}

void http_server_set_shed(http_server *s, http_shed_fn fn, void *ud)
{
	s->shed_fn = fn;
	s->shed_ud = ud;
}

/* ------------------------------------------------------------ shutdown */

static void on_stop_timer_closed(uv_handle_t *h)
{
	http_server *s = h->data;
	s->stop_timer_open = false;
	maybe_done(s);
}

static void on_sweep_closed(uv_handle_t *h)
{
	http_server *s = h->data;
	s->sweep_open = false;
	maybe_done(s);
}

static void on_budget_closed(uv_handle_t *h)
{
	http_server *s = h->data;
	s->budget_open = false;
	maybe_done(s);
}

static void maybe_done(http_server *s)
{
	if (!s->closing)
		return;
	/* No more deadlines once closing: the stop timer bounds the rest. */
	if (s->sweep_open && !uv_is_closing((uv_handle_t *)&s->sweep))
		uv_close((uv_handle_t *)&s->sweep, on_sweep_closed);
	if (s->budget_open && !uv_is_closing((uv_handle_t *)&s->budget))
		uv_close((uv_handle_t *)&s->budget, on_budget_closed);
	if (s->listener_open || s->nconns > 0 || s->sweep_open || s->budget_open)
		return;
	if (s->stop_timer_open) {
		if (!uv_is_closing((uv_handle_t *)&s->stop_timer))
			uv_close((uv_handle_t *)&s->stop_timer, on_stop_timer_closed);
		return;
	}
	while (s->free_reqs) {
		hreq *r = s->free_reqs;
		s->free_reqs = r->next;
		hreq_free(r);
	}
	void (*done)(void *) = s->done;
	void *ud = s->done_ud;
	free(s);
	if (done)
		done(ud);
}

static void on_listener_closed(uv_handle_t *h)
{
	http_server *s = h->data;
	s->listener_open = false;
	maybe_done(s);
}

static void on_stop_deadline(uv_timer_t *t)
{
	http_server *s = t->data;
	while (s->conns)
		http_conn_close(s->conns);
}

/* Lets answers already given reach the client, then closes; requests still
 * with a handler are detached (their responses could never overtake them). */
static void conn_close_gently(http_conn *c)
{
	conn_detach_requests(c);
	c->no_more = true;
	c->close_after = true;
	conn_read_stop(c);
	if (c->closing)
		return;
	if (!c->writing && c->out.len == 0)
		http_conn_close(c);
	else
		http_conn_flush(c); /* closes once the last byte is written */
}

void http_server_close(http_server *s, void (*done)(void *ud), void *ud)
{
	s->closing = true;
	s->done = done;
	s->done_ud = ud;
	http_conn *c = s->conns;
	while (c) {
		http_conn *next = c->next;
		conn_close_gently(c);
		c = next;
	}
	/* A client that does not read must not hold shutdown up for long. */
	if (s->conns != NULL && s->stop_timer_open &&
	    uv_timer_start(&s->stop_timer, on_stop_deadline, 1000, 0) != 0)
		on_stop_deadline(&s->stop_timer);
	if (!uv_is_closing((uv_handle_t *)&s->listener))
		uv_close((uv_handle_t *)&s->listener, on_listener_closed);
	maybe_done(s);
}
