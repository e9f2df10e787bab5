/*
 * ready.c — handing work to the caller and taking back what is durable
 * (the contract at the top of raft.h).
 *
 * raft_get_ready first flushes what was deferred so it can be batched
 * (forwarded proposals, APPENDs for new entries, the ReadIndex round, the
 * follower's read batch), then exposes the log suffix to persist, the
 * messages, the newly committed entries and the read states. Everything
 * points into the core's own arrays: nothing is copied, and the arrays are
 * reused after raft_advance.
 *
 * Durability: each ready that carries entries becomes a persist_batch. When
 * raft_persisted names its last entry, the log is durable up to that batch's
 * end, minus anything truncated since it was handed out (a later batch will
 * rewrite that part). That durable prefix is what the leader counts for
 * itself toward commit.
 */
#include <assert.h>

#include "core.h"

static bool hs_equal(const raft_hard_state *a, const raft_hard_state *b)
{
	return a->term == b->term && a->vote == b->vote && a->commit == b->commit;
}

/* The must-sync rule (etcd's MustSync): only a new term, a new vote, new
 * entries or an installed snapshot need an fsync before the messages that
 * vouch for them. The commit
 * index is in the hard state for convenience, not for safety: a restarted
 * node may start from an older commit and learns the current one from the
 * leader, so a commit-only change is written without an fsync. */
static bool must_sync(const raft *r, const raft_ready *rd)
{
	if (PLANTED_BUG(r, 6))
		return rd->n_entries > 0; /* forgets that term and vote need it too */
	return rd->hs.term != r->prev_hs.term || rd->hs.vote != r->prev_hs.vote ||
	       rd->n_entries > 0 || r->install_pending; /* the ack vouches for the install */
}

static bool flush_wanted(const raft *r)
{
	return (r->role == RAFT_LEADER && r->bcast_pending && r->trk.n > 1) ||
	       (r->role == RAFT_LEADER && r->read_round_wanted) || r->n_fwd > 0 ||
	       r->freads_unsent > 0;
}

bool raft_has_ready(const raft *r)
{
	raft_hard_state hs = raft_hard_state_now(r);
	return !hs_equal(&hs, &r->prev_hs) || r->unsent_from <= log_last_index(&r->log) ||
	       r->n_msgs > 0 || r->applied < r->commit || r->n_reads > 0 ||
	       r->role != r->prev_role || r->leader != r->prev_leader || flush_wanted(r) ||
	       r->install_pending;
}

void raft_get_ready(raft *r, raft_ready *rd)
{
	assert(!r->in_ready);
	proposal_flush(r);
	repl_flush(r);
	readidx_flush(r);
	outbox_resolve(r);

	rd->hs = raft_hard_state_now(r);
	rd->hs_changed = !hs_equal(&rd->hs, &r->prev_hs);

	uint64_t last = log_last_index(&r->log);
	if (r->unsent_from <= last) {
		rd->entries = log_get(&r->log, r->unsent_from);
		rd->n_entries = (size_t)(last - r->unsent_from + 1);
	} else {
		rd->entries = NULL;
		rd->n_entries = 0;
	}
	r->rd_last_index = last;
	rd->must_sync = must_sync(r, rd);

	rd->msgs = r->n_msgs ? r->msgs : NULL;
	rd->n_msgs = r->n_msgs;

	if (r->applied < r->commit) {
		rd->committed = log_get(&r->log, r->applied + 1);
		rd->n_committed = (size_t)(r->commit - r->applied);
	} else {
		rd->committed = NULL;
		rd->n_committed = 0;
	}
	r->rd_applied = r->commit;

	rd->reads = r->n_reads ? r->reads : NULL;
	rd->n_reads = r->n_reads;

	rd->install = r->install_pending;
	rd->install_index = r->install_index;
	rd->install_term = r->install_term;

	rd->soft_changed = r->role != r->prev_role || r->leader != r->prev_leader;
	rd->role = r->role;
	rd->leader = r->leader;
	r->in_ready = true;
}

void raft_advance(raft *r, const raft_ready *rd)
{
	assert(r->in_ready);
	r->in_ready = false;
	r->prev_hs = rd->hs;
	r->prev_role = rd->role;
	r->prev_leader = rd->leader;
	if (rd->n_entries > 0) {
		persist_batch *b = ring_push(&r->persist_q);
		if (b != NULL) {
			b->last_index = r->rd_last_index;
			b->last_term = rd->entries[rd->n_entries - 1].term;
			b->durable = r->rd_last_index;
		}
		/* On ENOMEM the batch is never recognised as durable: a later
		 * batch's acknowledgement covers it (they are persisted in order). */
	}
	r->unsent_from = r->rd_last_index + 1;
	r->applied = r->rd_applied;
	if (rd->install)
		r->install_pending = false;
	outbox_clear(r);
}

void raft_persisted(raft *r, uint64_t index, uint64_t term)
{
	if (r->in_ready)
		return;
	size_t n = ring_len(&r->persist_q);
	size_t k = 0;
	for (; k < n; k++) {
		persist_batch *b = ring_at(&r->persist_q, k);
		if (b->last_index == index && b->last_term == term)
			break;
	}
	if (k == n)
		return; /* not a batch we handed out (or already acknowledged) */
	persist_batch *b = ring_at(&r->persist_q, k);
	if (b->durable > r->persisted)
		r->persisted = b->durable;
	ring_pop_front(&r->persist_q, k + 1);
	repl_maybe_commit(r);
}
