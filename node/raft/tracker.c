/*
 * tracker.c — the configuration in force, the leader's progress of every
 * member keyed by node id, and the votes of an election; plus the quorum
 * questions the core asks, answered through quorum.c.
 *
 * The core never counts nodes itself: commit, ReadIndex confirmation,
 * check-quorum, the lease and elections all ask here, so a joint
 * configuration (two voter sets, both must agree) or learners (members that
 * replicate but never count) change nothing outside this file and quorum.c.
 */
#include <string.h>

#include "tracker.h"

enum { TRACKER_VOTE_GRANTED = 1, TRACKER_VOTE_REJECTED = 2 };

void tracker_init(tracker *t, size_t max_inflight)
{
	memset(t, 0, sizeof(*t));
	t->max_inflight = max_inflight;
}

void tracker_free(tracker *t)
{
	for (size_t i = 0; i < t->n; i++)
		progress_free(&t->prs[i]);
	t->n = 0;
}

static size_t index_of(const tracker *t, uint32_t id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->prs[i].id == id)
			return i;
	return t->n;
}

int tracker_set_config(tracker *t, const quorum_config *c, uint64_t next)
{
	uint32_t ids[RAFT_MAX_NODES];
	size_t n = quorum_config_members(c, ids);
	progress prs[RAFT_MAX_NODES];
	bool kept[RAFT_MAX_NODES] = {false}; /* by old index */
	/* Allocate every new member first, so a failure leaves t as it was. */
	for (size_t i = 0; i < n; i++) {
		size_t k = index_of(t, ids[i]);
		if (k < t->n) {
			prs[i] = t->prs[k];
			kept[k] = true;
			continue;
		}
		if (progress_init(&prs[i], ids[i], t->max_inflight) != 0) {
			for (size_t j = 0; j < i; j++)
				if (index_of(t, ids[j]) == t->n)
					progress_free(&prs[j]);
			return RAFT_ENOMEM;
		}
		progress_reset(&prs[i], next);
	}
	for (size_t k = 0; k < t->n; k++)
		if (!kept[k])
			progress_free(&t->prs[k]);
	memcpy(t->prs, prs, n * sizeof(progress));
	t->n = n;
	t->conf = *c;
	tracker_reset_votes(t);
	return RAFT_OK;
}

progress *tracker_progress(tracker *t, uint32_t id)
{
	size_t k = index_of(t, id);
	return k < t->n ? &t->prs[k] : NULL;
}

bool tracker_is_member(const tracker *t, uint32_t id)
{
	return index_of(t, id) < t->n;
}

bool tracker_is_voter(const tracker *t, uint32_t id)
{
	return quorum_config_is_voter(&t->conf, id);
}

/* ------------------------------------------------------------------ votes */

void tracker_reset_votes(tracker *t)
{
	memset(t->votes, 0, sizeof(t->votes));
}

void tracker_record_vote(tracker *t, uint32_t id, bool granted)
{
	size_t k = index_of(t, id);
	if (k < t->n)
		t->votes[k] |= granted ? TRACKER_VOTE_GRANTED : TRACKER_VOTE_REJECTED;
}

static bool vote_has(const tracker *t, uint32_t id, uint8_t bit)
{
	size_t k = index_of(t, id);
	return k < t->n && (t->votes[k] & bit) != 0;
}

static bool voted_yes(const void *ctx, uint32_t id)
{
	return vote_has(ctx, id, TRACKER_VOTE_GRANTED);
}

static bool voted_no(const void *ctx, uint32_t id)
{
	return vote_has(ctx, id, TRACKER_VOTE_REJECTED);
}

enum quorum_vote_result tracker_vote_result(const tracker *t)
{
	return quorum_vote(&t->conf, voted_yes, voted_no, t);
}

/* ---------------------------------------------------------------- quorums */

/* What the callbacks below need: the tracker, and who "self" is. */
typedef struct self_view {
	const tracker *t;
	uint32_t self;
	uint64_t self_value;
	uint64_t now, window;
} self_view;

static const progress *peer(const self_view *v, uint32_t id)
{
	size_t k = index_of(v->t, id);
	return k < v->t->n ? &v->t->prs[k] : NULL;
}

static uint64_t match_of(const void *ctx, uint32_t id)
{
	const self_view *v = ctx;
	if (id == v->self)
		return v->self_value;
	const progress *p = peer(v, id);
	return p != NULL ? p->match : 0;
}

static uint64_t read_acked_of(const void *ctx, uint32_t id)
{
	const self_view *v = ctx;
	if (id == v->self)
		return v->self_value;
	const progress *p = peer(v, id);
	return p != NULL ? p->read_acked : 0;
}

static bool is_active(const void *ctx, uint32_t id)
{
	const self_view *v = ctx;
	const progress *p = peer(v, id);
	return id == v->self || (p != NULL && p->recent_active);
}

static bool is_fresh(const void *ctx, uint32_t id)
{
	const self_view *v = ctx;
	const progress *p = peer(v, id);
	return id == v->self || (p != NULL && p->heard && v->now - p->last_heard < v->window);
}

static bool is_self(const void *ctx, uint32_t id)
{
	const self_view *v = ctx;
	return id == v->self;
}

uint64_t tracker_committed(const tracker *t, uint32_t self, uint64_t self_match)
{
	self_view v = {.t = t, .self = self, .self_value = self_match};
	return quorum_committed(&t->conf, match_of, &v);
}

uint64_t tracker_read_acked(const tracker *t, uint32_t self, uint64_t self_round)
{
	self_view v = {.t = t, .self = self, .self_value = self_round};
	return quorum_committed(&t->conf, read_acked_of, &v);
}

bool tracker_quorum_active(const tracker *t, uint32_t self)
{
	self_view v = {.t = t, .self = self};
	return quorum_reached(&t->conf, is_active, &v);
}

void tracker_clear_recent_active(tracker *t)
{
	for (size_t i = 0; i < t->n; i++)
		t->prs[i].recent_active = false;
}

bool tracker_quorum_fresh(const tracker *t, uint32_t self, uint64_t now, uint64_t window)
{
	self_view v = {.t = t, .self = self, .now = now, .window = window};
	return quorum_reached(&t->conf, is_fresh, &v);
}

bool tracker_self_is_quorum(const tracker *t, uint32_t self)
{
	self_view v = {.t = t, .self = self};
	return quorum_reached(&t->conf, is_self, &v);
}
