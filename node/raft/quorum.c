/*
 * quorum.c — majority rules over a configuration (see quorum.h).
 *
 * A joint configuration is two majority sets that must both agree: the
 * committed index is the smaller of the two, a vote is won only when both
 * sets are won, and lost when either is. With no change in flight the
 * outgoing set is empty and drops out (it imposes no limit and is always
 * "won"), so one code path serves both cases.
 */
#include <string.h>

#include "quorum.h"

static bool ids_have(const uint32_t *ids, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

bool quorum_majority_has(const quorum_majority *m, uint32_t id)
{
	return ids_have(m->ids, m->n, id);
}

uint64_t quorum_majority_committed(const quorum_majority *m, quorum_index_fn acked,
				   const void *ctx)
{
	if (m->n == 0)
		return UINT64_MAX;
	uint64_t vals[RAFT_MAX_NODES];
	/* n <= RAFT_MAX_NODES: insertion sort, descending. */
	for (size_t i = 0; i < m->n; i++) {
		uint64_t v = acked(ctx, m->ids[i]);
		size_t j = i;
		while (j > 0 && vals[j - 1] < v) {
			vals[j] = vals[j - 1];
			j--;
		}
		vals[j] = v;
	}
	/* A majority has reached the k-th largest value, k = majority size. */
	return vals[quorum_majority_size(m->n) - 1];
}

uint64_t quorum_committed(const quorum_config *c, quorum_index_fn acked, const void *ctx)
{
	uint64_t a = quorum_majority_committed(&c->voters, acked, ctx);
	uint64_t b = quorum_majority_committed(&c->outgoing, acked, ctx);
	return a < b ? a : b;
}

static size_t count(const quorum_majority *m, quorum_pred_fn pred, const void *ctx)
{
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++)
		if (pred(ctx, m->ids[i]))
			k++;
	return k;
}

static bool majority_reached(const quorum_majority *m, quorum_pred_fn yes, const void *ctx)
{
	return m->n == 0 || count(m, yes, ctx) >= quorum_majority_size(m->n);
}

bool quorum_reached(const quorum_config *c, quorum_pred_fn yes, const void *ctx)
{
	return majority_reached(&c->voters, yes, ctx) && majority_reached(&c->outgoing, yes, ctx);
}

/* An empty set never rejects: it cannot stop the other set from winning. */
static bool majority_rejected(const quorum_majority *m, quorum_pred_fn no, const void *ctx)
{
	return m->n > 0 && count(m, no, ctx) >= quorum_majority_size(m->n);
}

enum quorum_vote_result quorum_vote(const quorum_config *c, quorum_pred_fn granted,
				    quorum_pred_fn rejected, const void *ctx)
{
	if (quorum_reached(c, granted, ctx))
		return QUORUM_WON;
	if (majority_rejected(&c->voters, rejected, ctx) ||
	    majority_rejected(&c->outgoing, rejected, ctx))
		return QUORUM_LOST;
	return QUORUM_PENDING;
}

bool quorum_config_is_voter(const quorum_config *c, uint32_t id)
{
	return quorum_majority_has(&c->voters, id) || quorum_majority_has(&c->outgoing, id);
}

bool quorum_config_is_learner(const quorum_config *c, uint32_t id)
{
	return ids_have(c->learners, c->n_learners, id);
}

bool quorum_config_is_joint(const quorum_config *c)
{
	return c->outgoing.n > 0;
}

static bool ids_valid(const uint32_t *ids, size_t n)
{
	if (n > RAFT_MAX_NODES || (n > 0 && ids == NULL))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (ids[i] == RAFT_NONE || ids_have(ids, i, ids[i]))
			return false;
	}
	return true;
}

int quorum_config_init(quorum_config *c, const uint32_t *voters, size_t n_voters,
		       const uint32_t *outgoing, size_t n_outgoing,
		       const uint32_t *learners, size_t n_learners)
{
	if (c == NULL || n_voters < 1 || !ids_valid(voters, n_voters) ||
	    !ids_valid(outgoing, n_outgoing) || !ids_valid(learners, n_learners))
		return RAFT_EINVAL;
	quorum_config t;
	memset(&t, 0, sizeof(t));
	memcpy(t.voters.ids, voters, n_voters * sizeof(uint32_t));
	t.voters.n = n_voters;
	if (n_outgoing > 0)
		memcpy(t.outgoing.ids, outgoing, n_outgoing * sizeof(uint32_t));
	t.outgoing.n = n_outgoing;
	for (size_t i = 0; i < n_learners; i++)
		if (quorum_config_is_voter(&t, learners[i]))
			return RAFT_EINVAL; /* a node either votes or learns */
	/* the union must fit the tracker */
	size_t members = n_voters + n_learners;
	for (size_t i = 0; i < n_outgoing; i++)
		if (!quorum_majority_has(&t.voters, outgoing[i]))
			members++;
	if (members > RAFT_MAX_NODES)
		return RAFT_EINVAL;
	if (n_learners > 0)
		memcpy(t.learners, learners, n_learners * sizeof(uint32_t));
	t.n_learners = n_learners;
	*c = t;
	return RAFT_OK;
}

size_t quorum_config_members(const quorum_config *c, uint32_t out[RAFT_MAX_NODES])
{
	size_t n = 0;
	for (size_t i = 0; i < c->voters.n; i++)
		out[n++] = c->voters.ids[i];
	for (size_t i = 0; i < c->outgoing.n; i++)
		if (!quorum_majority_has(&c->voters, c->outgoing.ids[i]))
			out[n++] = c->outgoing.ids[i];
	for (size_t i = 0; i < c->n_learners; i++)
		out[n++] = c->learners[i];
	return n;
}
