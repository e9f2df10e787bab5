/*
 * proposal.c — client commands entering the log (Raft §5.3, §8).
 *
 * The leader appends at once and sends at the next ready, so every proposal
 * made between two readies travels in the same APPENDs. A follower that
 * knows the leader queues proposals and forwards them as one PROPOSE message
 * per ready. A forwarded proposal can be lost (the network, a leader change):
 * its outcome stays unknown until the entry is seen committed, which is what
 * raft_propose promises.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

int proposal_append(raft *r, uint8_t type, const void *data, uint32_t len)
{
	if (log_append(&r->log, r->term, type, data, len) != 0)
		return RAFT_ENOMEM;
	if (type != RAFT_ENTRY_CONF && r->conf_scanned + 1 == log_last_index(&r->log))
		r->conf_scanned++; /* nothing for membership_sync to look at */
	r->bcast_pending = true;
	return RAFT_OK;
}

/* Flow control on the leader: uncommitted entries count against the limit. */
static bool leader_full(const raft *r)
{
	size_t max = r->cfg.max_pending_proposals;
	return max > 0 && log_last_index(&r->log) - r->commit >= max;
}

int raft_propose(raft *r, const void *data, size_t len, uint64_t *index_out)
{
	if (index_out != NULL)
		*index_out = 0;
	if (r->in_ready || len > UINT32_MAX || (len > 0 && data == NULL))
		return RAFT_EINVAL;
	if (r->role == RAFT_LEADER) {
		if (r->transfer_to != RAFT_NONE || leader_full(r))
			return RAFT_EBUSY;
		int rc = proposal_append(r, RAFT_ENTRY_NORMAL, data, (uint32_t)len);
		if (rc != RAFT_OK)
			return rc;
		if (index_out != NULL)
			*index_out = log_last_index(&r->log);
		return RAFT_OK;
	}
	if (r->leader == RAFT_NONE)
		return RAFT_ENOLEADER;
	if (r->cfg.max_pending_proposals > 0 && r->n_fwd >= r->cfg.max_pending_proposals)
		return RAFT_EBUSY;
	if (r->n_fwd == r->cap_fwd) {
		size_t ncap = r->cap_fwd ? r->cap_fwd * 2 : 64;
		raft_entry *n = realloc(r->fwd, ncap * sizeof(*n));
		if (n == NULL)
			return RAFT_ENOMEM;
		r->fwd = n;
		r->cap_fwd = ncap;
	}
	raft_entry *e = &r->fwd[r->n_fwd];
	memset(e, 0, sizeof(*e));
	e->type = RAFT_ENTRY_NORMAL;
	e->len = (uint32_t)len;
	if (len > 0) {
		e->data = malloc(len);
		if (e->data == NULL)
			return RAFT_ENOMEM;
		memcpy(e->data, data, len);
	}
	r->n_fwd++;
	return RAFT_OK;
}

void proposal_recv(raft *r, const raft_msg *m)
{
	if (r->role != RAFT_LEADER || r->transfer_to != RAFT_NONE)
		return; /* dropped: the proposer's outcome is unknown either way */
	for (size_t i = 0; i < m->n_entries; i++) {
		const raft_entry *e = &m->entries[i];
		if (e->type != RAFT_ENTRY_NORMAL || (e->len > 0 && e->data == NULL) || leader_full(r))
			continue;
		if (proposal_append(r, RAFT_ENTRY_NORMAL, e->data, e->len) != RAFT_OK)
			return;
	}
}

void proposal_free_fwd(raft *r)
{
	for (size_t i = 0; i < r->n_fwd; i++)
		free(r->fwd[i].data);
	r->n_fwd = 0;
}

/* Moves the queued proposals into one PROPOSE message to the leader (or into
 * the log, if this node has become the leader meanwhile). */
void proposal_flush(raft *r)
{
	if (r->n_fwd == 0)
		return;
	if (r->role == RAFT_LEADER) {
		for (size_t i = 0; i < r->n_fwd; i++)
			if (proposal_append(r, RAFT_ENTRY_NORMAL, r->fwd[i].data, r->fwd[i].len) != RAFT_OK)
				break;
		proposal_free_fwd(r);
		return;
	}
	raft_msg *m = r->leader == RAFT_NONE ? NULL : outbox_push(r, RAFT_MSG_PROPOSE, r->leader);
	if (m == NULL) {
		proposal_free_fwd(r);
		return;
	}
	/* The message takes the array; a fresh one is allocated for the next batch. */
	m->entries = r->fwd;
	m->n_entries = r->n_fwd;
	r->msg_meta[r->n_msgs - 1].owned = r->fwd;
	r->fwd = NULL;
	r->n_fwd = r->cap_fwd = 0;
}
