/*
 * transport_internal.h — what the transport's files share (not public).
 *
 *   transport.c          start, peers, send, stats, close
 *   transport_dial.c     outbound connections: resolve, connect, backoff, batched writes
 *   transport_accept.c   inbound connections: handshake, streaming frame decoder
 */
#ifndef RAFTKV_TRANSPORT_INTERNAL_H
#define RAFTKV_TRANSPORT_INTERNAL_H

#include <stdbool.h>
#include <uv.h>

#include "../common/bytebuf.h"
#include "transport.h"
#include "wire.h"

#define TRANSPORT_BACKOFF_MIN_MS 50
#define TRANSPORT_BACKOFF_MAX_MS 1000
#define TRANSPORT_CONNECT_TIMEOUT_MS 1000
#define TRANSPORT_QUEUE_LIMIT_DEFAULT (16u << 20)
/* Inbound connections: a member has one (a newer one from the same id
 * replaces it), so this many is room for any cluster plus strangers still
 * in their handshake, which must send their hello within the timeout. */
#define TRANSPORT_MAX_INBOUND 64
#define TRANSPORT_HELLO_TIMEOUT_MS 5000

/* A list of owned frames (each base was malloc'd and is freed by us). */
typedef struct frame_vec {
	uv_buf_t *v;
	size_t n, cap;
	size_t bytes;
} frame_vec;

typedef struct out_conn out_conn;
typedef struct peer peer;

/* One outbound TCP connection attempt; replaced on every reconnect because a
 * closing libuv handle must stay allocated until its close callback. */
struct out_conn {
	uv_tcp_t tcp;
	uv_connect_t creq;
	uv_write_t wreq;
	transport *t;
	peer *p;           /* NULL once abandoned (closing) */
	frame_vec pending; /* queued, not yet handed to libuv */
	size_t n_urgent;   /* pending's first n_urgent frames: control messages, ahead of bulk */
	frame_vec inflight;/* handed to uv_write, freed in its callback */
	bool connected;
	bool writing;
	bool closing;
	bool queued_flush; /* on the transport's flush list */
	/* The receiver's challenge, gathered before the hello can go out. */
	uint8_t challenge[WIRE_CHALLENGE_LEN];
	size_t challenge_got;
	out_conn *flush_next;
};

enum peer_state { PEER_IDLE, PEER_RESOLVING, PEER_CONNECTING, PEER_CONNECTED, PEER_BACKOFF };

struct peer {
	transport *t;
	uint32_t id;
	char *addr;                /* as given, for messages */
	char *host;                /* resolved on each dial when not numeric */
	uint16_t port;
	enum peer_state state;
	unsigned backoff_ms;
	uv_timer_t timer;          /* retry delay and connect timeout */
	uv_getaddrinfo_t gai;
	bool gai_busy;
	bool removed;              /* kept (inert) until transport close: a resolve may still hold it */
	out_conn *conn;
};

typedef struct in_conn {
	uv_tcp_t tcp;
	transport *t;
	struct in_conn *prev, *next;
	bytebuf in;                /* bytes of a frame not yet complete */
	bool hello_done;
	bool closing;
	uint32_t from;
	uint64_t accepted_ms;      /* loop clock: the hello is due within TRANSPORT_HELLO_TIMEOUT_MS */
	uv_write_t wreq;           /* the challenge, our only write */
	uint8_t challenge[WIRE_CHALLENGE_LEN];
	uint8_t nonce[WIRE_NONCE_LEN];
} in_conn;

struct transport {
	uv_loop_t *loop;
	uint32_t self;
	transport_recv_cb cb;
	void *ud;
	uv_tcp_t listener;
	uv_prepare_t flusher;      /* one batched write per peer per loop iteration */
	bool flusher_active;
	out_conn *flush_list;
	peer **peers;
	size_t npeers, cap_peers;
	in_conn *inbound;
	size_t n_inbound;          /* open (not closing) inbound connections */
	uv_timer_t sweep;          /* closes inbound connections whose hello is late */
	size_t queue_limit;
	uint8_t *secret;           /* cluster secret for hello proofs, NULL = none */
	size_t secret_len;
	transport_stats st;
	int open_handles;          /* every initialised handle not yet closed */
	int pending_reqs;          /* getaddrinfo requests not yet called back */
	bool closing;
	void (*done)(void *);
	void *done_ud;
	char rbuf[64 * 1024];      /* shared read buffer: on_read consumes it at once */
};

void transport_maybe_done(transport *t);
void transport_handle_closed(uv_handle_t *h); /* for handles with no struct of their own */
bool transport_is_member(const transport *t, uint32_t id); /* a declared, not removed peer */

void frame_vec_free(frame_vec *fv);

/* transport_dial.c */
void peer_dial(peer *p);
void peer_shutdown(peer *p);               /* close everything of p (transport closing) */
/* 0 queued; -1 over the byte limit (or ENOMEM), -2 not connected: the
 * caller frees the frame on either error. */
int peer_enqueue(peer *p, uint8_t *frame, size_t len);
void transport_flush_all(uv_prepare_t *h);

/* transport_accept.c */
void transport_on_connection(uv_stream_t *ls, int status);
void in_conn_close(in_conn *c);
void transport_sweep_inbound(uv_timer_t *tm); /* every second: late hellos */

#endif
