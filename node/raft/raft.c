/*
 * raft.c — the node object: creation, restart, ticks, status, names.
 * The protocol itself lives in election.c, replication.c, read_index.c,
 * proposal.c and transfer.c; step.c routes messages to them.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "../common/splitmix.h"

void raft_config_defaults(raft_config *c)
{
	memset(c, 0, sizeof(*c));
	c->id = RAFT_NONE;
	c->election_ticks = 10;
	c->heartbeat_ticks = 1;
	c->pre_vote = true;
	c->check_quorum = true;
	c->max_inflight = 64;
	c->max_msg_entries = 512;
	c->max_msg_bytes = 1u << 20;
	c->max_pending_proposals = 10000;
	c->promote_distance = 64;
}

/* splitmix64: tiny, and its output is well mixed even for seeds 0, 1, 2... */
uint64_t raft_rand(raft *r)
{
	return splitmix64_next(&r->prng);
}

raft_hard_state raft_hard_state_now(const raft *r)
{
	raft_hard_state hs = {.term = r->term, .vote = r->vote, .commit = r->commit};
	if (r->vote_unrecorded)
		hs.vote = RAFT_NONE; /* planted bug 3 */
	return hs;
}

bool raft_committed_in_term(const raft *r)
{
	uint64_t t;
	return log_term(&r->log, r->commit, &t) && t == r->term;
}

static bool config_valid(const raft_config *c)
{
	if (c == NULL || c->id == RAFT_NONE || c->n_voters > RAFT_MAX_NODES)
		return false;
	if (c->n_voters == 0 ? !c->joining : c->voters == NULL)
		return false;
	if (c->election_ticks < 2 || c->heartbeat_ticks < 1 ||
	    c->heartbeat_ticks >= c->election_ticks)
		return false;
	if (c->max_inflight < 1 || c->max_msg_entries < 1 || c->max_msg_bytes < 1)
		return false;
	if (c->n_voters == 0)
		return true;
	quorum_config qc;
	return quorum_config_init(&qc, c->voters, c->n_voters, NULL, 0, NULL, 0) == RAFT_OK &&
	       (c->joining || quorum_config_is_voter(&qc, c->id));
}

raft *raft_new(const raft_config *c)
{
	if (!config_valid(c))
		return NULL;
	raft *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->cfg = *c;
	tracker_init(&r->trk, c->max_inflight);
	r->prng = c->seed;
	r->vote = RAFT_NONE;
	r->leader = RAFT_NONE;
	r->role = RAFT_FOLLOWER;
	r->transfer_to = RAFT_NONE;
	r->unsent_from = 1;
	r->prev_hs.vote = RAFT_NONE;
	r->prev_role = RAFT_FOLLOWER;
	r->prev_leader = RAFT_NONE;
	log_init(&r->log);
	ring_init(&r->persist_q, sizeof(persist_batch));
	ring_init(&r->lreads, sizeof(leader_read));
	ring_init(&r->freads, sizeof(follower_read));
	if (membership_init(r) != RAFT_OK) {
		raft_free(r);
		return NULL;
	}
	r->cfg.voters = NULL; /* the caller's array; the configuration lives in r->conf now */
	election_reset_timeout(r);
	readidx_init_batch(r);
	return r;
}

void raft_free(raft *r)
{
	if (r == NULL)
		return;
	outbox_clear(r); /* frees the entries owned by queued PROPOSE messages */
	free(r->msgs);
	free(r->msg_meta);
	free(r->reads);
	proposal_free_fwd(r);
	free(r->fwd);
	readidx_free(r);
	ring_free(&r->persist_q);
	tracker_free(&r->trk);
	log_free(&r->log);
	free(r);
}

int raft_load(raft *r, const raft_hard_state *hs, uint64_t snap_index,
	      uint64_t snap_term, const raft_entry *entries, size_t n)
{
	if (r->in_ready || hs == NULL || (n > 0 && entries == NULL))
		return RAFT_EINVAL;
	if (log_last_index(&r->log) != 0 || r->term != 0)
		return RAFT_EINVAL; /* only before anything else happened */
	/* hs->vote may name a node removed since: any id but "none" is a vote. */
	uint64_t prev = snap_term;
	for (size_t i = 0; i < n; i++) {
		const raft_entry *e = &entries[i];
		if (e->index != snap_index + 1 + i || e->term < prev || e->term > hs->term ||
		    (e->len > 0 && e->data == NULL))
			return RAFT_EINVAL;
		prev = e->term;
	}
	if (snap_term > hs->term)
		return RAFT_EINVAL;
	log_reset(&r->log, snap_index, snap_term);
	for (size_t i = 0; i < n; i++) {
		if (log_append(&r->log, entries[i].term, entries[i].type, entries[i].data,
			       entries[i].len) != 0) {
			log_reset(&r->log, 0, 0);
			return RAFT_ENOMEM;
		}
	}
	uint64_t last = log_last_index(&r->log);
	r->term = hs->term;
	r->vote = hs->vote;
	r->commit = hs->commit > last ? last : hs->commit;
	if (r->commit < snap_index)
		r->commit = snap_index; /* a snapshot only holds committed state */
	r->applied = snap_index;    /* the caller restored the snapshot itself */
	r->unsent_from = last + 1;
	r->persisted = last;
	r->prev_hs = *hs;
	membership_reload(r); /* the configuration is the log's (or the snapshot's) */
	/* Mix the durable state into the PRNG: a node restarted with the same
	 * seed still draws different timeouts and read batch ids than before. */
	r->prng ^= (hs->term * 0x9e3779b97f4a7c15ull) ^ (last * 0xc2b2ae3d27d4eb4full) ^
		   (r->commit * 0x165667b19e3779f9ull) ^ hs->vote;
	election_reset_timeout(r);
	readidx_init_batch(r);
	return RAFT_OK;
}

void raft_tick(raft *r)
{
	if (r->in_ready)
		return;
	r->now++;
	if (r->role == RAFT_LEADER) {
		if (membership_leader_removed(r)) {
			/* Thesis §4.2.2: a leader removed from the configuration
			 * manages the cluster until the change is committed, then
			 * steps down; not a voter, it will not campaign again. */
			election_become_follower(r, r->term, RAFT_NONE);
			return;
		}
		membership_leader_tick(r);
		r->heartbeat_elapsed++;
		if (++r->election_elapsed >= r->cfg.election_ticks) {
			r->election_elapsed = 0;
			if (r->cfg.check_quorum) {
				bool active = tracker_quorum_active(&r->trk, r->cfg.id);
				tracker_clear_recent_active(&r->trk);
				if (!active) {
					/* §6.2 of the thesis: a leader cut off from a
					 * majority stops acting as one. */
					election_become_follower(r, r->term, RAFT_NONE);
					return;
				}
			}
		}
		transfer_tick(r);
		if (r->heartbeat_elapsed >= r->cfg.heartbeat_ticks) {
			r->heartbeat_elapsed = 0;
			repl_bcast_heartbeat(r, r->read_seq);
		}
		return;
	}
	readidx_tick(r);
	if (++r->election_elapsed >= r->randomized_timeout) {
		if (membership_may_campaign(r)) {
			election_campaign(r, false);
		} else {
			/* A learner, a removed node or another incarnation of a
			 * member never campaigns; it only stops trusting a leader it
			 * no longer hears from. */
			election_set_leader(r, RAFT_NONE);
			election_reset_timeout(r);
		}
	}
}

int raft_set_incarnation(raft *r, uint64_t incarnation)
{
	if (r->in_ready || r->term != 0 || log_last_index(&r->log) != 0)
		return RAFT_EINVAL;
	r->cfg.incarnation = incarnation; /* read afresh by every membership check */
	return RAFT_OK;
}

uint64_t raft_get_incarnation(const raft *r)
{
	return r->cfg.incarnation;
}

void raft_campaign(raft *r)
{
	if (r->in_ready)
		return;
	election_campaign(r, false);
}

int raft_read_index(raft *r, uint64_t ctx)
{
	if (r->in_ready)
		return RAFT_EINVAL;
	if (r->role == RAFT_LEADER)
		return readidx_leader_add(r, r->cfg.id, ctx);
	if (r->leader == RAFT_NONE)
		return RAFT_ENOLEADER;
	follower_read *fr = ring_push(&r->freads);
	if (fr == NULL)
		return RAFT_ENOMEM;
	fr->ctx = ctx;
	fr->batch = 0;
	fr->sent_tick = 0;
	r->freads_unsent++;
	return RAFT_OK;
}

uint32_t raft_leader(const raft *r)
{
	return r->leader;
}

bool raft_lease_valid(const raft *r)
{
	if (r->role != RAFT_LEADER)
		return false;
	return tracker_quorum_fresh(&r->trk, r->cfg.id, r->now, (uint64_t)r->cfg.election_ticks);
}

void raft_get_status_brief(const raft *r, raft_status *st)
{
	memset(st, 0, offsetof(raft_status, peers));
	st->membership = 0;
	st->conf_index = 0;
	st->conf_pending = false;
	st->id = r->cfg.id;
	st->role = r->role;
	st->term = r->term;
	st->vote = r->vote;
	st->leader = r->leader;
	st->commit = r->commit;
	st->applied = r->applied;
	st->first_index = log_first_index(&r->log);
	st->last_index = log_last_index(&r->log);
	st->last_term = log_last_term(&r->log);
	st->membership = membership_self_state(r);
	st->conf_index = r->conf_index;
	st->conf_pending = membership_pending(r);
	st->conf_gen = r->conf_gen;
}

void raft_get_status(const raft *r, raft_status *st)
{
	/* Everything but the peers, then only the peers in use. */
	raft_get_status_brief(r, st);
	st->n_peers = r->trk.n;
	for (size_t i = 0; i < r->trk.n; i++) {
		raft_peer_status *ps = &st->peers[i];
		memset(ps, 0, sizeof *ps);
		const progress *p = &r->trk.prs[i];
		ps->id = p->id;
		ps->voter = tracker_is_voter(&r->trk, p->id);
		const member *m = membership_find(&r->conf, p->id);
		ps->incarnation = m != NULL ? m->incarnation : 0;
		if (r->role != RAFT_LEADER)
			continue;
		if (p->id == r->cfg.id) {
			ps->match = r->persisted;
			ps->next = log_last_index(&r->log) + 1;
			ps->recent_active = true;
		} else {
			ps->match = p->match;
			ps->next = p->next;
			ps->recent_active = p->recent_active;
			ps->sending_snapshot = p->state == PROGRESS_SNAPSHOT;
		}
	}
}

const char *raft_role_name(uint8_t role)
{
	switch (role) {
	case RAFT_FOLLOWER: return "follower";
	case RAFT_PRECANDIDATE: return "precandidate";
	case RAFT_CANDIDATE: return "candidate";
	case RAFT_LEADER: return "leader";
	default: return "unknown";
	}
}

const char *raft_msg_type_name(uint8_t type)
{
	switch (type) {
	case RAFT_MSG_PREVOTE: return "prevote";
	case RAFT_MSG_PREVOTE_RESP: return "prevote_resp";
	case RAFT_MSG_VOTE: return "vote";
	case RAFT_MSG_VOTE_RESP: return "vote_resp";
	case RAFT_MSG_APPEND: return "append";
	case RAFT_MSG_APPEND_RESP: return "append_resp";
	case RAFT_MSG_HEARTBEAT: return "heartbeat";
	case RAFT_MSG_HEARTBEAT_RESP: return "heartbeat_resp";
	case RAFT_MSG_PROPOSE: return "propose";
	case RAFT_MSG_READ_INDEX: return "read_index";
	case RAFT_MSG_READ_INDEX_RESP: return "read_index_resp";
	case RAFT_MSG_TIMEOUT_NOW: return "timeout_now";
	case RAFT_MSG_SNAPSHOT: return "snapshot";
	default: return "unknown";
	}
}

/* VOTE: the candidate's term and self-vote must be on disk, or after a crash
 * it could vote again in the same term. VOTE_RESP: a granted vote must be on
 * disk before it counts. APPEND_RESP: an acknowledged entry likewise.
 * HEARTBEAT_RESP vouches for nothing on disk: it says "I was in your term
 * when your heartbeat came", which is all ReadIndex and check-quorum use,
 * and its (last index, term) only ever lowers the leader's match, to a value
 * the leader verifies (replication.c). Making it wait would tie every read
 * and every check-quorum round to the followers' disk latency.
 * PROPOSE, READ_INDEX(_RESP), PREVOTE(_RESP) and TIMEOUT_NOW change no durable
 * state; a leader's APPEND/HEARTBEAT may race its own fsync. */
bool raft_msg_waits_for_disk(uint8_t type)
{
	switch (type) {
	case RAFT_MSG_VOTE:
	case RAFT_MSG_VOTE_RESP:
	case RAFT_MSG_APPEND_RESP:
		return true;
	default:
		return false;
	}
}
