/*
 * read_index.c — linearizable reads without writing to the log
 * (Ongaro's thesis §6.4, "ReadIndex").
 *
 * Leader: a read records the commit index, but only once an entry of the
 * leader's own term is committed (before that the leader's commit index may
 * lag what earlier leaders committed). Then a heartbeat round, started after
 * the read arrived, must be acknowledged by a majority: that proves no newer
 * leader existed when the read was taken. Reads are batched: every read that
 * arrives between two readies joins the same round (ctx = round number), so
 * one round serves thousands of reads. Periodic heartbeats carry the latest
 * round number too, which retries rounds whose messages were lost.
 *
 * Follower: reads queue up and go to the leader as one READ_INDEX per ready
 * (ctx = batch number). The leader's answer for batch b serves every read of
 * batches <= b: each was issued before b was sent, and the leader confirmed b
 * after receiving it. Batch ids start at a random point on every start of
 * the node, so answers meant for an earlier incarnation are not mistaken for
 * current ones (see readidx_recv_resp). Reads are refused (index 0) when leadership is lost,
 * when the known leader changes, or when no answer comes within two election
 * timeouts; a refused read had no effect, so the caller may report a definite
 * failure.
 */
#include "core.h"

static void release(raft *r, const leader_read *lr, uint64_t index)
{
	if (lr->from == r->cfg.id) {
		if (outbox_push_read(r, lr->ctx, index) != 0)
			r->enomem_drops++;
		return;
	}
	raft_msg *m = outbox_push(r, RAFT_MSG_READ_INDEX_RESP, lr->from);
	if (m == NULL)
		return;
	m->ctx = lr->ctx;
	m->index = index;
}

static bool self_is_quorum(const raft *r)
{
	return tracker_self_is_quorum(&r->trk, r->cfg.id);
}

int readidx_leader_add(raft *r, uint32_t from, uint64_t ctx)
{
	bool ready = raft_committed_in_term(r) || PLANTED_BUG(r, 4);
	if (ready && self_is_quorum(r)) {
		leader_read lr = {.ctx = ctx, .index = r->commit, .seq = 0, .from = from};
		release(r, &lr, r->commit);
		return RAFT_OK;
	}
	leader_read *lr = ring_push(&r->lreads);
	if (lr == NULL)
		return RAFT_ENOMEM;
	lr->ctx = ctx;
	lr->from = from;
	lr->index = ready ? r->commit : 0;
	lr->seq = ready ? r->read_seq + 1 : 0;
	if (ready)
		r->read_round_wanted = true;
	return RAFT_OK;
}

/* The first commit of the leader's term: reads that waited for it take the
 * commit index now and join the next round. They sit at the front of the
 * queue, since every later read was admitted directly. */
void readidx_on_commit(raft *r)
{
	if (r->role != RAFT_LEADER || !raft_committed_in_term(r))
		return;
	size_t n = ring_len(&r->lreads);
	size_t i = 0;
	for (; i < n; i++) {
		leader_read *lr = ring_at(&r->lreads, i);
		if (lr->seq != 0)
			break;
		lr->index = r->commit;
		lr->seq = r->read_seq + 1;
	}
	if (i == 0)
		return;
	if (self_is_quorum(r)) {
		for (size_t k = 0; k < i; k++)
			release(r, ring_at(&r->lreads, k), r->commit);
		ring_pop_front(&r->lreads, i);
	} else {
		r->read_round_wanted = true;
	}
}

/* A heartbeat acknowledgement arrived: release reads whose round a majority
 * (this node included) has now acknowledged. */
void readidx_on_ack(raft *r)
{
	if (r->role != RAFT_LEADER || ring_len(&r->lreads) == 0)
		return;
	uint64_t acked = tracker_read_acked(&r->trk, r->cfg.id, r->read_seq);
	size_t n = 0;
	while (n < ring_len(&r->lreads)) {
		leader_read *lr = ring_at(&r->lreads, n);
		if (lr->seq == 0 || lr->seq > acked)
			break;
		release(r, lr, lr->index);
		n++;
	}
	ring_pop_front(&r->lreads, n);
}

void readidx_leader_lost(raft *r)
{
	for (size_t i = 0; i < ring_len(&r->lreads); i++)
		release(r, ring_at(&r->lreads, i), 0);
	ring_pop_front(&r->lreads, ring_len(&r->lreads));
	r->read_round_wanted = false;
}

/* Refuses the follower reads already sent (all of them when no leader is
 * known); unsent ones stay queued for the next leader. */
static void refuse_sent(raft *r, bool all)
{
	size_t n = 0;
	size_t sent = ring_len(&r->freads) - r->freads_unsent;
	size_t upto = all ? ring_len(&r->freads) : sent;
	for (; n < upto; n++) {
		follower_read *fr = ring_at(&r->freads, n);
		if (outbox_push_read(r, fr->ctx, 0) != 0)
			r->enomem_drops++;
	}
	ring_pop_front(&r->freads, n);
	if (all)
		r->freads_unsent = 0;
}

void readidx_on_leader_change(raft *r)
{
	refuse_sent(r, r->leader == RAFT_NONE || r->leader == r->cfg.id);
}

void readidx_recv_req(raft *r, const raft_msg *m)
{
	if (r->role != RAFT_LEADER) {
		raft_msg *resp = outbox_push(r, RAFT_MSG_READ_INDEX_RESP, m->from);
		if (resp != NULL) {
			resp->ctx = m->ctx;
			resp->index = 0;
		}
		return;
	}
	if (readidx_leader_add(r, m->from, m->ctx) != RAFT_OK)
		r->enomem_drops++; /* the follower's read times out */
}

void readidx_recv_resp(raft *r, const raft_msg *m)
{
	size_t sent = ring_len(&r->freads) - r->freads_unsent;
	if (sent == 0)
		return;
	/* Only an answer to a batch still outstanding counts: a late answer
	 * to an earlier incarnation of this node (batch ids start at a random
	 * point on every start) or a duplicate must not serve newer reads. */
	const follower_read *first = ring_at(&r->freads, 0);
	const follower_read *last = ring_at(&r->freads, sent - 1);
	if (m->ctx < first->batch || m->ctx > last->batch)
		return;
	size_t n = 0;
	while (n < sent) {
		follower_read *fr = ring_at(&r->freads, n);
		if (fr->batch > m->ctx)
			break;
		if (outbox_push_read(r, fr->ctx, m->index) != 0)
			r->enomem_drops++;
		n++;
	}
	ring_pop_front(&r->freads, n);
}

void readidx_flush(raft *r)
{
	if (r->role == RAFT_LEADER && r->read_round_wanted) {
		r->read_round_wanted = false;
		r->read_seq++;
		repl_bcast_heartbeat(r, r->read_seq);
	}
	if (r->freads_unsent == 0)
		return;
	if (r->leader == RAFT_NONE || r->leader == r->cfg.id) {
		refuse_sent(r, true);
		return;
	}
	raft_msg *m = outbox_push(r, RAFT_MSG_READ_INDEX, r->leader);
	if (m == NULL)
		return; /* retried at the next ready */
	m->ctx = ++r->fread_batch;
	size_t len = ring_len(&r->freads);
	for (size_t i = len - r->freads_unsent; i < len; i++) {
		follower_read *fr = ring_at(&r->freads, i);
		fr->batch = m->ctx;
		fr->sent_tick = r->now;
	}
	r->freads_unsent = 0;
}

void readidx_tick(raft *r)
{
	size_t sent = ring_len(&r->freads) - r->freads_unsent;
	if (sent == 0)
		return;
	follower_read *fr = ring_at(&r->freads, 0);
	if (r->now - fr->sent_tick >= 2 * (uint64_t)r->cfg.election_ticks)
		refuse_sent(r, false);
}

void readidx_free(raft *r)
{
	ring_free(&r->lreads);
	ring_free(&r->freads);
}

void readidx_init_batch(raft *r)
{
	/* Half the range: counting up from here never wraps in practice. */
	r->fread_batch = raft_rand(r) >> 1;
}
