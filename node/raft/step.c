/*
 * step.c — one incoming message: term rules first (Figure 2, "Rules for
 * servers": a higher term makes any node a follower; a lower term is stale),
 * then dispatch by type to the file that owns that part of the protocol.
 */
#include "core.h"

static bool is_vote_req(uint8_t t)
{
	return t == RAFT_MSG_PREVOTE || t == RAFT_MSG_VOTE;
}

/* Messages that only a leader of m->term sends. */
static bool from_leader(uint8_t t)
{
	return t == RAFT_MSG_APPEND || t == RAFT_MSG_HEARTBEAT || t == RAFT_MSG_TIMEOUT_NOW ||
	       t == RAFT_MSG_SNAPSHOT;
}

/* Returns true when m should be processed further. */
static bool handle_term(raft *r, const raft_msg *m)
{
	if (m->term > r->term) {
		bool transfer = m->type == RAFT_MSG_VOTE && m->ctx == RAFT_CTX_TRANSFER;
		if (is_vote_req(m->type) && !transfer && election_in_lease(r))
			return false; /* leader stickiness: we heard from a live leader */
		if (m->type == RAFT_MSG_PREVOTE)
			return true; /* a pre-vote never changes our term */
		if (m->type == RAFT_MSG_PREVOTE_RESP && !m->reject)
			return true; /* a grant carries the term of the pre-vote round */
		int elapsed = r->election_elapsed;
		election_become_follower(r, m->term, from_leader(m->type) ? m->from : RAFT_NONE);
		/* Raft §5.2: only a live leader or a granted vote resets the election
		 * timer. A vote request alone must not: a candidate whose log is too
		 * stale to win would otherwise keep every other node from timing out
		 * (seen in the simulator with pre-vote off and skewed clocks). */
		if (m->type == RAFT_MSG_VOTE)
			r->election_elapsed = elapsed;
		return true;
	}
	if (m->term < r->term) {
		if (PLANTED_BUG(r, 1) && m->type == RAFT_MSG_VOTE_RESP && r->role == RAFT_CANDIDATE) {
			election_recv_vote_resp(r, m, true);
			return false;
		}
		if ((m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT) &&
		    (r->cfg.check_quorum || r->cfg.pre_vote)) {
			/* A deposed leader that cannot learn the new term from votes
			 * (we may ignore its pre-votes) learns it from this answer. */
			(void)outbox_push(r, RAFT_MSG_APPEND_RESP, m->from);
		} else if (m->type == RAFT_MSG_PREVOTE) {
			raft_msg *resp = outbox_push(r, RAFT_MSG_PREVOTE_RESP, m->from);
			if (resp != NULL)
				resp->reject = true;
		}
		return false;
	}
	return true;
}

/* Same-term message from the leader: any non-leader follows it. */
static void heard_leader(raft *r, const raft_msg *m)
{
	if (r->role != RAFT_FOLLOWER)
		election_become_follower(r, r->term, m->from);
	else
		election_set_leader(r, m->from);
	r->election_elapsed = 0;
}

static int validate(const raft *r, const raft_msg *m)
{
	if (m->type < RAFT_MSG_PREVOTE || m->type > RAFT_MSG_SNAPSHOT)
		return RAFT_EINVAL;
	/* Non-members are heard: a leader that is removing itself still leads
	 * nodes that already apply the new configuration; a joining node hears
	 * a leader it does not know yet. Their vote requests are not (below). */
	if (m->from == r->cfg.id || m->from == RAFT_NONE)
		return RAFT_EINVAL;
	if (m->to != r->cfg.id)
		return RAFT_EINVAL;
	/* The largest term is never legitimate: a node there could not start
	 * an election (term + 1 wraps to 0), so one forged message would stop
	 * the cluster for good (issue 15). Nor is a jump of more than 2^32
	 * terms (that many elections never happen): without it one forged
	 * message could still park every node just below the largest term. */
	if (m->term == UINT64_MAX || (m->term > r->term && m->term - r->term > RAFT_MAX_TERM_JUMP))
		return RAFT_EINVAL;
	if (m->n_entries > 0 && m->entries == NULL)
		return RAFT_EINVAL;
	if (m->n_entries > 0 && m->type != RAFT_MSG_APPEND && m->type != RAFT_MSG_PROPOSE)
		return RAFT_EINVAL;
	return RAFT_OK;
}

int raft_step(raft *r, const raft_msg *m)
{
	if (r->in_ready || m == NULL || validate(r, m) != RAFT_OK)
		return RAFT_EINVAL;
	if (!membership_accept_msg(r, m))
		return RAFT_OK; /* another incarnation of a member: it speaks for nobody */
	/* A candidate that is not a voter in our configuration (removed, a
	 * learner, never added) is ignored before its term can disturb us
	 * while we follow a leader (thesis §4.2.3: heard within the election
	 * timeout): a removed node cannot depose anyone, with or without
	 * pre-vote. With no leader it is heard: our configuration may be the
	 * stale one (the simulator found a cluster where each of two nodes
	 * ignored the other's requests, each behind the other's change, and
	 * no leader was ever elected again: planted bug 26). */
	if (is_vote_req(m->type) && !tracker_is_voter(&r->trk, m->from) &&
	    (r->leader != RAFT_NONE || PLANTED_BUG(r, 26)))
		return RAFT_OK;

	/* Term-less requests: they are answered by whoever leads now, and an
	 * answer is valid whatever the sender's term (see read_index.c). */
	switch (m->type) {
	case RAFT_MSG_PROPOSE:
		proposal_recv(r, m);
		return RAFT_OK;
	case RAFT_MSG_READ_INDEX:
		readidx_recv_req(r, m);
		return RAFT_OK;
	case RAFT_MSG_READ_INDEX_RESP:
		readidx_recv_resp(r, m);
		return RAFT_OK;
	default:
		break;
	}

	if (!handle_term(r, m))
		return RAFT_OK;

	switch (m->type) {
	case RAFT_MSG_PREVOTE:
	case RAFT_MSG_VOTE:
		election_recv_vote_req(r, m);
		break;
	case RAFT_MSG_PREVOTE_RESP:
	case RAFT_MSG_VOTE_RESP:
		election_recv_vote_resp(r, m, false);
		break;
	case RAFT_MSG_APPEND:
		if (r->role == RAFT_LEADER)
			return RAFT_EINVAL; /* two leaders in one term: never from a correct peer */
		heard_leader(r, m);
		{
			int rc = repl_recv_append(r, m);
			membership_sync(r); /* CONF entries are in force once in the log */
			return rc;
		}
	case RAFT_MSG_HEARTBEAT:
		if (r->role == RAFT_LEADER)
			return RAFT_EINVAL;
		heard_leader(r, m);
		repl_recv_heartbeat(r, m);
		break;
	case RAFT_MSG_APPEND_RESP:
		if (r->role == RAFT_LEADER)
			repl_recv_append_resp(r, m);
		break;
	case RAFT_MSG_HEARTBEAT_RESP:
		if (r->role == RAFT_LEADER)
			repl_recv_heartbeat_resp(r, m);
		break;
	case RAFT_MSG_SNAPSHOT:
		if (r->role == RAFT_LEADER)
			return RAFT_EINVAL;
		heard_leader(r, m);
		snapshot_recv(r, m);
		break;
	case RAFT_MSG_TIMEOUT_NOW:
		if (r->role != RAFT_LEADER)
			heard_leader(r, m);
		transfer_recv_timeout_now(r, m);
		break;
	default:
		break;
	}
	return RAFT_OK;
}
