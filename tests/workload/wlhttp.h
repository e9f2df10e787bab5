/*
 * wlhttp.h — the workload's own HTTP/1.1 client for the operations it
 * measures: one keep-alive connection per logical client, non-blocking
 * sockets on one epoll set, no retries.
 *
 * libcurl (still used for admin and agent calls) costs about three poll(2)
 * calls, an option reset and a URL parse per request; at bench rates that
 * made the load generator, not the node, the limit. Here a request is one
 * send and, usually, one recv.
 *
 * Outcome rules, which the history depends on (classify.h):
 *   status > 0   a complete response arrived;
 *   status == 0  none did (err says why); `not_sent` is set only when the
 *                request provably never left: a brand-new connection was
 *                refused or its address could not be resolved. There is no
 *                retry, so nothing is ever sent twice.
 */
#ifndef RAFTKV_WL_HTTP_H
#define RAFTKV_WL_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../../node/common/bytebuf.h"

/* Where one node's API lives, parsed from "http://host:port[/prefix]". */
typedef struct wh_target {
	char *host;            /* for getaddrinfo */
	char *port;
	char *hostport;        /* Host header */
	char *prefix;          /* path prefix, "" when none */
	struct sockaddr_storage addr;
	socklen_t addr_len;    /* 0: not resolved (yet, or again after a failure) */
} wh_target;

/* 0, or -1 on a URL it cannot use / out of memory (err filled). */
int wh_target_parse(wh_target *t, const char *url, char *err, size_t errlen);
void wh_target_free(wh_target *t);

enum wh_state { WH_IDLE, WH_CONNECTING, WH_SENDING, WH_RECEIVING };

typedef struct wh_conn {
	int fd;                /* -1: no connection */
	int state;             /* enum wh_state */
	int new_conn;          /* the current request opened this connection */
	bytebuf out;           /* the request */
	size_t out_off;
	bytebuf in;            /* the response as received */
	size_t scanned;        /* header terminator search resumes here */
	size_t body_off;       /* 0 until the head is parsed */
	size_t body_len;
	int has_len;
	int close_after;
	/* outcome */
	long status;
	int not_sent;
	char err[160];
} wh_conn;

void wh_init(wh_conn *h);
/* Closes the connection and frees the buffers. */
void wh_free(wh_conn *h);

/*
 * Starts one request. owner is the epoll data pointer for the connection.
 * Returns 0 when the request is under way (finish comes from wh_on_event or
 * wh_abort), 1 when it already ended (a failure: status 0), -1 out of memory
 * (nothing started).
 */
int wh_start(wh_conn *h, int epfd, wh_target *t, void *owner, const char *method,
	     const char *path, const char *ctype, const char *body, size_t body_len);

/* Feeds epoll events for h's socket. Returns 1 when the request ended (see
 * status), 0 otherwise. Events on an idle connection (the node closed it)
 * close it quietly. */
int wh_on_event(wh_conn *h, uint32_t events);

/* Ends the request in flight without an answer (timeout): the connection
 * is closed, since a late response could otherwise be read as the next. */
void wh_abort(wh_conn *h, const char *why);

/* The response body, NUL-terminated (valid until the next wh_start). */
const char *wh_body(const wh_conn *h);

#endif
