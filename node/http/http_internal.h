/*
 * http_internal.h — what the files of the HTTP server share (not public).
 *
 *   http_server.c   listening, connections, reading, batched writing, closing
 *   http_request.c  request objects, recycling, the per-connection queue
 *   http_parse.c    http_parser callbacks that turn bytes into requests
 *   http_fast.c     the strict scanner for complete common requests
 *   http_respond.c  response formatting and in-order delivery
 *   http_query.c    percent-decoding, http_query_get
 */
#ifndef RAFTKV_HTTP_INTERNAL_H
#define RAFTKV_HTTP_INTERNAL_H

#include <http_parser.h>
#include <stdbool.h>
#include <uv.h>

#include "../common/bytebuf.h"
#include "http_server.h"

typedef struct http_conn http_conn;

/* One request. pub comes first so an http_request * is an hreq *. */
typedef struct hreq {
	http_request pub;
	http_conn *conn;     /* NULL once the connection is gone (response discarded) */
	struct hreq *next;   /* connection queue, in arrival order */
	bool responded;
	bool keep_alive;
	bool head_only;      /* HEAD: send headers but no body */
	bool http10;         /* HTTP/1.0 client: keep-alive must be said explicitly */
	bytebuf url;         /* raw request target */
	bytebuf strs;        /* decoded path NUL raw query NUL */
	bytebuf body;
	bytebuf auth;
	bytebuf resp;        /* formatted response, when it must wait for earlier ones */
} hreq;

struct http_conn {
	uv_tcp_t tcp;
	uv_timer_t linger;       /* bounds the wait for the client's FIN after our last reply */
	uv_write_t wreq;
	uv_shutdown_t sreq;
	http_server *srv;
	http_conn *prev, *next;  /* server's connection list */
	http_parser parser;

	hreq *cur;               /* being parsed */
	hreq *head, *tail;       /* waiting for or holding their response, in order */
	size_t npending;

	bytebuf out;             /* responses ready to go, appended in order */
	bytebuf wbuf;            /* bytes handed to uv_write, kept until its callback */

	/* Header scanning: only a few names matter, so keep a short prefix. */
	char hname[16];
	size_t hname_len;
	bool hname_long;
	int hstate;              /* 0 none, 1 in a field name, 2 in a value */
	bool in_auth;
	bool expect_continue;
	size_t header_bytes;
	int err_status;          /* set by a callback that refuses the request */

	/* Deadlines, checked by the server's sweep timer (loop clock, ms). */
	uint64_t last_io_ms;     /* last bytes received */
	uint64_t msg_start_ms;   /* first byte of the request being parsed */
	bool in_msg;             /* a request is partly received */
	bool headers_done;
	size_t partial;          /* body bytes of that request, counted in srv->buffered */
	bool counted;            /* in srv->nopen */

	int open_handles;
	bool in_read;            /* defer writes until the whole read chunk is parsed */
	bool writing;
	bool reading;
	bool no_more;            /* stop parsing: last request seen or an error */
	bool close_after;        /* close once every queued response is written */
	bool eof;
	bool lingering;
	bool closing;
	bool throttled;          /* reading stopped for this loop iteration (read budget) */
	http_conn *tprev, *tnext;/* the server's throttled list */
};

struct http_server {
	uv_loop_t *loop;
	uv_tcp_t listener;
	http_server_limits lim;
	http_handler handler;
	void *ud;
	http_header_fn hdr_fn;
	void *hdr_ud;
	http_shed_fn shed_fn;
	void *shed_ud;
	http_conn *conns;
	size_t nconns;
	hreq *free_reqs;         /* recycled requests, buffers kept */
	size_t nfree;
	bool closing;
	bool listener_open;
	bool stop_timer_open;
	uv_timer_t stop_timer;   /* bounds how long close waits for answers to drain */
	uv_timer_t sweep;        /* closes idle and slow connections */
	bool sweep_open;
	/* Fairness (issue 15.4): at most HTTP_READ_BUDGET bytes read from all
	 * connections per loop iteration; past it a connection stops reading
	 * until the next iteration (the prepare handle restarts it). */
	uv_prepare_t budget;
	bool budget_open;
	size_t iter_read;
	http_conn *throttled;
	size_t buffered;         /* sum of conns' partial */
	size_t nopen;            /* accepted and not closing: what max_conns bounds */
	http_server_stats st;
	void (*done)(void *);
	void *done_ud;
	/* One read buffer for every connection: libuv hands it back to on_read
	 * before asking again, and parsing copies what it keeps. */
	char rbuf[64 * 1024];
};

extern const http_parser_settings http_parse_settings;

/* Serves the complete common requests at the start of buf without
 * http-parser (http_fast.h), while the connection is between requests;
 * returns the bytes they took. The rest, from the first request it
 * declines, goes to http_parser_execute. */
size_t http_fast_requests(http_conn *c, const char *buf, size_t len);

hreq *hreq_new(http_conn *c);
void hreq_release(hreq *r); /* back to the server's free list, or free() */
void hreq_free(hreq *r);    /* really frees (free list teardown) */

/* Appends the request to the connection's queue (call before the handler). */
void http_conn_enqueue(http_conn *c, hreq *r);
/* Moves every answered request at the head of the queue into c->out. */
void http_conn_drain(http_conn *c);
/* Starts a write of c->out when none is in flight; closes when done. */
void http_conn_flush(http_conn *c);
void http_conn_close(http_conn *c);

/* The partly received request is gone (complete, refused, or the
 * connection closed): its body no longer counts against max_buffered. */
void http_conn_forget_partial(http_conn *c);

/* Queues a JSON error response and stops reading requests on c. */
void http_conn_fail(http_conn *c, int status);

/* Percent-decodes n bytes of src into dst (room for n bytes). plus = '+' means
 * space (query strings). strict: a bad escape or %00 is an error (-1).
 * Returns the decoded length. */
long http_pct_decode(const char *src, size_t n, char *dst, bool plus, bool strict);

#endif
