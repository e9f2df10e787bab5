/*
 * peer_io.c — the one door every peer message passes, out and in.
 *
 * Outbound (a frame whose WAL write is durable) and inbound (a decoded
 * message from the transport) alike ask the fault layer for a verdict: drop,
 * delay (held on a uv timer, real time), or duplicate. Then the frame goes to
 * transport_send_frame, or the message to raft_step. A paused node steps
 * nothing: inbound messages are dropped, as a stopped process would lose
 * them from a full socket buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "../net/wire.h"
#include "log.h"
#include "server_internal.h"

static void transmit(server *s, uint32_t to, uint8_t *frame, size_t len)
{
	if (transport_send_frame(s->transport, to, frame, len) != 0)
		s->metrics.msgs_dropped_queue++;
	else
		s->metrics.msgs_sent++;
}

static void step(server *s, const raft_msg *m)
{
	s->metrics.msgs_received++;
	/* A malformed message is ignored by the core; the peer retransmits. */
	(void)raft_step(s->raft, m);
	server_kick(s);
}

static void on_delayed_closed(uv_handle_t *h)
{
	delayed_msg *d = h->data;
	free(d->frame);
	free(d);
}

static void unlink_delayed(server *s, delayed_msg *d)
{
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		s->delayed = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	d->prev = d->next = NULL;
}

static void on_delay_fired(uv_timer_t *t)
{
	delayed_msg *d = t->data;
	server *s = d->s;
	unlink_delayed(s, d);
	if (!d->inbound) {
		transmit(s, d->peer, d->frame, d->len);
		d->frame = NULL; /* the transport owns it now */
	} else if (!faults_paused(s->faults, server_real_ms(s))) {
		raft_msg m;
		const char *why = NULL;
		if (wire_decode(d->frame, d->len, &m, &why) == 0) {
			step(s, &m);
			wire_msg_free(&m);
		}
	} else {
		s->metrics.msgs_dropped_fault++;
	}
	uv_close((uv_handle_t *)&d->timer, on_delayed_closed);
}

/* Holds frame (owned) for ms. On failure the message is dropped. */
static void hold(server *s, bool inbound, uint32_t peer, uint8_t *frame, size_t len, uint32_t ms)
{
	delayed_msg *d = calloc(1, sizeof *d);
	if (d == NULL || uv_timer_init(s->loop, &d->timer) != 0) {
		free(d);
		free(frame);
		s->metrics.msgs_dropped_queue++;
		return;
	}
	d->timer.data = d;
	d->s = s;
	d->inbound = inbound;
	d->peer = peer;
	d->frame = frame;
	d->len = len;
	d->next = s->delayed;
	if (s->delayed != NULL)
		s->delayed->prev = d;
	s->delayed = d;
	if (uv_timer_start(&d->timer, on_delay_fired, ms, 0) != 0) {
		unlink_delayed(s, d);
		s->metrics.msgs_dropped_queue++;
		uv_close((uv_handle_t *)&d->timer, on_delayed_closed);
		return;
	}
	s->metrics.msgs_delayed++;
}

static uint8_t *copy_frame(const uint8_t *f, size_t len)
{
	uint8_t *c = malloc(len);
	if (c != NULL)
		memcpy(c, f, len);
	return c;
}

void peer_io_send(server *s, uint32_t to, uint8_t *frame, size_t len)
{
	if (s->stopping) {
		free(frame);
		return;
	}
	fault_verdict v = faults_filter_msg(s->faults, FAULT_OUT, to, server_real_ms(s));
	if (v.drop) {
		s->metrics.msgs_dropped_fault++;
		free(frame);
		return;
	}
	for (int i = 1; i < v.copies; i++) {
		uint8_t *dup = copy_frame(frame, len);
		if (dup == NULL)
			break;
		s->metrics.msgs_duplicated++;
		if (v.delay_ms > 0)
			hold(s, false, to, dup, len, v.delay_ms);
		else
			transmit(s, to, dup, len);
	}
	if (v.delay_ms > 0)
		hold(s, false, to, frame, len, v.delay_ms);
	else
		transmit(s, to, frame, len);
}

void peer_io_recv(void *ud, const raft_msg *m)
{
	server *s = ud;
	if (s->stopping)
		return;
	uint64_t now = server_real_ms(s);
	if (faults_paused(s->faults, now)) {
		s->metrics.msgs_dropped_fault++;
		return;
	}
	fault_verdict v = faults_filter_msg(s->faults, FAULT_IN, m->from, now);
	if (v.drop) {
		s->metrics.msgs_dropped_fault++;
		return;
	}
	int copies = v.copies < 1 ? 1 : v.copies;
	if (copies > 1)
		s->metrics.msgs_duplicated += (uint64_t)(copies - 1);
	if (v.delay_ms == 0) {
		for (int i = 0; i < copies; i++)
			step(s, m);
		return;
	}
	/* m lives only during this call: keep it as a frame until it is due. */
	for (int i = 0; i < copies; i++) {
		uint8_t *frame;
		size_t len;
		if (wire_encode(m, &frame, &len) != 0) {
			s->metrics.msgs_dropped_queue++;
			return;
		}
		hold(s, true, m->from, frame, len, v.delay_ms);
	}
}

void peer_io_close_all(server *s)
{
	while (s->delayed != NULL) {
		delayed_msg *d = s->delayed;
		unlink_delayed(s, d);
		uv_close((uv_handle_t *)&d->timer, on_delayed_closed);
	}
}
