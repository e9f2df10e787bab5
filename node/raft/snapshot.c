/*
 * snapshot.c — log compaction and InstallSnapshot (Raft §7; the progress
 * state "snapshot" as in etcd's design).
 *
 * The core never sees snapshot bytes. The runtime writes snapshots of the
 * state machine, then tells the core with raft_compact(index) that the log
 * up to index may go. When a follower needs an entry the leader no longer
 * has, the leader's core emits a RAFT_MSG_SNAPSHOT to it (index/log_term =
 * the leader's compaction point: any snapshot at or after it will do) and
 * puts that follower in PROGRESS_SNAPSHOT, where nothing else is sent to it.
 * The runtime streams its newest snapshot file in chunks; the follower's
 * runtime collects and checks them, then steps its core with a
 * RAFT_MSG_SNAPSHOT naming the snapshot it holds (index, log_term). The core
 * decides: already covered (answer with its commit), the log already holds
 * that entry (keep the log, just commit), or install: the log is reset to the
 * snapshot point and the ready carries `install` for the runtime to swap the
 * state machine and reset the WAL before anything of that ready is
 * persisted. The acknowledgement is an APPEND_RESP for the snapshot index,
 * which, like every acknowledgement, waits for the disk.
 *
 * Leader side, an APPEND_RESP at or past the pending snapshot ends the state
 * (probe, then replicate as usual). The runtime reports a stream that failed
 * (connection lost, follower refused) with raft_report_snapshot: the
 * follower goes back to probe, and the next probe finds the log still too
 * short and asks for a snapshot again.
 */
#include "core.h"

int raft_compact(raft *r, uint64_t index)
{
	if (r->in_ready)
		return RAFT_EINVAL;
	if (index <= r->log.snap_index)
		return RAFT_OK; /* already compacted that far */
	/* The state machine must hold what goes (applied), and entries not yet
	 * handed out for persistence must stay until they are. */
	if (index > r->applied || index >= r->unsent_from || index > log_last_index(&r->log))
		return RAFT_EINVAL;
	log_compact_to(&r->log, index);
	return RAFT_OK;
}

uint64_t raft_compact_keeping_bytes(const raft *r, uint64_t upto, uint64_t max_bytes)
{
	uint64_t first = log_first_index(&r->log), last = log_last_index(&r->log);
	if (upto > last)
		upto = last;
	uint64_t kept = 0;
	for (uint64_t i = upto; i >= first && i > 0; i--) {
		const raft_entry *e = log_get(&r->log, i);
		if (kept + e->len > max_bytes)
			return i;
		kept += e->len;
	}
	return 0;
}

uint64_t raft_log_bytes(const raft *r)
{
	return r->log.bytes;
}

/* Leader: p needs entries before our first index. */
void snapshot_send(raft *r, progress *p)
{
	if (p->state == PROGRESS_SNAPSHOT)
		return;
	raft_msg *m = outbox_push(r, RAFT_MSG_SNAPSHOT, p->id);
	if (m == NULL)
		return; /* like a lost message: the next probe asks again */
	m->index = r->log.snap_index;
	m->log_term = r->log.snap_term;
	m->commit = r->commit;
	p->state = PROGRESS_SNAPSHOT;
	p->pending_snapshot = r->log.snap_index;
	p->probe_sent = false;
	p->infl_head = p->infl_len = 0;
}

/* Leader: an APPEND_RESP from a follower in PROGRESS_SNAPSHOT. Returns true
 * when the caller should go on with it as a normal acknowledgement. */
bool snapshot_on_append_resp(raft *r, progress *p, const raft_msg *m)
{
	(void)r;
	if (m->reject || m->index < p->pending_snapshot)
		return false; /* an answer to something older: keep waiting */
	/* Installed (or the follower already had it): probe from there, which
	 * the acknowledgement at once turns into replicate. */
	progress_become_probe(p, m->index + 1);
	p->pending_snapshot = 0;
	return true;
}

void raft_report_snapshot(raft *r, uint32_t to, bool ok)
{
	if (r->in_ready || r->role != RAFT_LEADER)
		return;
	if (to == r->cfg.id)
		return;
	progress *p = tracker_progress(&r->trk, to);
	if (p == NULL || p->state != PROGRESS_SNAPSHOT)
		return;
	if (ok) {
		/* Wait for the follower's acknowledgement of the install. */
		progress_become_probe(p, p->pending_snapshot + 1);
		p->probe_sent = true;
	} else {
		progress_become_probe(p, p->match + 1);
	}
	p->pending_snapshot = 0;
}

/* Follower: the runtime holds a complete, checked snapshot at
 * (m->index, m->log_term) from the leader m->from of the current term. */
void snapshot_recv(raft *r, const raft_msg *m)
{
	raft_msg *resp;
	uint64_t t;
	if (m->index <= r->commit) {
		/* Nothing new in it: our state machine is at least as far. */
		resp = outbox_push(r, RAFT_MSG_APPEND_RESP, m->from);
		if (resp != NULL)
			resp->index = r->commit;
		return;
	}
	if (log_term(&r->log, m->index, &t) && (t == m->log_term || PLANTED_BUG(r, 21))) {
		/* Our log holds that entry (Log Matching: and all before it):
		 * keep the log, the entries get applied from it. What follows
		 * index may still differ from the leader's: acknowledge index
		 * only, the leader then probes on from there. */
		r->commit = m->index;
		resp = outbox_push(r, RAFT_MSG_APPEND_RESP, m->from);
		if (resp != NULL)
			resp->index = m->index;
		return;
	}
	/* Install. Everything in the log is either covered by the snapshot or
	 * conflicts with it (a different term at index, or too short). */
	log_reset(&r->log, m->index, m->log_term);
	repl_on_truncate(r, m->index + 1);
	r->persisted = m->index;
	ring_pop_front(&r->persist_q, ring_len(&r->persist_q));
	r->unsent_from = m->index + 1;
	r->commit = m->index;
	r->applied = m->index;
	r->install_pending = true;
	r->install_index = m->index;
	r->install_term = m->log_term;
	resp = outbox_push(r, RAFT_MSG_APPEND_RESP, m->from);
	if (resp != NULL)
		resp->index = m->index;
}
