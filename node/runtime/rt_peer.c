/*
 * rt_peer.c — the one door every peer message passes, out and in.
 *
 * Outbound: an encoded frame (sent at once, or released once its WAL write
 * is durable) asks the fault filter for a verdict: drop, delay (held until
 * io->defer fires), or duplicate; then io->send.
 * Inbound: the transport hands over a complete frame and nothing more. Here
 * alone it is filtered, and only when it is due decoded (once) and stepped
 * into the core. A paused node steps nothing: inbound frames are dropped,
 * as a stopped process would lose them from a full socket buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "../net/wire.h"
#include "rt_internal.h"

static uint64_t now(rt *r)
{
	return r->io.now_ms(r->io.ud);
}

static void transmit(rt *r, uint32_t to, uint8_t *frame, size_t len)
{
	r->st.msgs_sent++;
	r->io.send(r->io.ud, to, frame, len);
}

static void deferred_free(rt_deferred *d)
{
	free(d->frame);
	free(d);
}

static void unlink_deferred(rt *r, rt_deferred *d)
{
	if (d->prev != NULL)
		d->prev->next = d->next;
	else if (r->deferred == d)
		r->deferred = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	d->prev = d->next = NULL;
}

/* Holds frame (owned) for ms. On failure the message is dropped. */
static void hold(rt *r, bool inbound, uint32_t peer, uint8_t *frame, size_t len, uint32_t ms)
{
	rt_deferred *d = calloc(1, sizeof *d);
	if (d == NULL) {
		free(frame);
		r->st.msgs_dropped_queue++;
		return;
	}
	d->inbound = inbound;
	d->peer = peer;
	d->frame = frame;
	d->len = len;
	d->next = r->deferred;
	if (r->deferred != NULL)
		r->deferred->prev = d;
	r->deferred = d;
	if (r->io.defer(r->io.ud, ms, d) != 0) {
		unlink_deferred(r, d);
		deferred_free(d);
		r->st.msgs_dropped_queue++;
		return;
	}
	r->st.msgs_delayed++;
}

static uint8_t *copy_frame(const uint8_t *f, size_t len)
{
	uint8_t *c = malloc(len);
	if (c != NULL)
		memcpy(c, f, len);
	return c;
}

void peer_send(rt *r, uint32_t to, uint8_t *frame, size_t len)
{
	if (r->stopping || r->failed) {
		free(frame);
		return;
	}
	fault_verdict v = { .copies = 1 };
	if (r->o.faults != NULL)
		v = faults_filter_msg(r->o.faults, FAULT_OUT, to, now(r));
	if (v.drop) {
		r->st.msgs_dropped_fault++;
		free(frame);
		return;
	}
	for (int i = 1; i < v.copies; i++) {
		uint8_t *dup = copy_frame(frame, len);
		if (dup == NULL)
			break;
		r->st.msgs_duplicated++;
		if (v.delay_ms > 0)
			hold(r, false, to, dup, len, v.delay_ms);
		else
			transmit(r, to, dup, len);
	}
	if (v.delay_ms > 0)
		hold(r, false, to, frame, len, v.delay_ms);
	else
		transmit(r, to, frame, len);
}

/* Decodes and steps one inbound frame that is due. -1 for a bad frame. */
static int step_frame(rt *r, uint32_t from, const uint8_t *frame, size_t len)
{
	if (xfer_is_frame(frame, len))
		return xfer_frame(r, from, frame, len); /* snapshot CHUNK / ACK */
	raft_msg m;
	const char *why = NULL;
	if (wire_decode(frame, len, &m, &why) != 0) {
		r->st.bad_frames++;
		return -1;
	}
	/* A message must come from the peer that sent it, to us. */
	if (m.from != from || m.to != r->id) {
		wire_msg_free(&m);
		r->st.bad_frames++;
		return -1;
	}
	r->st.msgs_received++;
	if (r->probing) {
		/* Silent until the incarnation is decided: observed, not stepped
		 * (the peer retransmits what matters). */
		if (inc_probe_observe(&r->probe, &m) != INC_UNDECIDED)
			rt_incarnation_decided(r);
		wire_msg_free(&m);
		r->io.kick(r->io.ud);
		return 0;
	}
	(void)raft_step(r->raft, &m); /* a malformed message is ignored; the peer retransmits */
	wire_msg_free(&m);
	r->io.kick(r->io.ud);
	return 0;
}

int rt_step_frame(rt *r, uint32_t from, const uint8_t *frame, size_t len)
{
	if (r->stopping || r->failed)
		return 0;
	uint64_t t = now(r);
	if (r->paused || (r->o.faults != NULL && faults_paused(r->o.faults, t))) {
		r->st.msgs_dropped_fault++;
		return 0;
	}
	fault_verdict v = { .copies = 1 };
	if (r->o.faults != NULL)
		v = faults_filter_msg(r->o.faults, FAULT_IN, from, t);
	if (v.drop) {
		r->st.msgs_dropped_fault++;
		return 0;
	}
	int copies = v.copies < 1 ? 1 : v.copies;
	if (copies > 1)
		r->st.msgs_duplicated += (uint64_t)(copies - 1);
	if (v.delay_ms == 0) {
		int rc = 0;
		for (int i = 0; i < copies && rc == 0; i++)
			rc = step_frame(r, from, frame, len);
		return rc;
	}
	/* The frame lives only during this call: keep a copy until it is due. */
	for (int i = 0; i < copies; i++) {
		uint8_t *c = copy_frame(frame, len);
		if (c == NULL) {
			r->st.msgs_dropped_queue++;
			return 0;
		}
		hold(r, true, from, c, len, v.delay_ms);
	}
	return 0;
}

void rt_deferred_due(rt *r, rt_deferred *d)
{
	unlink_deferred(r, d);
	if (!d->inbound) {
		if (!r->stopping && !r->failed) {
			transmit(r, d->peer, d->frame, d->len);
			d->frame = NULL; /* the host owns it now */
		}
	} else if (!r->paused && !r->stopping && !r->failed &&
		   (r->o.faults == NULL || !faults_paused(r->o.faults, now(r)))) {
		(void)step_frame(r, d->peer, d->frame, d->len);
	} else {
		r->st.msgs_dropped_fault++;
	}
	deferred_free(d);
}

/* At shutdown (or a simulated crash) the host drops its timers without
 * firing them; the runtime, which owns the held frames, frees them. */
void peer_free_deferred(rt *r)
{
	while (r->deferred != NULL) {
		rt_deferred *d = r->deferred;
		unlink_deferred(r, d);
		deferred_free(d);
	}
}
