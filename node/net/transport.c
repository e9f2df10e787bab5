/*
 * transport.c — the peer transport's public face: start, peers, send, stats,
 * close. Dialing lives in transport_dial.c, accepting in transport_accept.c;
 * the handshake and streams are described in WIRE.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "../common/addr.h"
#include "transport_internal.h"

void frame_vec_free(frame_vec *fv)
{
	for (size_t i = 0; i < fv->n; i++)
		free(fv->v[i].base);
	free(fv->v);
	fv->v = NULL;
	fv->n = fv->cap = fv->bytes = 0;
}

void transport_handle_closed(uv_handle_t *h)
{
	transport *t = h->data;
	t->open_handles--;
	transport_maybe_done(t);
}

void transport_maybe_done(transport *t)
{
	if (!t->closing || t->open_handles > 0 || t->pending_reqs > 0)
		return;
	for (size_t i = 0; i < t->npeers; i++) {
		free(t->peers[i]->addr);
		free(t->peers[i]->host);
		free(t->peers[i]);
	}
	free(t->peers);
	if (t->secret != NULL)
		OPENSSL_cleanse(t->secret, t->secret_len);
	free(t->secret);
	void (*done)(void *) = t->done;
	void *ud = t->done_ud;
	free(t);
	if (done)
		done(ud);
}

int transport_start(uv_loop_t *loop, uint32_t self, const char *listen_addr,
		    transport_recv_cb cb, void *ud, transport **out, char *err, size_t errlen)
{
	struct sockaddr_in sa;
	char why[300];
	if (addr_parse(listen_addr, &sa, why, sizeof why) != 0) {
		snprintf(err, errlen, "raft address %s: %s", listen_addr ? listen_addr : "(null)", why);
		return -1;
	}
	net_ignore_sigpipe();
	transport *t = calloc(1, sizeof *t);
	if (t == NULL) {
		snprintf(err, errlen, "raft address %s: out of memory", listen_addr);
		return -1;
	}
	t->loop = loop;
	t->self = self;
	t->cb = cb;
	t->ud = ud;
	t->queue_limit = TRANSPORT_QUEUE_LIMIT_DEFAULT;
	int rc = uv_prepare_init(loop, &t->flusher);
	if (rc != 0) {
		snprintf(err, errlen, "raft address %s: %s", listen_addr, uv_strerror(rc));
		free(t);
		return -1;
	}
	t->flusher.data = t;
	t->open_handles++;
	rc = uv_timer_init(loop, &t->sweep);
	if (rc != 0) {
		snprintf(err, errlen, "raft address %s: %s", listen_addr, uv_strerror(rc));
		t->closing = true;
		uv_close((uv_handle_t *)&t->flusher, transport_handle_closed);
		return -1;
	}
	t->sweep.data = t;
	t->open_handles++;
	if (uv_timer_start(&t->sweep, transport_sweep_inbound, 1000, 1000) == 0)
		uv_unref((uv_handle_t *)&t->sweep); /* never keeps a loop alive by itself */
	rc = uv_tcp_init(loop, &t->listener);
	if (rc == 0) {
		t->listener.data = t;
		t->open_handles++;
		rc = uv_tcp_bind(&t->listener, (const struct sockaddr *)&sa, 0);
		if (rc == 0)
			rc = uv_listen((uv_stream_t *)&t->listener, 128, transport_on_connection);
	}
	if (rc != 0) {
		snprintf(err, errlen, "raft address %s: %s", listen_addr, uv_strerror(rc));
		/* Freed by the close callbacks once the loop runs. */
		transport_close(t, NULL, NULL);
		return -1;
	}
	*out = t;
	return 0;
}

int transport_port(const transport *t)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;
	if (uv_tcp_getsockname(&t->listener, (struct sockaddr *)&ss, &len) != 0 ||
	    ss.ss_family != AF_INET)
		return -1;
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static peer *find_peer(const transport *t, uint32_t id)
{
	for (size_t i = 0; i < t->npeers; i++)
		if (t->peers[i]->id == id && !t->peers[i]->removed)
			return t->peers[i];
	return NULL;
}

bool transport_is_member(const transport *t, uint32_t id)
{
	return find_peer(t, id) != NULL;
}

int transport_set_secret(transport *t, const void *key, size_t len)
{
	if (len == 0)
		return -1;
	uint8_t *k = malloc(len);
	if (k == NULL)
		return -1;
	memcpy(k, key, len);
	if (t->secret != NULL)
		OPENSSL_cleanse(t->secret, t->secret_len);
	free(t->secret);
	t->secret = k;
	t->secret_len = len;
	return 0;
}

int transport_remove_peer(transport *t, uint32_t id)
{
	peer *p = t->closing ? NULL : find_peer(t, id);
	if (p == NULL)
		return -1;
	p->removed = true;
	peer_shutdown(p);
	return 0;
}

int transport_add_peer(transport *t, uint32_t id, const char *addr)
{
	if (t->closing || id == t->self || find_peer(t, id) != NULL)
		return -1;
	char host[256], why[128];
	uint16_t port;
	if (addr_split(addr, host, sizeof host, &port, why, sizeof why) != 0 || port == 0)
		return -1;
	if (t->npeers == t->cap_peers) {
		size_t cap = t->cap_peers ? t->cap_peers * 2 : 4;
		peer **np = realloc(t->peers, cap * sizeof *np);
		if (np == NULL)
			return -1;
		t->peers = np;
		t->cap_peers = cap;
	}
	peer *p = calloc(1, sizeof *p);
	if (p == NULL)
		return -1;
	p->t = t;
	p->id = id;
	p->port = port;
	p->addr = strdup(addr);
	/* ":PORT" means this machine when dialing. */
	p->host = strdup(host[0] ? host : "127.0.0.1");
	if (p->addr == NULL || p->host == NULL || uv_timer_init(t->loop, &p->timer) != 0) {
		free(p->addr);
		free(p->host);
		free(p);
		return -1;
	}
	p->timer.data = p;
	t->open_handles++;
	p->backoff_ms = TRANSPORT_BACKOFF_MIN_MS;
	t->peers[t->npeers++] = p;
	peer_dial(p);
	return 0;
}

int transport_send_frame(transport *t, uint32_t to, uint8_t *frame, size_t len)
{
	peer *p = t->closing ? NULL : find_peer(t, to);
	int rc = p ? peer_enqueue(p, frame, len) : -2;
	if (rc != 0) {
		if (rc == -2)
			t->st.dropped_not_connected++;
		else
			t->st.dropped_queue_full++;
		free(frame);
		return -1;
	}
	return 0;
}

void transport_set_queue_limit(transport *t, size_t bytes)
{
	t->queue_limit = bytes;
}

void transport_get_stats(const transport *t, transport_stats *st)
{
	*st = t->st;
}

void transport_close(transport *t, void (*done)(void *ud), void *ud)
{
	t->closing = true;
	t->done = done;
	t->done_ud = ud;
	while (t->inbound)
		in_conn_close(t->inbound);
	for (size_t i = 0; i < t->npeers; i++)
		if (!t->peers[i]->removed)
			peer_shutdown(t->peers[i]);
	if (!uv_is_closing((uv_handle_t *)&t->listener) && t->listener.data == t)
		uv_close((uv_handle_t *)&t->listener, transport_handle_closed);
	if (!uv_is_closing((uv_handle_t *)&t->flusher))
		uv_close((uv_handle_t *)&t->flusher, transport_handle_closed);
	if (t->sweep.data == t && !uv_is_closing((uv_handle_t *)&t->sweep))
		uv_close((uv_handle_t *)&t->sweep, transport_handle_closed);
	transport_maybe_done(t);
}
