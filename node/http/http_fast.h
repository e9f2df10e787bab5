/*
 * http_fast.h — a strict scanner for the common, complete request, so that a
 * busy connection does not pay http-parser's per-byte state machine for every
 * PUT and GET (it was the node's largest single cost per request).
 *
 * It recognises only a subset of what http-parser accepts, and for that
 * subset gives the same answer http-parser gives (tests/unit/test_http_fast.c
 * compares the two on generated and mutated inputs). Anything else (a partial
 * request, HTTP/1.0, a header the server or http-parser treats specially,
 * an unusual byte) is declined, and the caller hands the bytes to
 * http-parser, which accepts or refuses them as before. The scanner itself
 * refuses nothing.
 *
 * Accepted: METHOD SP target SP "HTTP/1.1" CRLF, then header lines
 * "name:" OWS value CRLF, then CRLF, then exactly Content-Length body bytes
 * (none without the header), all present in the buffer. METHOD is GET, PUT,
 * POST, DELETE or HEAD; the target starts with '/' and holds only letters,
 * digits and -._~!$&'()*+,;=:@/%? ; names are tokens; values printable
 * ASCII, space or tab; at most one Content-Length, 1-15 digits. Declined
 * whatever their value: Connection, Proxy-Connection, Transfer-Encoding,
 * Upgrade, Expect, Authorization. The request line and headers together are
 * at most HTTP_FAST_MAX_HEAD bytes.
 */
#ifndef RAFTKV_HTTP_FAST_H
#define RAFTKV_HTTP_FAST_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_FAST_MAX_HEAD 8192

typedef struct http_fast_req {
	int method;          /* enum http_method */
	const char *url;     /* the raw request target (points into the buffer) */
	size_t url_len;
	size_t head_len;     /* bytes of the request line and headers, final CRLF included */
	uint64_t body_len;   /* Content-Length, 0 without one */
	const char *body;    /* points into the buffer, body_len bytes */
	size_t total;        /* head_len + body_len: the bytes the request takes */
} http_fast_req;

/* Byte classes (exported for the unit test). */
enum { HTTP_FAST_URL = 1, HTTP_FAST_TOKEN = 2, HTTP_FAST_VALUE = 4, HTTP_FAST_DIGIT = 8 };
extern const unsigned char http_fast_class[256];

/* 1: buf starts with one complete request of the accepted form (*out filled);
 * 0: declined (give the bytes to http-parser). */
int http_fast_parse(const char *buf, size_t len, http_fast_req *out);

#endif
