/*
 * http_request.c — request objects and the per-connection queue.
 *
 * Requests are recycled through a per-server free list with their buffers
 * kept, so a keep-alive connection at steady state allocates nothing per
 * request; unusually large buffers are given back instead of being pinned.
 */
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

/* Enough recycled requests for a burst of pipelining across connections. */
#define MAX_FREE_REQS 256
#define KEEP_REQ_BUF (64u * 1024)

hreq *hreq_new(http_conn *c)
{
	http_server *s = c->srv;
	hreq *r = s->free_reqs;
	if (r != NULL) {
		s->free_reqs = r->next;
		s->nfree--;
	} else {
		r = calloc(1, sizeof *r);
		if (r == NULL)
			return NULL;
	}
	r->conn = c;
	r->next = NULL;
	r->responded = false;
	r->keep_alive = false;
	r->head_only = false;
	r->http10 = false;
	r->url.len = r->strs.len = r->body.len = r->auth.len = r->resp.len = 0;
	memset(&r->pub, 0, sizeof r->pub);
	r->pub.method = "";
	r->pub.path = "";
	r->pub.query = "";
	r->pub.body = "";
	return r;
}

void hreq_free(hreq *r)
{
	bytebuf_free(&r->url);
	bytebuf_free(&r->strs);
	bytebuf_free(&r->body);
	bytebuf_free(&r->auth);
	bytebuf_free(&r->resp);
	free(r);
}

void hreq_release(hreq *r)
{
	http_conn *c = r->conn;
	if (c == NULL || c->srv->closing || c->srv->nfree >= MAX_FREE_REQS) {
		hreq_free(r);
		return;
	}
	/* Keep ordinary-sized buffers for the next request; drop big ones so
	 * one huge upload does not pin memory forever. */
	r->url.len = r->strs.len = r->body.len = r->auth.len = r->resp.len = 0;
	bytebuf_shrink(&r->url, KEEP_REQ_BUF);
	bytebuf_shrink(&r->strs, KEEP_REQ_BUF);
	bytebuf_shrink(&r->body, KEEP_REQ_BUF);
	bytebuf_shrink(&r->auth, KEEP_REQ_BUF);
	bytebuf_shrink(&r->resp, KEEP_REQ_BUF);
	r->conn = NULL;
	r->next = c->srv->free_reqs;
	c->srv->free_reqs = r;
	c->srv->nfree++;
}

void http_conn_enqueue(http_conn *c, hreq *r)
{
	r->next = NULL;
	if (c->tail)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	c->npending++;
}
