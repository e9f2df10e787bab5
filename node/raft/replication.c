/*
 * replication.c — log replication and the commit rule (Raft §5.3, §5.4.2).
 *
 * Leader side: APPENDs carry up to max_msg_entries entries / max_msg_bytes
 * payload (batching) and, once a follower is in REPLICATE, up to
 * max_inflight of them are outstanding (pipelining). A rejection carries a
 * hint (the follower's term at the conflicting index and the first index of
 * that term, or its last index when its log is too short) so the leader
 * skips a whole term per round trip instead of one entry.
 *
 * Follower side: an APPEND that matches at (index, log_term) is accepted,
 * entries that conflict are cut off with everything after them, and the
 * acknowledgement goes into the same ready as the entries: the caller sends
 * messages only after the entries are durable.
 */
#include "core.h"

/* Entries [from, ...] that fit in one APPEND. At least one entry goes out
 * even when it alone exceeds max_msg_bytes, or replication would stall. */
static size_t batch_size(const raft *r, uint64_t from)
{
	uint64_t last = log_last_index(&r->log);
	if (from > last)
		return 0;
	size_t n = 0;
	size_t bytes = 0;
	for (uint64_t i = from; i <= last && n < r->cfg.max_msg_entries; i++) {
		const raft_entry *e = log_get(&r->log, i);
		if (n > 0 && bytes + e->len > r->cfg.max_msg_bytes)
			break;
		bytes += e->len;
		n++;
	}
	return n;
}

bool repl_send_append(raft *r, progress *p, bool allow_empty)
{
	if (p->state == PROGRESS_PROBE && p->probe_sent)
		return false;
	if (p->state == PROGRESS_REPLICATE && progress_infl_full(p))
		return false;
	if (p->state == PROGRESS_SNAPSHOT)
		return false;
	uint64_t prev = p->next - 1;
	uint64_t prev_term;
	if (!log_term(&r->log, prev, &prev_term)) {
		snapshot_send(r, p); /* behind our first index */
		return false;
	}
	size_t n = batch_size(r, p->next);
	if (n == 0 && !allow_empty)
		return false;
	raft_msg *m = outbox_push(r, RAFT_MSG_APPEND, p->id);
	if (m == NULL)
		return false;
	m->index = prev;
	m->log_term = prev_term;
	m->commit = r->commit;
	m->n_entries = n;
	p->sent_commit = r->commit;
	if (n > 0) {
		outbox_meta *mm = &r->msg_meta[r->n_msgs - 1];
		mm->ent_from = p->next;
		mm->ent_last_term = log_get(&r->log, p->next + n - 1)->term;
	}
	if (p->state == PROGRESS_REPLICATE) {
		if (n > 0) {
			p->next += n;
			progress_infl_add(p, p->next - 1);
		}
	} else {
		p->probe_sent = true;
	}
	return n > 0;
}

/* Sends to p everything the flow-control window allows; an empty APPEND only
 * when the follower would otherwise not learn a newer commit index. */
void repl_send_all(raft *r, progress *p)
{
	bool empty_ok = r->commit > p->sent_commit;
	while (repl_send_append(r, p, empty_ok))
		empty_ok = false;
}

/* Like repl_send_all, but sends at least an empty APPEND: after a loss in
 * REPLICATE, `next` is already past the lost entries and nothing new may
 * come, so only an APPEND whose previous entry the follower lacks makes it
 * reject and the leader probe back. */
static void send_all_or_empty(raft *r, progress *p)
{
	bool empty_ok = true;
	while (repl_send_append(r, p, empty_ok))
		empty_ok = false;
}

void repl_flush(raft *r)
{
	if (r->role != RAFT_LEADER || !r->bcast_pending)
		return;
	r->bcast_pending = false;
	for (size_t i = 0; i < r->trk.n; i++)
		if (r->trk.prs[i].id != r->cfg.id)
			repl_send_all(r, &r->trk.prs[i]);
}

void repl_bcast_heartbeat(raft *r, uint64_t ctx)
{
	for (size_t i = 0; i < r->trk.n; i++) {
		progress *p = &r->trk.prs[i];
		if (p->id == r->cfg.id)
			continue;
		raft_msg *m = outbox_push(r, RAFT_MSG_HEARTBEAT, p->id);
		if (m == NULL)
			continue;
		/* The follower's log may differ beyond match: it must not commit
		 * past what it is known to share with us. And match itself may be
		 * stale (its disk lost what it acknowledged), so the heartbeat
		 * carries our term at that index for the follower to check. */
		m->commit = r->commit < p->match ? r->commit : p->match;
		if (!log_term(&r->log, m->commit, &m->log_term))
			m->commit = m->log_term = 0; /* before our first index: nothing to vouch for */
		m->ctx = ctx;
	}
}

/* Figure 2 "Rules for servers", leader: commit N when a majority has
 * matchIndex >= N and log[N].term == currentTerm. The leader counts its own
 * log only as far as it is durable. */
#ifdef RAFT_PLANTED_BUGS
/* Planted bug 23: the commit point counted over voters and learners alike
 * (a majority of the voters' number among all of them). */
static uint64_t committed_with_learners(raft *r)
{
	uint64_t m[2 * RAFT_MAX_NODES];
	size_t n = 0;
	const quorum_config *c = &r->trk.conf;
	for (size_t i = 0; i < c->voters.n + c->n_learners; i++) {
		uint32_t id = i < c->voters.n ? c->voters.ids[i] : c->learners[i - c->voters.n];
		const progress *p = tracker_progress(&r->trk, id);
		m[n++] = id == r->cfg.id ? r->persisted : p != NULL ? p->match : 0;
	}
	size_t k = quorum_majority_size(c->voters.n);
	if (k == 0 || k > n)
		return 0;
	for (size_t i = 0; i < k; i++) /* the k-th largest: a partial selection sort */
		for (size_t j = i + 1; j < n; j++)
			if (m[j] > m[i]) {
				uint64_t t = m[i];
				m[i] = m[j];
				m[j] = t;
			}
	return m[k - 1];
}
#endif

bool repl_maybe_commit(raft *r)
{
	if (r->role != RAFT_LEADER)
		return false;
	uint64_t q = tracker_committed(&r->trk, r->cfg.id, r->persisted);
#ifdef RAFT_PLANTED_BUGS
	if (PLANTED_BUG(r, 23) && committed_with_learners(r) > q)
		q = committed_with_learners(r);
#endif
	if (q <= r->commit)
		return false;
	uint64_t t;
	if (!log_term(&r->log, q, &t))
		return false;
	/* §5.4.2: counting replicas is only safe for entries of the current term. */
	if (t != r->term && !PLANTED_BUG(r, 2))
		return false;
	r->commit = q;
	r->bcast_pending = true; /* tell the followers */
	readidx_on_commit(r);
	return true;
}

/* Bookkeeping when the log loses its suffix from index on. */
void repl_on_truncate(raft *r, uint64_t index)
{
	membership_on_truncate(r, index);
	if (r->unsent_from > index)
		r->unsent_from = index;
	if (r->persisted >= index)
		r->persisted = index - 1;
	for (size_t i = 0; i < ring_len(&r->persist_q); i++) {
		persist_batch *b = ring_at(&r->persist_q, i);
		if (b->durable >= index)
			b->durable = index - 1;
	}
}

static void follower_commit(raft *r, uint64_t commit)
{
	if (commit > r->commit)
		r->commit = commit;
}

static void reply_reject(raft *r, const raft_msg *m)
{
	raft_msg *resp = outbox_push(r, RAFT_MSG_APPEND_RESP, m->from);
	if (resp == NULL)
		return;
	resp->reject = true;
	resp->index = m->index;
	uint64_t last = log_last_index(&r->log);
	if (m->index > last) {
		resp->hint_index = last;
		resp->hint_term = 0; /* too short: "my log ends at hint_index" */
	} else {
		uint64_t t = 0;
		(void)log_term(&r->log, m->index, &t);
		resp->hint_term = t;
		resp->hint_index = log_first_index_with_term_ge(&r->log, t);
	}
}

static int validate_entries(const raft_msg *m)
{
	if (m->n_entries > 0 && m->entries == NULL)
		return RAFT_EINVAL;
	uint64_t prev_term = m->log_term;
	for (size_t i = 0; i < m->n_entries; i++) {
		const raft_entry *e = &m->entries[i];
		if (e->index != m->index + 1 + i || e->term < prev_term || e->term > m->term ||
		    (e->len > 0 && e->data == NULL))
			return RAFT_EINVAL;
		prev_term = e->term;
	}
	return RAFT_OK;
}

int repl_recv_append(raft *r, const raft_msg *m)
{
	if (validate_entries(m) != RAFT_OK)
		return RAFT_EINVAL;
	if (m->index < r->commit) {
		/* Everything up to our commit already matches the leader. */
		raft_msg *resp = outbox_push(r, RAFT_MSG_APPEND_RESP, m->from);
		if (resp != NULL)
			resp->index = r->commit;
		return RAFT_OK;
	}
	uint64_t t;
	if (!log_term(&r->log, m->index, &t) || t != m->log_term) {
		reply_reject(r, m);
		return RAFT_OK;
	}
	/* Skip what we already have; cut the log at the first conflict (§5.3). */
	size_t i = 0;
	uint64_t last = log_last_index(&r->log);
	for (; i < m->n_entries; i++) {
		const raft_entry *e = &m->entries[i];
		if (e->index > last)
			break;
		if (log_get(&r->log, e->index)->term != e->term) {
			if (e->index <= r->commit)
				return RAFT_EINVAL; /* would rewrite a committed entry */
			log_truncate_from(&r->log, e->index);
			repl_on_truncate(r, e->index);
			break;
		}
	}
	for (; i < m->n_entries; i++) {
		const raft_entry *e = &m->entries[i];
		if (log_append(&r->log, e->term, e->type, e->data, e->len) != 0)
			return RAFT_ENOMEM; /* no ack: the leader retries */
	}
	uint64_t last_new = m->index + m->n_entries;
	follower_commit(r, m->commit < last_new ? m->commit : last_new);
	raft_msg *resp = outbox_push(r, RAFT_MSG_APPEND_RESP, m->from);
	if (resp != NULL)
		resp->index = last_new;
	return RAFT_OK;
}

/* Where to probe next after a rejection, from the follower's hint. */
static uint64_t next_from_hint(const raft *r, const raft_msg *m)
{
	uint64_t next;
	if (m->hint_term == 0) {
		next = m->hint_index + 1;
	} else {
		/* If we have entries of the follower's conflicting term, our last one
		 * of that term is where the logs can agree; otherwise skip the whole
		 * term on the follower. */
		uint64_t idx = log_last_index_with_term_le(&r->log, m->hint_term, m->index);
		uint64_t t = 0;
		if (idx > r->log.snap_index && log_term(&r->log, idx, &t) && t == m->hint_term)
			next = idx + 1;
		else
			next = m->hint_index;
	}
	if (next > m->index)
		next = m->index; /* always move back at least one entry */
	if (next < 1)
		next = 1;
	return next;
}

void repl_recv_append_resp(raft *r, const raft_msg *m)
{
	progress *p = tracker_progress(&r->trk, m->from);
	if (p == NULL)
		return; /* not a member (raft_step lets none through) */
	p->recent_active = true;
	p->heard = true;
	p->last_heard = r->now;
	if (p->state == PROGRESS_SNAPSHOT && !snapshot_on_append_resp(r, p, m))
		return;
	if (m->reject) {
		if (p->state == PROGRESS_REPLICATE ? m->index <= p->match : m->index != p->next - 1)
			return; /* answer to an APPEND we already moved past */
		uint64_t next = next_from_hint(r, m);
		if (next <= p->match)
			next = p->match + 1;
		/* No step back possible (only if logs broke an invariant, e.g. a
		 * planted bug): retry at the next heartbeat rather than ping-pong. */
		if (p->state == PROGRESS_PROBE && next >= p->next)
			return;
		progress_become_probe(p, next);
		repl_send_all(r, p);
		return;
	}
	if (m->index > log_last_index(&r->log))
		return; /* acknowledges entries we never sent: ignore */
	bool advanced = m->index > p->match;
	if (advanced) {
		p->match = m->index;
		if (p->next <= m->index)
			p->next = m->index + 1;
	}
	if (p->state == PROGRESS_PROBE) {
		progress_become_replicate(p);
	} else {
		progress_infl_free_to(p, m->index);
	}
	if (advanced)
		repl_maybe_commit(r);
	transfer_on_progress(r, p);
	repl_send_all(r, p);
}

/* A heartbeat's commit is safe to take only where our log holds the
 * leader's entry: (commit, log_term) matching means, by the Log Matching
 * property, that everything up to there is the leader's. The leader's match
 * for us, which capped that commit, can be stale: with fsync off and a crash
 * that lost unsynced writes our log went back to an older image, possibly
 * with entries of an older term at those indexes. Then we refuse (reject)
 * and the leader looks for where we really agree. */
void repl_recv_heartbeat(raft *r, const raft_msg *m)
{
	uint64_t last = log_last_index(&r->log);
	bool agree = true;
	if (PLANTED_BUG(r, 5)) {
		follower_commit(r, m->commit < last ? m->commit : last);
	} else if (m->commit > r->commit) {
		uint64_t t;
		agree = log_term(&r->log, m->commit, &t) && t == m->log_term;
		if (agree)
			follower_commit(r, m->commit);
	}
	raft_msg *resp = outbox_push(r, RAFT_MSG_HEARTBEAT_RESP, m->from);
	if (resp != NULL) {
		resp->ctx = m->ctx;
		resp->reject = !agree;
		/* our log's end, so the leader notices a log that shrank */
		resp->index = last;
		(void)log_term(&r->log, last, &resp->log_term);
	}
}

/* The index where a follower that answered a heartbeat with m is known to
 * agree with us: its last index if we hold the same term there (Log
 * Matching), else nothing known (0). Never its word alone. */
static uint64_t verified_match(const raft *r, const raft_msg *m)
{
	uint64_t t;
	if (m->index > log_last_index(&r->log) || !log_term(&r->log, m->index, &t) ||
	    t != m->log_term)
		return 0;
	return m->index;
}

void repl_recv_heartbeat_resp(raft *r, const raft_msg *m)
{
	progress *p = tracker_progress(&r->trk, m->from);
	if (p == NULL)
		return; /* not a member (raft_step lets none through) */
	p->recent_active = true;
	p->heard = true;
	p->last_heard = r->now;
	if (m->ctx > p->read_acked && m->ctx <= r->read_seq) {
		p->read_acked = m->ctx;
		readidx_on_ack(r);
	}
	if (PLANTED_BUG(r, 5) ? m->index < p->match : (m->reject || m->index < p->match)) {
		/* The follower's log is not what it once acknowledged: its disk
		 * was wiped or lost unsynced writes (the fault agent does both),
		 * so it is shorter, or (reject) it lacks our entry at the commit
		 * index we sent it. Match drops to what we can verify and we
		 * probe from its end; the commit index never moves back, so this
		 * only costs resending. A reordered old response can also land
		 * here, which is harmless for the same reason. */
		uint64_t match = PLANTED_BUG(r, 5) ? m->index : verified_match(r, m);
		if (match < p->match) {
			uint64_t last = log_last_index(&r->log);
			p->match = match;
			progress_become_probe(p, (m->index < last ? m->index : last) + 1);
			repl_send_all(r, p);
			return;
		}
	}
	if (p->match < log_last_index(&r->log)) {
		/* A lagging follower: the APPENDs may have been lost. */
		if (p->state == PROGRESS_PROBE)
			p->probe_sent = false;
		else if (progress_infl_full(p))
			progress_infl_free_first(p);
		send_all_or_empty(r, p);
	}
}
