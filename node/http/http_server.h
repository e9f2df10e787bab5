/*
 * http_server.h — a small HTTP/1.1 server on a libuv loop, parsing with
 * Debian's libhttp-parser. Used by the node (client, admin and metrics API)
 * and by the fault agent.
 *
 * Keep-alive and pipelined requests are supported; responses go out in
 * request order even when a handler answers later (asynchronously, e.g. after
 * a Raft commit). Malformed requests get 400, bodies over the limit 413, URLs
 * or headers over the limit 431/414, and the connection is closed; the server
 * never crashes on input.
 */
#ifndef RAFTKV_HTTP_SERVER_H
#define RAFTKV_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct http_server http_server;
typedef struct http_request http_request;

struct http_request {
	const char *method;    /* "GET", "PUT", ... */
	const char *path;      /* decoded path, without the query string, NUL-terminated */
	const char *query;     /* raw query string without '?', "" if none */
	const char *body;      /* NUL-terminated for convenience; may contain NULs (use body_len) */
	size_t body_len;
	const char *authorization; /* value of the Authorization header, or NULL */
	void *user;            /* free for the handler's use */
	bool shed;             /* the shed hook refused it at its headers: the body
	                        * was read and discarded (body_len 0); answer 503 */
};

/* Called once per request. The handler must eventually call http_respond
 * exactly once for req (now or later). req stays valid until then. */
typedef void (*http_handler)(void *ud, http_request *req);

/* A field left 0 (or lim NULL) takes its default. */
typedef struct http_server_limits {
	size_t max_body;       /* default 1 MiB + 4 KiB */
	size_t max_url;        /* default 8 KiB */
	size_t max_headers;    /* total header bytes, default 16 KiB */
	/* Open client connections, default 4096; never more than the process's
	 * descriptor limit less HTTP_FD_RESERVE, which stays free for the WAL,
	 * the peers and the files a node opens. One over the limit is accepted
	 * and closed at once. */
	size_t max_conns;
	/* Bytes of request bodies still arriving, over all connections (default
	 * 256 MiB); a body that would pass it is refused with 503. */
	size_t max_buffered;
	uint32_t idle_timeout_ms;   /* no request in progress and nothing to send: close (60 s) */
	uint32_t header_timeout_ms; /* first byte of a request to its last header: else 408 (10 s) */
	uint32_t body_timeout_ms;   /* first byte of a request to its last body byte: else 408 (60 s) */
} http_server_limits;

#define HTTP_FD_RESERVE 256

typedef struct http_server_stats {
	uint64_t conns;           /* open now */
	uint64_t refused_conns;   /* over max_conns: closed at once */
	uint64_t shed_conns;      /* closed to free a descriptor after accept ran out */
	uint64_t timed_out;       /* idle, header-slow or body-slow connections closed */
	uint64_t buffered;        /* body bytes of requests still arriving, now */
	uint64_t refused_buffered;/* requests refused (503) for the buffered-bytes cap */
	uint64_t shed;           /* requests refused by the shed hook at their headers */
} http_server_stats;
void http_server_get_stats(const http_server *s, http_server_stats *st);

/* 0, or -1 with one line in err (e.g. "http address :2020: address already in use").
 * On failure the half-made server is freed once the loop runs. Sets SIGPIPE
 * to ignored if it still has its default disposition (see net_ignore_sigpipe). */
int http_server_start(uv_loop_t *loop, const char *addr, const http_server_limits *lim,
		      http_handler h, void *ud, http_server **out, char *err, size_t errlen);

/* Adds response headers to every response (e.g. X-Raft-Node). The callback
 * returns a block of complete header lines ("Name: value\r\n" each) and its
 * length in *len, valid until its next call (the server copies it at once),
 * or NULL for none. */
typedef const char *(*http_header_fn)(void *ud, size_t *len);
void http_server_set_common_headers(http_server *s, http_header_fn fn, void *ud);

/* Load shedding at the headers (issue 15.4): called once the headers of a
 * request with a body are in (method, decoded path, announced length). true
 * = the request will be refused anyway: its body is read and discarded, never
 * buffered, and the handler gets it with req->shed set. A refused flood then
 * costs the node the reading alone, not a buffer, a copy and a parse. */
typedef bool (*http_shed_fn)(void *ud, const char *method, const char *path, uint64_t body_len);
void http_server_set_shed(http_server *s, http_shed_fn fn, void *ud);

/* Sends the response for req. content_type NULL = application/json.
 * body is copied. After this req must not be used. If the client connection
 * has gone, the response is discarded silently. */
void http_respond(http_request *req, int status, const char *content_type,
		  const char *body, size_t len);

/* Query parameter lookup: copies the URL-decoded value of name into a
 * malloc'd string (*out) and returns 0; -1 if absent (or out of memory);
 * -2 if its value decodes to a NUL byte (%00), which a C string would
 * silently cut: callers answer 400. */
int http_query_get(const http_request *req, const char *name, char **out);

/* The same lookup into the caller's buf (cap bytes), without an allocation:
 * 0, -1, -2 as above; -3 if the raw value has cap bytes or more, whatever
 * it decodes to. For values that only ever match short words. */
int http_query_copy(const http_request *req, const char *name, char *buf, size_t cap);

/* "Authorization: Bearer T" check: true when token is NULL (none required)
 * or the header carries exactly token; "Bearer" in any case. Constant time
 * in both the token and the header (compares SHA-256 digests). */
bool http_bearer_ok(const char *authorization, const char *token);

/* Closes the listener and every connection; done(ud) runs (may be NULL) once
 * all handles are closed and s is freed. Requests still with a handler are
 * detached: their http_respond discards and frees them. */
void http_server_close(http_server *s, void (*done)(void *ud), void *ud);

/* The bound TCP port (useful after binding ":0" in tests), or -1. */
int http_server_port(const http_server *s);

#endif
