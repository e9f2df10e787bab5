/*
 * transfer.c — leadership transfer (Ongaro's thesis §3.10).
 *
 * The leader stops taking proposals, brings the target's log up to date, then
 * sends TIMEOUT_NOW; the target campaigns at once, skipping pre-vote, and its
 * votes bypass the other nodes' leader lease. If the target has not taken
 * over within an election timeout, the transfer is abandoned.
 */
#include "core.h"

static void send_timeout_now(raft *r, uint32_t to)
{
	(void)outbox_push(r, RAFT_MSG_TIMEOUT_NOW, to);
}

int raft_transfer(raft *r, uint32_t to)
{
	if (r->in_ready)
		return RAFT_EINVAL;
	progress *p = tracker_progress(&r->trk, to);
	if (p == NULL || !tracker_is_voter(&r->trk, to))
		return RAFT_EINVAL; /* only a voter can lead */
	if (r->role != RAFT_LEADER)
		return RAFT_ENOLEADER;
	if (to == r->cfg.id)
		return RAFT_OK;
	r->transfer_to = to;
	r->transfer_elapsed = 0;
	if (p->match == log_last_index(&r->log))
		send_timeout_now(r, to);
	else
		repl_send_all(r, p);
	return RAFT_OK;
}

void transfer_on_progress(raft *r, progress *p)
{
	if (r->transfer_to == p->id && p->match == log_last_index(&r->log))
		send_timeout_now(r, p->id);
}

void transfer_tick(raft *r)
{
	if (r->transfer_to == RAFT_NONE)
		return;
	if (++r->transfer_elapsed >= r->cfg.election_ticks)
		r->transfer_to = RAFT_NONE;
}

void transfer_recv_timeout_now(raft *r, const raft_msg *m)
{
	(void)m;
	if (r->role == RAFT_LEADER)
		return;
	election_campaign(r, true);
}
