/*
 * transport_accept.c — the inbound side: connections peers dial to us, used
 * only for receiving.
 *
 * On accept we send a challenge with a fresh nonce. Bytes are appended to the
 * connection's buffer and cut into frames with wire_frame_length; the first
 * frame must be a hello addressed to this node from a declared peer (with a
 * valid proof over our nonce when the cluster has a secret), every later one
 * a message whose `from` matches the hello. Anything else
 * (a bad length, version, type or checksum, an HTTP request on the wrong
 * port, random bytes) counts as a bad frame and closes that connection only.
 */
#include <stdlib.h>
#include <string.h>

#include "peer_auth.h"
#include "wire.h"
#include "transport_internal.h"

static void on_in_closed(uv_handle_t *h)
{
	in_conn *c = h->data;
	transport *t = c->t;
	bytebuf_free(&c->in);
	free(c);
	t->open_handles--;
	transport_maybe_done(t);
}

void in_conn_close(in_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	transport *t = c->t;
	t->n_inbound--;
	if (c->prev)
		c->prev->next = c->next;
	else
		t->inbound = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	uv_close((uv_handle_t *)&c->tcp, on_in_closed);
}

static void bad_frame(in_conn *c)
{
	c->t->st.bad_frames++;
	in_conn_close(c);
}

/* Handles one complete frame. 0 to go on, -1 when the connection was closed. */
static int handle_frame(in_conn *c, const uint8_t *f, size_t len)
{
	transport *t = c->t;
	const char *why = NULL;
	if (!c->hello_done) {
		uint32_t from, to;
		uint8_t mac[WIRE_MAC_LEN];
		if (wire_decode_hello(f, len, &from, &to, mac, &why) != 0 || to != t->self ||
		    from == t->self || !transport_is_member(t, from) ||
		    (t->secret != NULL &&
		     !peer_auth_check(t->secret, t->secret_len, from, to, c->nonce, mac))) {
			bad_frame(c);
			return -1;
		}
		c->from = from;
		c->hello_done = true;
		/* One inbound connection per member: an older one from the same
		 * id is a dead connection of a restarted peer (or, without a
		 * secret, an impostor's); either way it goes. */
		for (in_conn *o = t->inbound; o != NULL;) {
			in_conn *next = o->next;
			if (o != c && o->hello_done && o->from == from)
				in_conn_close(o);
			o = next;
		}
		return 0;
	}
	t->st.frames_received++;
	t->st.bytes_received += len;
	/* The receiver decodes, and checks the frame names c->from and us. */
	if (t->cb(t->ud, c->from, f, len) != 0) {
		bad_frame(c);
		return -1;
	}
	/* The callback may have closed the transport. */
	return (c->closing || t->closing) ? -1 : 0;
}

/* Cuts complete frames from data; returns how many bytes were used, or -1
 * when the connection was closed. */
static long consume(in_conn *c, const uint8_t *data, size_t len)
{
	size_t off = 0;
	while (off < len) {
		long flen = wire_frame_length(data + off, len - off);
		if (flen < 0) {
			bad_frame(c);
			return -1;
		}
		/* The first frame must be a hello: anything announcing more is
		 * refused before a byte of it is buffered. */
		if (!c->hello_done && flen > 0 && flen != WIRE_HELLO_LEN) {
			bad_frame(c);
			return -1;
		}
		if (flen == 0 || (size_t)flen > len - off)
			break;
		if (handle_frame(c, data + off, (size_t)flen) != 0)
			return -1;
		off += (size_t)flen;
	}
	return (long)off;
}

static void on_in_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	in_conn *c = h->data;
	*buf = uv_buf_init(c->t->rbuf, sizeof c->t->rbuf);
}

static void on_in_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	in_conn *c = s->data;
	if (c->closing || nread == 0)
		return;
	if (nread < 0) {
		in_conn_close(c);
		return;
	}
	const uint8_t *data = (const uint8_t *)buf->base;
	size_t len = (size_t)nread;
	if (c->in.len == 0) {
		/* Common case: whole frames straight from the shared buffer,
		 * only a partial tail is copied. */
		long used = consume(c, data, len);
		if (used < 0)
			return;
		if ((size_t)used < len && bytebuf_append(&c->in, data + used, len - (size_t)used) != 0)
			in_conn_close(c);
		return;
	}
	if (bytebuf_append(&c->in, data, len) != 0) {
		in_conn_close(c);
		return;
	}
	long used = consume(c, c->in.data, c->in.len);
	if (used < 0)
		return;
	bytebuf_consume(&c->in, (size_t)used);
	/* Make room for the rest of a frame at once instead of doubling, up to
	 * 1 MiB: beyond that the buffer grows only as bytes really arrive, so
	 * announcing a 64 MiB frame and stalling costs the sender, not us. */
	long need = wire_frame_length(c->in.data, c->in.len);
	if (need > 0 && (size_t)need > c->in.len && (size_t)need <= (1u << 20) &&
	    bytebuf_reserve(&c->in, (size_t)need - c->in.len) != 0) {
		in_conn_close(c);
		return;
	}
	bytebuf_shrink(&c->in, 1u << 20);
}

void transport_sweep_inbound(uv_timer_t *tm)
{
	transport *t = tm->data;
	uint64_t now = uv_now(t->loop);
	for (in_conn *c = t->inbound; c != NULL;) {
		in_conn *next = c->next;
		if (!c->hello_done && now - c->accepted_ms >= TRANSPORT_HELLO_TIMEOUT_MS) {
			t->st.late_hellos++;
			in_conn_close(c);
		}
		c = next;
	}
}

static void on_challenge_written(uv_write_t *req, int status)
{
	in_conn *c = req->data;
	if (status < 0 && !c->closing)
		in_conn_close(c);
}

void transport_on_connection(uv_stream_t *ls, int status)
{
	transport *t = ls->data;
	if (status < 0 || t->closing)
		return;
	in_conn *c = calloc(1, sizeof *c);
	if (c == NULL)
		return;
	c->t = t;
	if (uv_tcp_init(t->loop, &c->tcp) != 0) {
		free(c);
		return;
	}
	c->tcp.data = c;
	t->open_handles++;
	t->n_inbound++;
	c->accepted_ms = uv_now(t->loop);
	c->next = t->inbound;
	if (t->inbound)
		t->inbound->prev = c;
	t->inbound = c;
	if (uv_accept(ls, (uv_stream_t *)&c->tcp) != 0 || uv_tcp_nodelay(&c->tcp, 1) != 0 ||
	    peer_auth_nonce(c->nonce) != 0) {
		in_conn_close(c);
		return;
	}
	if (t->n_inbound > TRANSPORT_MAX_INBOUND) {
		t->st.refused_inbound++;
		in_conn_close(c);
		return;
	}
	wire_encode_challenge(c->nonce, c->challenge);
	uv_buf_t b = uv_buf_init((char *)c->challenge, sizeof c->challenge);
	c->wreq.data = c;
	if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_challenge_written) != 0 ||
	    uv_read_start((uv_stream_t *)&c->tcp, on_in_alloc, on_in_read) != 0)
		in_conn_close(c);
}
