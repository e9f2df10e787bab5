/*
 * http_respond.c — formatting responses and delivering them in request order.
 *
 * A response for the request at the head of the queue is formatted straight
 * into the connection's output buffer; one for a later request waits in its
 * own buffer until every earlier request has been answered (pipelining).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "http_internal.h"

static const char *reason(int status)
{
	const char *s = http_status_str((enum http_status)status);
	/* http_parser answers "<unknown>" for codes it does not list. */
	return (s && s[0] != '<') ? s : "Status";
}

static int append_header(bytebuf *b, const char *name, const char *value)
{
	if (bytebuf_append_str(b, name) != 0 || bytebuf_append(b, ": ", 2) != 0 ||
	    bytebuf_append_str(b, value) != 0 || bytebuf_append(b, "\r\n", 2) != 0)
		return -1;
	return 0;
}

/* Formatted by hand, not by snprintf: this runs once per answer, and the
 * status line, length and common headers cost several snprintf calls. */
static int format_response(http_server *s, const hreq *r, bytebuf *b, int status,
			   const char *ctype, const char *body, size_t len)
{
	if (status < 100 || status > 999)
		return -1;
	const char *why = reason(status);
	size_t why_len = strlen(why);
	const char *common = NULL;
	size_t common_len = 0;
	if (s != NULL && s->hdr_fn != NULL)
		common = s->hdr_fn(s->hdr_ud, &common_len);
	if (common == NULL)
		common_len = 0;
	/* One reservation for everything but the body's own bytes. */
	if (why_len + common_len > SIZE_MAX - 256 - len ||
	    bytebuf_reserve(b, why_len + common_len + 256 + len) != 0)
		return -1;
	char line[16] = "HTTP/1.1 ";
	line[9] = (char)('0' + status / 100);
	line[10] = (char)('0' + status / 10 % 10);
	line[11] = (char)('0' + status % 10);
	line[12] = ' ';
	if (bytebuf_append(b, line, 13) != 0 || bytebuf_append(b, why, why_len) != 0 ||
	    bytebuf_append(b, "\r\nContent-Length: ", 18) != 0 || bytebuf_append_u64(b, len) != 0 ||
	    bytebuf_append(b, "\r\n", 2) != 0)
		return -1;
	static const char json_type[] = "Content-Type: application/json\r\n";
	if (ctype == NULL ? bytebuf_append(b, json_type, sizeof json_type - 1) != 0
			  : append_header(b, "Content-Type", ctype) != 0)
		return -1;
	if (common_len > 0 && bytebuf_append(b, common, common_len) != 0)
		return -1;
	if (!r->keep_alive) {
		if (append_header(b, "Connection", "close") != 0)
			return -1;
	} else if (r->http10) {
		if (append_header(b, "Connection", "keep-alive") != 0)
			return -1;
	}
	if (bytebuf_append(b, "\r\n", 2) != 0)
		return -1;
	if (!r->head_only && bytebuf_append(b, body, len) != 0)
		return -1;
	return 0;
}

void http_conn_drain(http_conn *c)
{
	while (!c->closing && c->head && c->head->responded) {
		hreq *r = c->head;
		c->head = r->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->npending--;
		if (r->resp.len > 0 && bytebuf_append(&c->out, r->resp.data, r->resp.len) != 0) {
			hreq_release(r);
			http_conn_close(c);
			return;
		}
		if (!r->keep_alive)
			c->close_after = true;
		hreq_release(r);
	}
}

void http_respond(http_request *req, int status, const char *content_type,
		  const char *body, size_t len)
{
	hreq *r = (hreq *)req;
	http_conn *c = r->conn;
	if (c == NULL) {
		/* The client went away while the handler worked: discard. */
		hreq_release(r);
		return;
	}
	if (r->responded)
		return; /* a handler bug; answering twice would corrupt the stream */
	r->responded = true;
	if (body == NULL)
		len = 0;
	/* In order and at the head: write straight into the output buffer. */
	bytebuf *dst = (c->head == r) ? &c->out : &r->resp;
	size_t mark = dst->len;
	if (format_response(c->srv, r, dst, status, content_type, body ? body : "", len) != 0) {
		dst->len = mark;
		http_conn_close(c);
		return;
	}
	if (dst == &c->out) {
		/* Pop it now; it is already in place. */
		r->resp.len = 0;
	}
	http_conn_drain(c);
	if (!c->closing)
		http_conn_flush(c);
}

void http_conn_fail(http_conn *c, int status)
{
	if (c->cur) {
		hreq_release(c->cur);
		c->cur = NULL;
	}
	http_conn_forget_partial(c);
	c->no_more = true;
	hreq *r = hreq_new(c);
	if (r == NULL) {
		http_conn_close(c);
		return;
	}
	r->keep_alive = false;
	http_conn_enqueue(c, r);
	const char *err, *detail;
	switch (status) {
	case 413:
		err = "too large";
		detail = "The request body exceeds the size limit.";
		break;
	case 414:
		err = "uri too long";
		detail = "The request URL exceeds the size limit.";
		break;
	case 431:
		err = "headers too large";
		detail = "The request headers exceed the size limit.";
		break;
	case 503:
		err = "overloaded";
		detail = "The server has no room for the request now; retry later.";
		break;
	case 408:
		err = "request timeout";
		detail = "The request did not arrive in time.";
		break;
	default:
		status = 400;
		err = "bad request";
		detail = "The request is not valid HTTP/1.1.";
		break;
	}
	char body[160];
	int n = snprintf(body, sizeof body, "{\"error\":\"%s\",\"detail\":\"%s\"}", err, detail);
	if (n < 0 || (size_t)n >= sizeof body)
		n = 0;
	http_respond(&r->pub, status, NULL, body, (size_t)n);
}
