/*
 * http_parse.c — http_parser callbacks: bytes of one connection become
 * requests, limits are enforced as the bytes arrive (so an oversized request
 * is refused before it is buffered), and each complete request goes to the
 * handler after it has taken its place in the connection's response queue.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "http_fast.h"
#include "http_internal.h"

/* A callback that refuses the request records the status and returns -1;
 * http_parser then stops with HPE_CB_* and on_read answers err_status. */
static int refuse(http_conn *c, int status)
{
	if (c->err_status == 0)
		c->err_status = status;
	return -1;
}

static int on_message_begin(http_parser *p)
{
	http_conn *c = p->data;
	if (c->closing || c->no_more)
		return -1;
	if (c->cur)
		hreq_release(c->cur);
	http_conn_forget_partial(c);
	c->cur = hreq_new(c);
	if (c->cur == NULL)
		return refuse(c, 503);
	c->in_msg = true;
	c->headers_done = false;
	c->msg_start_ms = uv_now(c->srv->loop);
	c->hstate = 0;
	c->header_bytes = 0;
	c->in_auth = false;
	c->expect_continue = false;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	http_conn *c = p->data;
	hreq *r = c->cur;
	if (len > c->srv->lim.max_url || r->url.len > c->srv->lim.max_url - len)
		return refuse(c, 414);
	if (bytebuf_append(&r->url, at, len) != 0)
		return refuse(c, 503);
	return 0;
}

static int count_header_bytes(http_conn *c, size_t len)
{
	if (len > c->srv->lim.max_headers || c->header_bytes > c->srv->lim.max_headers - len)
		return refuse(c, 431);
	c->header_bytes += len;
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	http_conn *c = p->data;
	if (count_header_bytes(c, len) != 0)
		return -1;
	if (c->hstate != 1) {
		c->hstate = 1;
		c->hname_len = 0;
		c->hname_long = false;
	}
	/* Field names may arrive in pieces; only short names are of interest. */
	if (c->hname_long || len >= sizeof c->hname - c->hname_len) {
		c->hname_long = true;
		return 0;
	}
	memcpy(c->hname + c->hname_len, at, len);
	c->hname_len += len;
	c->hname[c->hname_len] = '\0';
	return 0;
}

/* The length first: most headers are neither, and this runs for each. */
#define name_is(c, lit) name_is_n((c), (lit), sizeof(lit) - 1)
static bool name_is_n(const http_conn *c, const char *name, size_t len)
{
	return !c->hname_long && c->hname_len == len && strncasecmp(c->hname, name, len) == 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	http_conn *c = p->data;
	hreq *r = c->cur;
	if (count_header_bytes(c, len) != 0)
		return -1;
	if (c->hstate != 2) {
		c->hstate = 2;
		c->in_auth = name_is(c, "authorization");
		if (c->in_auth)
			r->auth.len = 0; /* a repeated header replaces, never merges */
		/* curl sends this for bodies over 1 KiB and waits a second for
		 * "100 Continue"; a value split across reads just costs that wait. */
		if (name_is(c, "expect") && len >= 12 && strncasecmp(at, "100-continue", 12) == 0)
			c->expect_continue = true;
	}
	if (c->in_auth && bytebuf_append(&r->auth, at, len) != 0)
		return refuse(c, 503);
	return 0;
}

/* Splits the request target into decoded path and raw query: 0, or the
 * status to refuse the request with (400 a bad target, 503 no memory). */
static int split_target(hreq *r, int is_connect)
{
	struct http_parser_url u;
	http_parser_url_init(&u);
	if (r->url.len == 0)
		return 400;
	if (!is_connect && r->url.data[0] == '/' && r->url.len <= UINT16_MAX) {
		/* Origin form, nearly every request: http_parser has checked its
		 * characters already, so only the split is left (path up to '?'
		 * or '#', query up to '#'), as http_parser_parse_url makes it. */
		const char *t = (const char *)r->url.data;
		size_t n = r->url.len;
		const char *h = memchr(t, '#', n);
		size_t end = h != NULL ? (size_t)(h - t) : n; /* the fragment is dropped */
		const char *qm = memchr(t, '?', end);
		size_t p = qm != NULL ? (size_t)(qm - t) : end;
		u.field_set = 1 << UF_PATH;
		u.field_data[UF_PATH].off = 0;
		u.field_data[UF_PATH].len = (uint16_t)p;
		if (p < end) {
			size_t q = end;
			if (q > p + 1) {
				u.field_set |= 1 << UF_QUERY;
				u.field_data[UF_QUERY].off = (uint16_t)(p + 1);
				u.field_data[UF_QUERY].len = (uint16_t)(q - p - 1);
			}
		}
	} else if (http_parser_parse_url((const char *)r->url.data, r->url.len, is_connect, &u) != 0) {
		return 400;
	}
	/* Decoding never lengthens: url.len + 2 NULs is always enough, and
	 * reserving it first keeps the pointers below stable. */
	if (bytebuf_reserve(&r->strs, r->url.len + 2) != 0)
		return 503;
	char *dst = (char *)r->strs.data;
	size_t plen = 0;
	if (u.field_set & (1 << UF_PATH)) {
		long n = http_pct_decode((const char *)r->url.data + u.field_data[UF_PATH].off,
					 u.field_data[UF_PATH].len, dst, false, true);
		if (n < 0)
			return 400;
		plen = (size_t)n;
	} else {
		dst[plen++] = '/';
	}
	dst[plen] = '\0';
	char *q = dst + plen + 1;
	size_t qlen = 0;
	if (u.field_set & (1 << UF_QUERY)) {
		qlen = u.field_data[UF_QUERY].len;
		memcpy(q, r->url.data + u.field_data[UF_QUERY].off, qlen);
	}
	q[qlen] = '\0';
	r->strs.len = plen + 1 + qlen + 1;
	r->pub.path = dst;
	r->pub.query = q;
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	http_conn *c = p->data;
	hreq *r = c->cur;
	int st = split_target(r, p->method == HTTP_CONNECT);
	if (st != 0)
		return refuse(c, st);
	bool has_len = p->content_length != UINT64_MAX && p->content_length > 0;
	if (has_len) {
		if (p->content_length > c->srv->lim.max_body)
			return refuse(c, 413);
		http_server *s = c->srv;
		if (s->shed_fn != NULL &&
		    s->shed_fn(s->shed_ud, http_method_str((enum http_method)p->method), r->pub.path,
			       p->content_length)) {
			s->st.shed++;
			/* A client that waits for "100 Continue" is answered now
			 * and never sends the body (curl asks so for large
			 * uploads); the connection then closes. */
			if (c->expect_continue)
				return refuse(c, 503);
			r->pub.shed = true;
			has_len = false; /* nothing to reserve: the body is discarded */
		}
	}
	if (has_len) {
		/* Size a small body once; a big one grows as its bytes arrive, so
		 * a client that announces 1 MiB and stalls holds only what it sent. */
		size_t first = p->content_length < 65536 ? (size_t)p->content_length + 1 : 65536;
		if (bytebuf_reserve(&r->body, first) != 0)
			return refuse(c, 503);
	}
	c->headers_done = true;
	if (c->expect_continue && (has_len || (p->flags & F_CHUNKED)) && c->head == NULL) {
		/* Only when nothing is queued before it, or it would overtake
		 * earlier responses. */
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		if (bytebuf_append(&c->out, cont, sizeof cont - 1) != 0)
			return refuse(c, 503);
	}
	r->head_only = p->method == HTTP_HEAD;
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	http_conn *c = p->data;
	hreq *r = c->cur;
	if (r->pub.shed)
		return 0; /* refused at its headers: read, not kept */
	/* Chunked bodies have no length up front: check as they grow. */
	if (len > c->srv->lim.max_body || r->body.len > c->srv->lim.max_body - len)
		return refuse(c, 413);
	http_server *s = c->srv;
	if (len > s->lim.max_buffered || s->buffered > s->lim.max_buffered - len) {
		s->st.refused_buffered++;
		return refuse(c, 503);
	}
	if (bytebuf_append(&r->body, at, len) != 0)
		return refuse(c, 503);
	c->partial += len;
	s->buffered += len;
	return 0;
}

static int nul_terminate(bytebuf *b)
{
	if (bytebuf_reserve(b, 1) != 0)
		return -1;
	b->data[b->len] = '\0';
	return 0;
}

static int on_message_complete(http_parser *p)
{
	http_conn *c = p->data;
	hreq *r = c->cur;
	if (nul_terminate(&r->body) != 0 || nul_terminate(&r->auth) != 0)
		return refuse(c, 503);
	c->cur = NULL;
	http_conn_forget_partial(c);
	r->pub.method = http_method_str((enum http_method)p->method);
	r->pub.body = (const char *)r->body.data;
	r->pub.body_len = r->body.len;
	r->pub.authorization = r->auth.len > 0 ? (const char *)r->auth.data : NULL;
	r->http10 = p->http_major == 1 && p->http_minor == 0;
	r->keep_alive = http_should_keep_alive(p) && !p->upgrade && !c->srv->closing;
	if (!r->keep_alive) {
		/* The last request on this connection: parse nothing after it. */
		c->no_more = true;
		http_parser_pause(p, 1);
	}
	http_conn_enqueue(c, r);
	c->srv->handler(c->srv->ud, &r->pub);
	/* The handler may have closed the server (and so this connection). */
	return c->closing ? -1 : 0;
}

/* One request found whole by http_fast_parse: what the callbacks above do
 * for it, in one go. -1, with nothing done, hands it to http-parser instead,
 * which accepts or refuses it as it always has: every refusal (a limit, a
 * bad target, no memory) stays there, so both paths answer alike. */
static int fast_one(http_conn *c, const http_fast_req *f)
{
	http_server *s = c->srv;
	if (f->url_len > s->lim.max_url || f->head_len > s->lim.max_headers ||
	    f->body_len > s->lim.max_body || f->body_len > s->lim.max_buffered ||
	    s->buffered > s->lim.max_buffered - f->body_len)
		return -1;
	hreq *r = hreq_new(c);
	if (r == NULL)
		return -1;
	if (bytebuf_append(&r->url, f->url, f->url_len) != 0 || split_target(r, 0) != 0 ||
	    bytebuf_reserve(&r->body, (size_t)f->body_len + 1) != 0 || nul_terminate(&r->auth) != 0) {
		hreq_release(r);
		return -1;
	}
	const char *method = http_method_str((enum http_method)f->method);
	if (f->body_len > 0 && s->shed_fn != NULL &&
	    s->shed_fn(s->shed_ud, method, r->pub.path, f->body_len)) {
		s->st.shed++;
		r->pub.shed = true; /* the body is discarded, as on_body does */
	} else {
		memcpy(r->body.data, f->body, (size_t)f->body_len);
		r->body.len = (size_t)f->body_len;
	}
	r->body.data[r->body.len] = '\0';
	r->pub.method = method;
	r->pub.body = (const char *)r->body.data;
	r->pub.body_len = r->body.len;
	r->pub.authorization = NULL; /* a request with one is not taken here */
	r->head_only = f->method == HTTP_HEAD;
	r->http10 = false;
	r->keep_alive = !s->closing; /* HTTP/1.1 without Connection or Upgrade */
	if (!r->keep_alive)
		c->no_more = true;
	http_conn_enqueue(c, r);
	s->handler(s->ud, &r->pub);
	return 0;
}

size_t http_fast_requests(http_conn *c, const char *buf, size_t len)
{
	size_t off = 0;
	http_fast_req f;
	while (off < len && !c->no_more && !c->closing && http_fast_parse(buf + off, len - off, &f) == 1 &&
	       fast_one(c, &f) == 0)
		off += f.total;
	return off;
}

const http_parser_settings http_parse_settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};
