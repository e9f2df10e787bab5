/*
 * transport_dial.c — the outbound side: one connection per peer, used only
 * for sending.
 *
 * A peer cycles IDLE -> (RESOLVING) -> CONNECTING -> CONNECTED, and on any
 * failure -> BACKOFF -> IDLE again, waiting 50 ms, then twice as long each
 * failed attempt up to 1 s (reset by a successful connect). A connection
 * counts as connected once the receiver's challenge has arrived and our
 * hello (WIRE.md: ids, and a proof over the challenge's nonce when the
 * cluster has a secret) is the first frame queued; the connect timeout
 * covers the handshake too.
 *
 * Frames queue per connection and leave in one writev per loop iteration
 * (the transport's prepare handle runs once before the loop blocks), so a
 * burst of Raft messages to a peer costs one writev. The writev is tried at
 * once (uv_try_write); only bytes the socket refuses go through uv_write. Frames queued while not
 * connected, or past the byte limit, are dropped: Raft retransmits.
 */
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "../common/addr.h"
#include "peer_auth.h"
#include "wire.h"
#include "transport_internal.h"

static void peer_retry_later(peer *p);

/* ------------------------------------------------------------ frame lists */

static int frame_vec_push(frame_vec *fv, uint8_t *frame, size_t len)
{
	if (fv->n == fv->cap) {
		size_t cap = fv->cap ? fv->cap * 2 : 16;
		uv_buf_t *nv = realloc(fv->v, cap * sizeof *nv);
		if (nv == NULL)
			return -1;
		fv->v = nv;
		fv->cap = cap;
	}
	fv->v[fv->n++] = uv_buf_init((char *)frame, (unsigned)len);
	fv->bytes += len;
	return 0;
}

/* Frees the frames but keeps the array for reuse. */
static void frame_vec_clear(frame_vec *fv)
{
	for (size_t i = 0; i < fv->n; i++)
		free(fv->v[i].base);
	fv->n = 0;
	fv->bytes = 0;
}

/* ------------------------------------------------------------ connection teardown */

static void on_out_closed(uv_handle_t *h)
{
	out_conn *c = h->data;
	transport *t = c->t;
	frame_vec_free(&c->pending);
	frame_vec_free(&c->inflight);
	free(c);
	t->open_handles--;
	transport_maybe_done(t);
}

/* A dropped connection must leave the flush list before it is freed. */
static void unlist_flush(out_conn *c)
{
	if (!c->queued_flush)
		return;
	out_conn **pp = &c->t->flush_list;
	while (*pp && *pp != c)
		pp = &(*pp)->flush_next;
	if (*pp)
		*pp = c->flush_next;
	c->queued_flush = false;
}

/* Abandons p's current connection; its memory goes in the close callback. */
static void out_conn_drop(peer *p)
{
	out_conn *c = p->conn;
	if (c == NULL)
		return;
	p->conn = NULL;
	if (c->connected)
		p->t->st.disconnects++;
	c->p = NULL;
	c->closing = true;
	unlist_flush(c);
	/* Anything not yet written is dropped now; the in-flight write gets
	 * its callback (cancelled) before the handle's close callback. */
	frame_vec_clear(&c->pending);
	c->n_urgent = 0;
	uv_close((uv_handle_t *)&c->tcp, on_out_closed);
}

static void out_conn_fail(out_conn *c)
{
	peer *p = c->p;
	if (p == NULL || p->conn != c)
		return;
	out_conn_drop(p);
	peer_retry_later(p);
}

/* ------------------------------------------------------------ writing */

static void schedule_flush(out_conn *c);

static void on_write(uv_write_t *req, int status)
{
	out_conn *c = req->data;
	c->writing = false;
	if (status == 0) {
		c->t->st.frames_sent += c->inflight.n;
		c->t->st.bytes_sent += c->inflight.bytes;
	}
	frame_vec_clear(&c->inflight);
	if (c->closing)
		return;
	if (status < 0) {
		out_conn_fail(c);
		return;
	}
	if (c->pending.n > 0)
		schedule_flush(c);
}

static void out_conn_write(out_conn *c)
{
	if (c->writing || c->closing || !c->connected || c->pending.n == 0)
		return;
	/* Swap lists: pending goes out, the old in-flight array collects anew. */
	frame_vec tmp = c->inflight;
	c->inflight = c->pending;
	c->pending = tmp;
	c->n_urgent = 0;
	/* Try the writev at once: when the socket takes everything nothing is
	 * queued, so there is no write callback, no extra loop pass and no
	 * epoll_ctl (libuv re-arms the watcher whenever a queued write drains).
	 * Only what the socket refused goes through uv_write. */
	size_t done = 0;
	if (c->inflight.bytes <= INT_MAX && c->inflight.n <= INT_MAX) {
		int n = uv_try_write((uv_stream_t *)&c->tcp, c->inflight.v,
				     (unsigned)c->inflight.n);
		if (n < 0 && n != UV_EAGAIN) {
			frame_vec_clear(&c->inflight);
			out_conn_fail(c);
			return;
		}
		if (n > 0)
			done = (size_t)n;
	}
	if (done == c->inflight.bytes) {
		c->t->st.frames_sent += c->inflight.n;
		c->t->st.bytes_sent += c->inflight.bytes;
		frame_vec_clear(&c->inflight);
		return;
	}
	/* Skip the frames already written; uv_write copies the buffer array,
	 * so the first partial frame's entry is adjusted for the call only
	 * (the original base is what frame_vec_clear frees). */
	size_t first = 0;
	while (done >= c->inflight.v[first].len) {
		done -= c->inflight.v[first].len;
		first++;
	}
	uv_buf_t saved = c->inflight.v[first];
	c->inflight.v[first] = uv_buf_init(saved.base + done, (unsigned)(saved.len - done));
	c->wreq.data = c;
	int rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, c->inflight.v + first,
			  (unsigned)(c->inflight.n - first), on_write);
	c->inflight.v[first] = saved;
	if (rc != 0) {
		frame_vec_clear(&c->inflight);
		out_conn_fail(c);
		return;
	}
	c->writing = true;
}

static void schedule_flush(out_conn *c)
{
	if (c->queued_flush)
		return;
	transport *t = c->t;
	c->queued_flush = true;
	c->flush_next = t->flush_list;
	t->flush_list = c;
	if (!t->flusher_active) {
		if (uv_prepare_start(&t->flusher, transport_flush_all) != 0) {
			/* Cannot defer: write now, unbatched. */
			t->flush_list = c->flush_next;
			c->queued_flush = false;
			out_conn_write(c);
			return;
		}
		t->flusher_active = true;
	}
}

void transport_flush_all(uv_prepare_t *h)
{
	transport *t = h->data;
	out_conn *list = t->flush_list;
	t->flush_list = NULL;
	while (list) {
		out_conn *c = list;
		list = c->flush_next;
		c->queued_flush = false;
		/* A connection dropped since it was listed is still allocated:
		 * its close callback runs after this phase. */
		if (!c->closing)
			out_conn_write(c);
	}
	if (t->flush_list == NULL) {
		/* uv_prepare_stop always succeeds on a valid handle. */
		if (uv_prepare_stop(&t->flusher) == 0)
			t->flusher_active = false;
	}
}

/* Everything but bulk data (appends, forwarded proposals, snapshot chunks)
 * is small and decides leadership or commit: heartbeats, votes and answers
 * (snapshot ACKs included). */
static bool frame_urgent(const uint8_t *frame, size_t len)
{
	return len > 5 && frame[5] != RAFT_MSG_APPEND && frame[5] != RAFT_MSG_PROPOSE &&
	       frame[5] != WIRE_MSG_SNAP_CHUNK;
}

int peer_enqueue(peer *p, uint8_t *frame, size_t len)
{
	out_conn *c = p->conn;
	if (c == NULL || !c->connected || c->closing)
		return -2;
	/* Control messages never wait behind bulk appends and never count
	 * against the byte limit (they are small and bounded by the core's
	 * own pace), so a flood of large writes cannot starve heartbeats
	 * and votes into an election (issue 15.4). Raft allows reordering. */
	bool urgent = frame_urgent(frame, len);
	if (!urgent && c->pending.bytes + c->inflight.bytes + len > p->t->queue_limit)
		return -1;
	if (frame_vec_push(&c->pending, frame, len) != 0)
		return -1;
	if (urgent && c->n_urgent < c->pending.n - 1) {
		/* Move it just behind the urgent frames already queued. */
		uv_buf_t b = c->pending.v[c->pending.n - 1];
		memmove(&c->pending.v[c->n_urgent + 1], &c->pending.v[c->n_urgent],
			(c->pending.n - 1 - c->n_urgent) * sizeof b);
		c->pending.v[c->n_urgent] = b;
	}
	if (urgent)
		c->n_urgent++;
	schedule_flush(c);
	return 0;
}

/* ------------------------------------------------------------ reading (to notice a close) */

static void on_out_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	out_conn *c = h->data;
	*buf = uv_buf_init(c->t->rbuf, sizeof c->t->rbuf);
}

/* The challenge is in: answer with the hello, and the connection is up. */
static void send_hello(out_conn *c)
{
	peer *p = c->p;
	transport *t = p->t;
	uint8_t nonce[WIRE_NONCE_LEN], mac[WIRE_MAC_LEN];
	const char *why;
	if (wire_decode_challenge(c->challenge, sizeof c->challenge, nonce, &why) != 0 ||
	    (t->secret != NULL &&
	     peer_auth_mac(t->secret, t->secret_len, t->self, p->id, nonce, mac) != 0) ||
	    uv_timer_stop(&p->timer) != 0) {
		out_conn_fail(c);
		return;
	}
	uint8_t *hello = malloc(WIRE_HELLO_LEN);
	if (hello == NULL) {
		out_conn_fail(c);
		return;
	}
	wire_encode_hello(t->self, p->id, t->secret != NULL ? mac : NULL, hello);
	c->connected = true;
	p->state = PEER_CONNECTED;
	p->backoff_ms = TRANSPORT_BACKOFF_MIN_MS;
	t->st.connects++;
	if (frame_vec_push(&c->pending, hello, WIRE_HELLO_LEN) != 0) {
		free(hello);
		out_conn_fail(c);
		return;
	}
	c->n_urgent = 1; /* the hello stays first: urgent frames queue behind it */
	schedule_flush(c);
}

static void on_out_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	out_conn *c = s->data;
	/* EOF or an error means the peer (or the path to it) is gone. */
	if (nread < 0) {
		out_conn_fail(c);
		return;
	}
	/* After the challenge peers never send on our outbound connection;
	 * later bytes are ignored. */
	if (c->connected || c->closing || c->p == NULL || nread == 0)
		return;
	size_t want = sizeof c->challenge - c->challenge_got;
	if ((size_t)nread > want) {
		out_conn_fail(c); /* more than a challenge before our hello */
		return;
	}
	memcpy(c->challenge + c->challenge_got, buf->base, (size_t)nread);
	c->challenge_got += (size_t)nread;
	if (c->challenge_got >= 6 &&
	    wire_frame_length(c->challenge, c->challenge_got) != WIRE_CHALLENGE_LEN) {
		out_conn_fail(c);
		return;
	}
	if (c->challenge_got == sizeof c->challenge)
		send_hello(c);
}

/* ------------------------------------------------------------ connecting */

static void on_connect(uv_connect_t *req, int status)
{
	out_conn *c = req->data;
	peer *p = c->p;
	if (c->closing || p == NULL)
		return;
	if (status < 0) {
		out_conn_fail(c);
		return;
	}
	/* The connect timeout keeps running until the challenge is in. */
	if (uv_tcp_nodelay(&c->tcp, 1) != 0 || uv_tcp_keepalive(&c->tcp, 1, 5) != 0 ||
	    uv_read_start((uv_stream_t *)&c->tcp, on_out_alloc, on_out_read) != 0)
		out_conn_fail(c);
}

static void on_connect_timeout(uv_timer_t *tm)
{
	peer *p = tm->data;
	if (p->state == PEER_CONNECTING && p->conn)
		out_conn_fail(p->conn);
}

static void connect_to(peer *p, const struct sockaddr_in *sa)
{
	transport *t = p->t;
	out_conn *c = calloc(1, sizeof *c);
	if (c == NULL) {
		peer_retry_later(p);
		return;
	}
	if (uv_tcp_init(t->loop, &c->tcp) != 0) {
		free(c);
		peer_retry_later(p);
		return;
	}
	c->tcp.data = c;
	c->t = t;
	t->open_handles++;
	c->p = p;
	c->creq.data = c;
	p->conn = c;
	p->state = PEER_CONNECTING;
	if (uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)sa, on_connect) != 0 ||
	    uv_timer_start(&p->timer, on_connect_timeout, TRANSPORT_CONNECT_TIMEOUT_MS, 0) != 0) {
		out_conn_fail(c);
		return;
	}
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	peer *p = req->data;
	transport *t = p->t;
	t->pending_reqs--;
	p->gai_busy = false;
	if (t->closing || p->removed) {
		uv_freeaddrinfo(res);
		transport_maybe_done(t);
		return;
	}
	struct sockaddr_in sa;
	bool ok = status == 0 && res != NULL && res->ai_family == AF_INET;
	if (ok) {
		memcpy(&sa, res->ai_addr, sizeof sa);
		sa.sin_port = htons(p->port);
	}
	uv_freeaddrinfo(res);
	if (!ok) {
		/* Names of peers not started yet may not resolve: keep trying. */
		peer_retry_later(p);
		return;
	}
	connect_to(p, &sa);
}

void peer_dial(peer *p)
{
	transport *t = p->t;
	if (t->closing || p->removed || p->conn != NULL || p->gai_busy)
		return;
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(p->port);
	if (addr_host_numeric(p->host, &sa.sin_addr)) {
		connect_to(p, &sa);
		return;
	}
	/* Resolved again on every attempt: a restarted container may come
	 * back with another address. */
	struct addrinfo hints;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	p->gai.data = p;
	p->state = PEER_RESOLVING;
	if (uv_getaddrinfo(t->loop, &p->gai, on_resolved, p->host, NULL, &hints) != 0) {
		peer_retry_later(p);
		return;
	}
	p->gai_busy = true;
	t->pending_reqs++;
}

static void on_retry(uv_timer_t *tm)
{
	peer *p = tm->data;
	p->state = PEER_IDLE;
	peer_dial(p);
}

static void peer_retry_later(peer *p)
{
	if (p->t->closing || p->removed)
		return;
	p->state = PEER_BACKOFF;
	unsigned delay = p->backoff_ms;
	p->backoff_ms = delay * 2 > TRANSPORT_BACKOFF_MAX_MS ? TRANSPORT_BACKOFF_MAX_MS : delay * 2;
	if (uv_timer_start(&p->timer, on_retry, delay, 0) != 0) {
		/* A timer that cannot start leaves the peer idle; the next
		 * add/send cannot revive it, so say so loudly in stats. */
		p->state = PEER_IDLE;
		p->t->st.disconnects++;
	}
}

void peer_shutdown(peer *p)
{
	out_conn_drop(p);
	if (p->gai_busy)
		(void)uv_cancel((uv_req_t *)&p->gai); /* a resolve already running finishes */
	if (!uv_is_closing((uv_handle_t *)&p->timer)) {
		p->timer.data = p->t;
		uv_close((uv_handle_t *)&p->timer, transport_handle_closed);
	}
}
