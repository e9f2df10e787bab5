/*
 * rt_reads.c — linearizable reads by ReadIndex, batched.
 *
 * Reads arriving in one loop turn share one raft_read_index call (one
 * heartbeat round on the leader, one READ_INDEX message from a follower):
 *
 *   open batch --reads_flush--> asked --read state--> waiting --applied--> served
 *
 * Group reads like group commit: while a round is in flight (asked less than
 * READ_ROUND_WAIT_MS ago and not yet answered), the next batch is parked at
 * the tail of the asked list with ctx 0 and every read arriving meanwhile
 * joins it; it is asked the moment the round in flight is answered (or the
 * wait bound passes, so a lost message costs at most that much). One round
 * then serves everything that arrived during the previous one, instead of a
 * round (READ_INDEX, two heartbeats, two acks, the answer) per loop turn.
 * Safety is unchanged: a batch's read index is still taken by a
 * raft_read_index call made after every read in it arrived.
 *
 * A read is served from the local state machine once applied >= the batch's
 * read index. A refusal (index 0: no leader, leadership lost) ends the
 * read as not done: a read has no effect, so failing it is always definite.
 * Batches hold request ids, not pointers: a read that timed out meanwhile is
 * simply no longer in the pending table.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "rt_internal.h"

/* How long a new batch waits for the round in flight before asking anyway
 * (real ms; checked at least every tick). */
#define READ_ROUND_WAIT_MS 5

/* The batch parked behind a round in flight, if any (the asked list's tail,
 * ctx 0: never a real context, which start at 1). */
static read_batch *parked(read_queue *q)
{
	return q->asked_tail != NULL && q->asked_tail->ctx == 0 ? q->asked_tail : NULL;
}

void reads_init(read_queue *q)
{
	q->open = NULL;
	q->asked = q->asked_tail = NULL;
	q->waiting = NULL;
	q->next_ctx = 1;
}

static void batch_free(read_batch *b)
{
	if (b == NULL)
		return;
	free(b->ids);
	free(b);
}

static void free_list(read_batch *b)
{
	while (b != NULL) {
		read_batch *next = b->next;
		batch_free(b);
		b = next;
	}
}

void reads_destroy(read_queue *q)
{
	batch_free(q->open);
	free_list(q->asked);
	free_list(q->waiting);
	reads_init(q);
}

int reads_add(rt *r, pending *p)
{
	read_queue *q = &r->reads;
	read_batch *b = parked(q);
	if (b == NULL) {
		if (q->open == NULL) {
			q->open = calloc(1, sizeof *q->open);
			if (q->open == NULL)
				return -1;
			q->open->created_ms = r->io.now_ms(r->io.ud);
		}
		b = q->open;
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		uint64_t *ids = realloc(b->ids, cap * sizeof *ids);
		if (ids == NULL)
			return -1;
		b->ids = ids;
		b->cap = cap;
	}
	b->ids[b->n++] = p->id;
	r->io.kick(r->io.ud);
	return 0;
}

/* Answers every read of b still waiting: served locally, or failed. */
static void finish_batch(rt *r, read_batch *b, bool serve)
{
	for (size_t i = 0; i < b->n; i++) {
		pending *p = pending_find(&r->pending, b->ids[i]);
		if (p == NULL)
			continue;
		if (serve) {
			const uint8_t *v = NULL;
			size_t vlen = 0;
			bool found = kv_store_get(r->kv.store, (const uint8_t *)p->key, p->klen, &v, &vlen);
			/* Points into the store, valid during the outcome call. */
			kv_result res = { .status = KV_OK };
			res.value.found = found;
			res.value.p = (uint8_t *)v;
			res.value.len = vlen;
			rt_end(r, p, RT_APPLIED, RT_WHY_NONE, 0, NULL, &res);
		} else {
			rt_end(r, p, RT_NOT_PROPOSED, RT_WHY_NO_LEADER, 0, NULL, NULL);
		}
	}
	batch_free(b);
}

void reads_flush(rt *r)
{
	read_queue *q = &r->reads;
	uint64_t now = r->io.now_ms(r->io.ud);
	read_batch *b = parked(q);
	if (q->open != NULL) {
		if (b == NULL) {
			/* Park it at the tail; asked below if nothing is in flight. */
			b = q->open;
			b->ctx = 0;
			b->next = NULL;
			if (q->asked_tail != NULL)
				q->asked_tail->next = b;
			else
				q->asked = b;
			q->asked_tail = b;
		}
		/* else: reads_add filled the parked batch, open stays empty. */
		q->open = NULL;
	}
	if (b == NULL)
		return;
	/* The newest round in flight is the batch just before the parked one. */
	read_batch *prev = NULL;
	for (read_batch *x = q->asked; x != b; x = x->next)
		prev = x;
	if (prev != NULL && now < prev->created_ms + READ_ROUND_WAIT_MS)
		return; /* answered soon: reads_on_state kicks the loop */
	b->ctx = q->next_ctx++;
	b->created_ms = now; /* from here: when it was asked */
	if (raft_read_index(r->raft, b->ctx) != RAFT_OK) {
		if (prev != NULL)
			prev->next = NULL;
		else
			q->asked = NULL;
		q->asked_tail = prev;
		finish_batch(r, b, false);
		return;
	}
	r->st.reads_linearizable += b->n;
}

/* Inserts b into the waiting list, kept sorted by read index. Indexes arrive
 * mostly in order, so the walk is short. */
static void wait_for_apply(read_queue *q, read_batch *b)
{
	read_batch **pp = &q->waiting;
	while (*pp != NULL && (*pp)->index <= b->index)
		pp = &(*pp)->next;
	b->next = *pp;
	*pp = b;
}

void reads_on_state(rt *r, const raft_read_state *rs)
{
	read_queue *q = &r->reads;
	read_batch *prev = NULL, *b = q->asked;
	while (b != NULL && b->ctx != rs->ctx) {
		prev = b;
		b = b->next;
	}
	if (b == NULL)
		return; /* garbage collected after its reads timed out */
	if (prev != NULL)
		prev->next = b->next;
	else
		q->asked = b->next;
	if (q->asked_tail == b)
		q->asked_tail = prev;
	b->next = NULL;
	/* A batch parked behind this round can be asked now. */
	if (parked(q) != NULL)
		r->io.kick(r->io.ud);
	if (rs->index == 0) {
		finish_batch(r, b, false);
		return;
	}
	b->index = rs->index;
	wait_for_apply(q, b);
}

void reads_on_applied(rt *r)
{
	read_queue *q = &r->reads;
	while (q->waiting != NULL && q->waiting->index <= r->applied) {
		read_batch *b = q->waiting;
		q->waiting = b->next;
		finish_batch(r, b, true);
	}
}

/* Drops batches whose reads have all timed out (older than the timeout). */
static void gc_list(read_batch **head, read_batch **tail, uint64_t cutoff)
{
	read_batch *prev = NULL;
	read_batch **pp = head;
	while (*pp != NULL) {
		read_batch *b = *pp;
		if (b->created_ms < cutoff) {
			*pp = b->next;
			batch_free(b);
		} else {
			prev = b;
			pp = &b->next;
		}
	}
	if (tail != NULL)
		*tail = prev;
}

void reads_gc(rt *r, uint64_t now_ms)
{
	uint64_t horizon = (uint64_t)r->o.request_timeout_ms + 1000;
	if (now_ms < horizon)
		return;
	uint64_t cutoff = now_ms - horizon;
	gc_list(&r->reads.asked, &r->reads.asked_tail, cutoff);
	gc_list(&r->reads.waiting, NULL, cutoff);
}
