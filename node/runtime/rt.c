/*
 * rt.c — the runtime's life cycle and its requests: proposing, reading,
 * deadlines, and rt_end, the one place a waiting request ends.
 */
#include <stdlib.h>
#include <string.h>

#include "../net/wire.h"
#include "rt_internal.h"

rt *rt_new(const raft_config *rc, const rt_options *o, const rt_io *io)
{
	rt *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	r->io = *io;
	r->o = *o;
	r->id = rc->id;
	r->election_ticks = rc->election_ticks > 0 ? (uint32_t)rc->election_ticks : 10u;
	rt_snap_init(r, rc);
	reads_init(&r->reads);
	xfer_init(r);
	if (kv_machine_init(&r->kv) != 0) {
		free(r);
		return NULL;
	}
	if (pending_table_init(&r->pending) != 0 || rt_wal_init(&r->wal) != 0 ||
	    (r->raft = raft_new(rc)) == NULL) {
		rt_free(r);
		return NULL;
	}
	r->nonce_from_log = rc->incarnation != 0 && o->nonce < RT_NONCE_GENERATION;
	if ((o->probe_incarnation || r->nonce_from_log) && io->raise_nonce == NULL) {
		rt_free(r);
		return NULL;
	}
	if (o->probe_incarnation) {
		if (io->keep_incarnation == NULL) {
			rt_free(r);
			return NULL;
		}
		r->probing = true;
		inc_probe_init(&r->probe, rc->id, rc->voters, rc->n_voters);
	}
	return r;
}

int rt_load(rt *r, const wal_recovered *rec)
{
	r->wal.queued_hs = rec->hs;
	uint64_t last = rec->snap_index + rec->n_entries;
	if (r->snap.durable < last)
		r->snap.durable = last;
	return raft_load(r->raft, &rec->hs, rec->snap_index, rec->snap_term, rec->entries,
			 rec->n_entries);
}

void rt_free(rt *r)
{
	if (r == NULL)
		return;
	pending *p;
	while ((p = pending_oldest(&r->pending)) != NULL) {
		pending_remove(&r->pending, p);
		pending_free(&r->pending, p);
	}
	peer_free_deferred(r);
	xfer_destroy(r);
	rt_wal_destroy(&r->wal);
	reads_destroy(&r->reads);
	pending_table_destroy(&r->pending);
	raft_free(r->raft);
	kv_machine_destroy(&r->kv);
	rt_snap_destroy(r);
	free(r->enc);
	free(r);
}

void rt_fail(rt *r, const char *what)
{
	if (r->failed)
		return;
	r->failed = true;
	r->io.fatal(r->io.ud, what);
}

void rt_end(rt *r, pending *p, uint8_t end, uint8_t why, uint64_t index,
	    const kv_command *c, const kv_result *res)
{
	/* The one rule: a request that may still commit is never reported as
	 * a definite failure, whatever the caller thought. */
	if (end == RT_NOT_PROPOSED && p->proposed)
		end = RT_UNKNOWN;
	rt_outcome o = {
		.ctx = p->ctx, .stamp = p->stamp, .end = end, .why = why, .kind = p->kind,
		.key = p->key, .klen = p->klen, .index = index, .cmd = c, .res = res,
	};
	pending_remove(&r->pending, p);
	if (end != RT_APPLIED && why == RT_WHY_TIMEOUT)
		r->st.timeouts++;
	r->io.outcome(r->io.ud, &o);
	pending_free(&r->pending, p);
}

void rt_stop(rt *r)
{
	pending *p;
	while ((p = pending_oldest(&r->pending)) != NULL)
		rt_end(r, p, RT_NOT_PROPOSED, RT_WHY_STOPPING, 0, NULL, NULL);
	r->stopping = true;
}

void rt_set_paused(rt *r, bool paused)
{
	if (r->paused == paused)
		return;
	r->paused = paused;
	if (!paused) {
		rt_wal_resume(r);
		xfer_resume(r);
		r->io.kick(r->io.ud);
	}
}

static uint64_t deadline(rt *r)
{
	return r->io.now_ms(r->io.ud) + r->o.request_timeout_ms;
}

/* Ends a request that never got an entry: only as "not proposed". */
static void refuse(rt *r, void *ctx, uint64_t stamp, uint8_t kind, const char *key, size_t klen,
		   uint8_t why)
{
	rt_outcome o = {
		.ctx = ctx, .stamp = stamp, .end = RT_NOT_PROPOSED, .why = why, .kind = kind,
		.key = key, .klen = klen,
	};
	r->io.outcome(r->io.ud, &o);
}

/* Admission control (issue 15.4). Three rules on what this node has
 * proposed and not yet seen answered (r->pending), so that a flood of large
 * writes is turned away before it piles up in the log, the WAL's next batch
 * and the followers' queues, and small writes keep going through:
 *
 *  1. all commands: at most max_uncommitted_bytes (64 MiB) proposed and
 *     unanswered; one command alone always fits. The memory bound.
 *  2. big commands (over max_uncommitted_bytes / 1024, 64 KiB by default):
 *     together at most max_uncommitted_bytes / 32 (2 MiB). The log commits
 *     in order, so every big byte ahead of a small write delays it; this
 *     bounds the bulk any write can find queued ahead of it at the leader to
 *     (nodes x 2 MiB), whatever the client load.
 *  3. big commands: none while the oldest request waiting here has waited
 *     longer than RT_ADMIT_DELAY_MS. The byte bounds cannot know how fast
 *     this machine commits; the queueing delay does (as CoDel does for
 *     packets): once the cluster falls behind, bulk is refused until it
 *     has caught up, and the small writes behind it see the delay shrink.
 *
 * and one on its log: 4. no command while the Raft log in memory holds
 * more than snap.every_bytes + snap.trailing_bytes + max_uncommitted_bytes
 * (144 MiB by default; only with the snapshot byte trigger on). The log
 * leaves memory only behind snapshots; when they fall behind (a flood
 * commits faster than a snapshot is written, or snapshots fail) writes are
 * refused until one completes, instead of the log growing by every byte.
 *
 * Returns 0 (admitted; *big says which budget it took) or the refusal. */
#define RT_ADMIT_DELAY_MS 100u

static uint8_t admit(rt *r, size_t len, bool *big)
{
	size_t cap = r->o.max_uncommitted_bytes;
	if (cap == 0)
		return 0;
	pending_table *t = &r->pending;
	if (t->bytes > 0 && t->bytes + len > cap)
		return RT_WHY_OVERLOADED;
	if (r->o.snap.every_bytes > 0 &&
	    raft_log_bytes(r->raft) > r->o.snap.every_bytes + r->o.snap.trailing_bytes + cap)
		return RT_WHY_OVERLOADED;
	*big = len > cap / 1024;
	if (!*big)
		return 0;
	if (t->big_bytes > 0 && t->big_bytes + len > cap / 32)
		return RT_WHY_OVERLOADED;
	pending *oldest = pending_oldest(t);
	if (oldest != NULL) {
		uint64_t now = r->io.now_ms(r->io.ud);
		uint64_t since = oldest->deadline_ms - r->o.request_timeout_ms;
		if (now > since && now - since > RT_ADMIT_DELAY_MS)
			return RT_WHY_OVERLOADED;
	}
	return 0;
}

bool rt_admits(rt *r, size_t len)
{
	bool big = false;
	return r->stopping || r->failed || admit(r, len, &big) == 0;
}

/* A node that started empty in a cluster that exists (RT_NONCE_GENERATION
 * in rt.h) takes its boot nonce once it is in its configuration (a
 * CONF entry lists its id with its incarnation) and has applied through that
 * entry: every command of its earlier lives that was committed before it
 * was added is then in its dedup record, and the one after the newest
 * "generation" (high 32 bits) found there is one no earlier life reached.
 * Commands of an earlier life still in flight carry an older nonce: stale,
 * skipped, and nobody here waits for them. 0 once it has its nonce. */
static int settle_nonce(rt *r)
{
	if (!r->nonce_from_log)
		return 0;
	if (r->probing || RT_PLANTED(r, RT_BUG_NONCE_AFTER_WIPE))
		return r->probing ? -1 : 0;
	raft_status st;
	raft_get_status(r->raft, &st);
	if (st.membership == RAFT_MEMBER_NONE || st.conf_index == 0 || r->applied < st.conf_index)
		return -1;
	uint64_t newest = kv_dedup_newest_nonce(r->kv.dedup, r->id);
	uint64_t floor = (newest / RT_NONCE_GENERATION + 1) * RT_NONCE_GENERATION;
	uint64_t nonce;
	if (r->io.raise_nonce(r->io.ud, floor, &nonce) != 0) {
		rt_fail(r, "cannot store the boot counter in the data dir");
		return -1;
	}
	r->o.nonce = nonce;
	r->nonce_from_log = false;
	return 0;
}

/* Removed by the configuration in force, and not the leader that removed
 * itself and leads until that commits: it will never again have a leader to
 * send a request to, so requests end at once, not proposed (RT_WHY_REMOVED). */
static bool removed_for_good(rt *r)
{
	if (!raft_removed(r->raft))
		return false;
	raft_status st;
	raft_get_status(r->raft, &st);
	return st.role != RAFT_LEADER;
}

void rt_propose(rt *r, kv_command *c, uint8_t kind, const char *key, size_t klen,
		void *ctx, uint64_t stamp, bool ack_on_append)
{
	if (r->stopping || r->failed) {
		refuse(r, ctx, stamp, kind, key, klen, RT_WHY_STOPPING);
		return;
	}
	if (removed_for_good(r)) {
		refuse(r, ctx, stamp, kind, key, klen, RT_WHY_REMOVED);
		return;
	}
	if (settle_nonce(r) != 0) {
		refuse(r, ctx, stamp, kind, key, klen, r->failed ? RT_WHY_STOPPING : RT_WHY_CATCHING_UP);
		return;
	}
	c->origin = r->id;
	c->nonce = r->o.nonce;
	c->req_id = ++r->next_cmd_id;
	/* Encoded into the runtime's scratch buffer: the core copies what it
	 * appends, so no allocation per command (a forwarded one is copied for
	 * forwarding again, below). A buffer over 1 MiB is not kept. */
	size_t len = kv_command_size(c);
	if (len == SIZE_MAX || len == 0) {
		refuse(r, ctx, stamp, kind, key, klen, RT_WHY_NOMEM);
		return;
	}
	if (len > r->enc_cap || (r->enc_cap > (1u << 20) && len <= (1u << 20))) {
		size_t cap = len < 4096 ? 4096 : len;
		uint8_t *nb = malloc(cap);
		if (nb == NULL) {
			refuse(r, ctx, stamp, kind, key, klen, RT_WHY_NOMEM);
			return;
		}
		free(r->enc);
		r->enc = nb;
		r->enc_cap = cap;
	}
	uint8_t *data = r->enc;
	len = kv_command_encode_to(c, data);
	/* Admission control (issue 15.4), before proposing, so a refusal is
	 * cheap and definitely not applied (503 overloaded). */
	bool big = false;
	uint8_t why = admit(r, len, &big);
	if (why != 0) {
		r->st.proposals_refused++;
		refuse(r, ctx, stamp, kind, key, klen, why);
		return;
	}
	pending *p = pending_add(&r->pending, c->req_id, ctx, stamp, kind, key, klen, deadline(r));
	if (p == NULL) {
		refuse(r, ctx, stamp, kind, key, klen, RT_WHY_NOMEM);
		return;
	}
	uint64_t index = 0;
	int rc = raft_propose(r->raft, data, len, &index);
	if (rc == RAFT_OK && index == 0) {
		/* Forwarded to the leader: a copy is kept, to forward again if
		 * another leader takes over before it is seen applied
		 * (rt_reforward); without memory for it, it is not kept (the
		 * forwarded command still counts, it is just not re-sent). */
		p->cmd = malloc(len);
		if (p->cmd != NULL) {
			memcpy(p->cmd, data, len);
			p->cmd_len = len;
		}
		p->fwd_to = raft_leader(r->raft);
	}
	if (rc != RAFT_OK) {
		r->st.proposals_refused++;
		rt_end(r, p, RT_NOT_PROPOSED,
		       rc == RAFT_ENOLEADER ? RT_WHY_NO_LEADER : rc == RAFT_EBUSY ? RT_WHY_BUSY : RT_WHY_REFUSED,
		       0, NULL, NULL);
		return;
	}
	p->proposed = true;
	p->bytes = len;
	p->big = big;
	r->pending.bytes += len;
	if (big)
		r->pending.big_bytes += len;
	r->st.proposals++;
	r->io.kick(r->io.ud);
	/* The unsafe ack_before_commit switch: a leader's write or txn is
	 * reported applied as soon as it is in the leader's own log. */
	if (ack_on_append && index != 0 && (kind == RT_KIND_WRITE || kind == RT_KIND_TXN)) {
		kv_result res;
		memset(&res, 0, sizeof res);
		rt_end(r, p, RT_APPLIED, RT_WHY_EARLY_ACK, index, c, &res);
	}
}

/*
 * A command forwarded to a leader that then lost its leadership (killed, cut
 * off) is lost with it more often than not, and would wait for its deadline
 * (then 504) although the cluster elected another leader long before. So when
 * a new leader is known, every forwarded command still waiting is proposed
 * again: forwarded to it, or appended if this node leads now. The state
 * machine applies a command at most once by (origin, nonce, id) (kv_dedup), so
 * whichever copies reach the log, it takes effect once and the first copy
 * applied answers it; a copy skipped as too old answers 504, as before.
 */
void rt_reforward(rt *r)
{
	uint32_t leader = raft_leader(r->raft);
	if (leader == r->last_leader)
		return;
	r->last_leader = leader;
	if (leader == RAFT_NONE)
		return;
	bool sent = false;
	for (pending *p = pending_oldest(&r->pending); p != NULL; p = p->next) {
		if (p->cmd == NULL || p->fwd_to == leader)
			continue;
		uint64_t index = 0;
		if (raft_propose(r->raft, p->cmd, p->cmd_len, &index) != RAFT_OK)
			continue; /* it waits for its deadline, as it did before */
		r->st.reforwarded++;
		sent = true;
		p->fwd_to = leader;
		if (index != 0) { /* in this node's own log now */
			free(p->cmd);
			p->cmd = NULL;
		}
	}
	if (sent)
		r->io.kick(r->io.ud);
}

void rt_read(rt *r, const char *key, size_t klen, void *ctx, uint64_t stamp)
{
	if (r->stopping || r->failed) {
		refuse(r, ctx, stamp, RT_KIND_READ, key, klen, RT_WHY_STOPPING);
		return;
	}
	if (removed_for_good(r)) {
		refuse(r, ctx, stamp, RT_KIND_READ, key, klen, RT_WHY_REMOVED);
		return;
	}
	uint64_t id = PENDING_READ_BIT | ++r->next_read_id;
	pending *p = pending_add(&r->pending, id, ctx, stamp, RT_KIND_READ, key, klen, deadline(r));
	if (p == NULL) {
		refuse(r, ctx, stamp, RT_KIND_READ, key, klen, RT_WHY_NOMEM);
		return;
	}
	if (reads_add(r, p) != 0)
		rt_end(r, p, RT_NOT_PROPOSED, RT_WHY_NOMEM, 0, NULL, NULL);
}

void rt_expire(rt *r)
{
	if (r->paused)
		return; /* a stopped process answers nothing; after resume it does */
	uint64_t now = r->io.now_ms(r->io.ud);
	pending *p;
	while ((p = pending_oldest(&r->pending)) != NULL && p->deadline_ms <= now)
		rt_end(r, p, RT_NOT_PROPOSED, RT_WHY_TIMEOUT, 0, NULL, NULL);
	reads_gc(r, now);
}

int rt_propose_conf(rt *r, const raft_conf_change *cc, uint64_t *index)
{
	if (index != NULL)
		*index = 0;
	if (r->stopping || r->failed || r->paused || r->probing)
		return RAFT_ENOLEADER;
	int rc = raft_propose_conf(r->raft, cc, index);
	r->io.kick(r->io.ud);
	return rc;
}

void rt_incarnation_decided(rt *r)
{
	uint8_t v = inc_probe_verdict(&r->probe);
	uint64_t inc = v == INC_NEW_CLUSTER ? 0
		       : r->o.fresh_incarnation != 0 ? r->o.fresh_incarnation : inc_fresh();
	if (r->io.keep_incarnation(r->io.ud, inc) != 0) {
		rt_fail(r, "cannot store the incarnation in the data dir");
		return;
	}
	if (raft_set_incarnation(r->raft, inc) != RAFT_OK) {
		rt_fail(r, "the core refused the incarnation (it had already spoken)");
		return;
	}
	if (inc != 0) /* a new life: its boot counter restarted */
		r->nonce_from_log = r->o.nonce < RT_NONCE_GENERATION;
	r->probing = false;
}

/* Probing: ask every other --cluster voter for a pre-vote as a node with an
 * empty log at term 0 would (it changes nothing durable anywhere); nodes of
 * a new cluster answer the same way, which is the evidence (rt_incarnation.h). */
static void send_probes(rt *r)
{
	for (size_t i = 0; i < r->probe.n_others; i++) {
		raft_msg m;
		memset(&m, 0, sizeof m);
		m.type = RAFT_MSG_PREVOTE;
		m.from = r->id;
		m.to = r->probe.others[i];
		m.term = 1;
		uint8_t *frame;
		size_t len;
		if (wire_encode(&m, &frame, &len) != 0)
			continue; /* out of memory: the next tick tries again */
		peer_send(r, m.to, frame, len);
	}
}

void rt_tick_once(rt *r)
{
	if (r->probing) {
		/* silent: the core is not ticked before it knows which life
		 * it is (it would campaign, and a core that has spoken cannot
		 * take its incarnation any more) */
		if (inc_probe_verdict(&r->probe) != INC_UNDECIDED)
			rt_incarnation_decided(r);
		else
			send_probes(r);
		return;
	}
	raft_tick(r->raft);
	xfer_tick(r);
}

void rt_tick(rt *r)
{
	if (r->paused || r->stopping || r->failed)
		return;
	rt_tick_once(r);
	r->io.kick(r->io.ud);
}

raft *rt_raft(rt *r)
{
	return r->raft;
}

const kv_machine *rt_kv(const rt *r)
{
	return &r->kv;
}

uint64_t rt_applied(const rt *r)
{
	return r->applied;
}

size_t rt_pending_count(const rt *r)
{
	return r->pending.count;
}

const rt_stats *rt_get_stats(const rt *r)
{
	return &r->st;
}

uint64_t rt_nonce(const rt *r)
{
	return r->o.nonce;
}

bool rt_probing(const rt *r)
{
	return r->probing;
}
