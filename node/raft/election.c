/*
 * election.c — roles and leader election (Raft §5.2, §5.4.1; pre-vote and
 * leader stickiness from Ongaro's thesis §9.6).
 *
 * A follower whose election timer fires first runs a pre-vote round: it asks
 * "would you vote for me at term+1?" without changing any term. Only when a
 * majority says yes does it become a real candidate, so a node cut off from
 * the cluster cannot inflate the term and depose a healthy leader when it
 * comes back. Nodes that heard from a leader within the election timeout
 * ("in lease") ignore both kinds of request, unless the vote was asked for by
 * the leader itself through a transfer (TIMEOUT_NOW).
 */
#include "core.h"

void election_reset_timeout(raft *r)
{
	int t = r->cfg.election_ticks;
	r->election_elapsed = 0;
	/* Uniform in [T, 2T): the randomness that breaks split votes. */
	r->randomized_timeout = t + (int)(raft_rand(r) % (uint64_t)t);
}

bool election_in_lease(const raft *r)
{
	return r->leader != RAFT_NONE && r->election_elapsed < r->cfg.election_ticks;
}

void election_set_leader(raft *r, uint32_t leader)
{
	if (r->leader == leader)
		return;
	r->leader = leader;
	readidx_on_leader_change(r);
}

static void set_term(raft *r, uint64_t term)
{
	if (term != r->term) {
		r->term = term;
		r->vote = RAFT_NONE;
		r->vote_unrecorded = false;
	}
}

void election_become_follower(raft *r, uint64_t term, uint32_t leader)
{
	if (r->role == RAFT_LEADER) {
		readidx_leader_lost(r);
		r->transfer_to = RAFT_NONE;
		r->bcast_pending = false;
	}
	set_term(r, term);
	r->role = RAFT_FOLLOWER;
	election_set_leader(r, leader);
	election_reset_timeout(r);
}

static void send_vote_requests(raft *r, uint8_t type, uint64_t term, bool transfer)
{
	for (size_t i = 0; i < r->trk.n; i++) {
		uint32_t id = r->trk.prs[i].id;
		if (id == r->cfg.id || !tracker_is_voter(&r->trk, id))
			continue;
		raft_msg *m = outbox_push(r, type, id);
		if (m == NULL)
			continue;
		m->term = term;
		m->index = log_last_index(&r->log);
		m->log_term = log_last_term(&r->log);
		m->ctx = transfer ? RAFT_CTX_TRANSFER : 0;
	}
}

static bool won(const raft *r)
{
	return tracker_vote_result(&r->trk) == QUORUM_WON;
}

/* A new round: only this node's own vote so far. */
static void start_votes(raft *r)
{
	tracker_reset_votes(&r->trk);
	tracker_record_vote(&r->trk, r->cfg.id, true);
}

static void become_candidate(raft *r, bool transfer)
{
	set_term(r, r->term + 1);
	r->vote = r->cfg.id;
	r->role = RAFT_CANDIDATE;
	election_set_leader(r, RAFT_NONE);
	election_reset_timeout(r);
	start_votes(r);
	if (won(r)) {
		election_become_leader(r);
		return;
	}
	send_vote_requests(r, RAFT_MSG_VOTE, r->term, transfer);
}

static void become_precandidate(raft *r)
{
	r->role = RAFT_PRECANDIDATE;
	election_set_leader(r, RAFT_NONE);
	election_reset_timeout(r);
	start_votes(r);
	if (won(r)) {
		become_candidate(r, false);
		return;
	}
	send_vote_requests(r, RAFT_MSG_PREVOTE, r->term + 1, false);
}

void election_campaign(raft *r, bool transfer)
{
	/* term + 1 must stay below the largest term, which peers refuse.
	 * Learners, removed nodes and other incarnations never campaign
	 * (a node whose removal is not committed yet may: membership.c). */
	if (r->role == RAFT_LEADER || r->term >= UINT64_MAX - 1 || !membership_may_campaign(r))
		return;
	if (r->cfg.pre_vote && !transfer)
		become_precandidate(r);
	else
		become_candidate(r, transfer);
}

void election_become_leader(raft *r)
{
	r->role = RAFT_LEADER;
	election_set_leader(r, r->cfg.id);
	r->election_elapsed = 0;
	r->heartbeat_elapsed = 0;
	r->transfer_to = RAFT_NONE;
	uint64_t next = log_last_index(&r->log) + 1;
	for (size_t i = 0; i < r->trk.n; i++)
		progress_reset(&r->trk.prs[i], next);
	/* Raft §8: a no-op of the new term lets earlier entries commit (they may
	 * only be committed indirectly, Figure 8) and lets ReadIndex start. */
	if (proposal_append(r, RAFT_ENTRY_NOOP, NULL, 0) != 0)
		r->enomem_drops++; /* then the first proposal of the term plays its part */
	r->bcast_pending = true;
	repl_maybe_commit(r);
}

/* Figure 2, RequestVote receiver rule 2: the candidate's log must be at least
 * as up to date as ours (§5.4.1). */
static bool log_up_to_date(const raft *r, uint64_t last_term, uint64_t last_index)
{
	uint64_t my_term = log_last_term(&r->log);
	return last_term > my_term ||
	       (last_term == my_term && last_index >= log_last_index(&r->log));
}

void election_recv_vote_req(raft *r, const raft_msg *m)
{
	bool pre = m->type == RAFT_MSG_PREVOTE;
	/* One vote per term; a pre-vote for a future term promises nothing. */
	bool can_vote = r->vote == m->from ||
			(r->vote == RAFT_NONE && r->leader == RAFT_NONE) ||
			(pre && m->term > r->term);
	/* Only a voter (with this node's incarnation) votes, and only for a voter. */
	bool grant = can_vote && membership_may_vote_for(r, m->from) &&
		     log_up_to_date(r, m->log_term, m->index);
	raft_msg *resp = outbox_push(r, pre ? RAFT_MSG_PREVOTE_RESP : RAFT_MSG_VOTE_RESP, m->from);
	if (grant && !pre) {
		r->vote = m->from;
		if (PLANTED_BUG(r, 3))
			r->vote_unrecorded = true;
		r->election_elapsed = 0;
	}
	if (resp == NULL)
		return;
	resp->reject = !grant;
	/* A granted pre-vote answers in the term asked about, so the
	 * pre-candidate can tell it apart from stale answers. */
	resp->term = grant && pre ? m->term : r->term;
}

void election_recv_vote_resp(raft *r, const raft_msg *m, bool force_grant)
{
	if (r->role == RAFT_PRECANDIDATE) {
		if (m->type != RAFT_MSG_PREVOTE_RESP)
			return;
		if (!m->reject && m->term != r->term + 1)
			return; /* a grant for some other round */
	} else if (r->role == RAFT_CANDIDATE) {
		if (m->type != RAFT_MSG_VOTE_RESP)
			return;
	} else {
		return;
	}
	tracker_record_vote(&r->trk, m->from, !m->reject || force_grant);
	enum quorum_vote_result res = tracker_vote_result(&r->trk);
	if (res == QUORUM_WON) {
		if (r->role == RAFT_PRECANDIDATE)
			become_candidate(r, false);
		else
			election_become_leader(r);
	} else if (res == QUORUM_LOST) {
		election_become_follower(r, r->term, RAFT_NONE);
	}
}
