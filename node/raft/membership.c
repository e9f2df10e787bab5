/*
 * membership.c — single-server membership changes, learners, and the
 * incarnation rule that keeps a node which lost its disk from voting
 * (README.md, "Membership", has the reasoning; this is the mechanism).
 *
 * The configuration is the last CONF entry in the log, whether committed or
 * not (Ongaro's thesis §4.1: a server uses the latest configuration in its
 * log), else the base configuration (the bootstrap voters, or the one of the
 * snapshot point). It is re-derived when the log changes: new entries are
 * scanned once; a truncation that removes the entry in force rescans
 * backwards. Each CONF entry holds the whole configuration after the change,
 * so nothing has to be replayed from the start.
 *
 * Voting rights belong to (id, incarnation): a node is a voter only if the
 * configuration lists its id as a voter with its own incarnation. A node
 * that restarted with an empty disk has a new incarnation, so it neither
 * votes nor campaigns, and the leader, hearing a member speak with an
 * incarnation the configuration does not list, replaces the old one:
 * REMOVE (next_incarnation = the new one), ADD_LEARNER, PROMOTE once caught
 * up; each step is a separate single-server change, driven from the log so
 * that a new leader carries on where the old one stopped.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* ---------------------------------------------------------------- codec */

enum { CONF_VERSION = 1, FLAG_VOTER = 1, FLAG_AUTO_PROMOTE = 2 };

typedef struct wbuf {
	uint8_t *p;
	size_t n;
} wbuf;

static void put_u8(wbuf *w, uint8_t v) { w->p[w->n++] = v; }
static void put_u32(wbuf *w, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		put_u8(w, (uint8_t)(v >> (8 * i)));
}
static void put_u64(wbuf *w, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		put_u8(w, (uint8_t)(v >> (8 * i)));
}
static void put_str(wbuf *w, const char *s)
{
	size_t n = strlen(s);
	put_u8(w, (uint8_t)n);
	memcpy(w->p + w->n, s, n);
	w->n += n;
}

int membership_encode(const member_conf *c, uint8_t **out, uint32_t *len)
{
	size_t cap = 1 + 1 + 4 + 8 + 1 + RAFT_ADDR_MAX + 1 +
		     c->n * (4 + 1 + 8 + 1 + RAFT_ADDR_MAX);
	wbuf w = {.p = malloc(cap), .n = 0};
	if (w.p == NULL)
		return RAFT_ENOMEM;
	put_u8(&w, CONF_VERSION);
	put_u8(&w, c->op);
	put_u32(&w, c->subject);
	put_u64(&w, c->next_incarnation);
	put_str(&w, c->subject_addr);
	put_u8(&w, (uint8_t)c->n);
	for (size_t i = 0; i < c->n; i++) {
		const member *m = &c->m[i];
		put_u32(&w, m->id);
		put_u8(&w, (uint8_t)((m->voter ? FLAG_VOTER : 0) |
				     (m->auto_promote ? FLAG_AUTO_PROMOTE : 0)));
		put_u64(&w, m->incarnation);
		put_str(&w, m->addr);
	}
	*out = w.p;
	*len = (uint32_t)w.n;
	return RAFT_OK;
}

typedef struct rbuf {
	const uint8_t *p;
	size_t n, off;
} rbuf;

static bool get_u8(rbuf *r, uint8_t *v)
{
	if (r->off + 1 > r->n)
		return false;
	*v = r->p[r->off++];
	return true;
}
static bool get_u32(rbuf *r, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		uint8_t b;
		if (!get_u8(r, &b))
			return false;
		*v |= (uint32_t)b << (8 * i);
	}
	return true;
}
static bool get_u64(rbuf *r, uint64_t *v)
{
	*v = 0;
	for (int i = 0; i < 8; i++) {
		uint8_t b;
		if (!get_u8(r, &b))
			return false;
		*v |= (uint64_t)b << (8 * i);
	}
	return true;
}
static bool get_str(rbuf *r, char out[RAFT_ADDR_MAX + 1])
{
	uint8_t n;
	if (!get_u8(r, &n) || n > RAFT_ADDR_MAX || r->off + n > r->n)
		return false;
	memcpy(out, r->p + r->off, n);
	out[n] = '\0';
	if (memchr(out, '\0', n) != NULL)
		return false;
	r->off += n;
	return true;
}

const member *membership_find(const member_conf *c, uint32_t id)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->m[i].id == id)
			return &c->m[i];
	return NULL;
}

static size_t n_voters(const member_conf *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++)
		n += c->m[i].voter;
	return n;
}

int membership_decode(const uint8_t *data, size_t len, member_conf *c)
{
	memset(c, 0, sizeof(*c));
	rbuf r = {.p = data, .n = len};
	uint8_t ver, n;
	if (data == NULL || !get_u8(&r, &ver) || ver != CONF_VERSION || !get_u8(&r, &c->op) ||
	    !get_u32(&r, &c->subject) || !get_u64(&r, &c->next_incarnation) ||
	    !get_str(&r, c->subject_addr) || !get_u8(&r, &n) || n > RAFT_MAX_NODES)
		return RAFT_EINVAL;
	if (c->op < RAFT_CONF_ADD_LEARNER || c->op > RAFT_CONF_REMOVE)
		return RAFT_EINVAL;
	for (size_t i = 0; i < n; i++) {
		member *m = &c->m[i];
		uint8_t flags;
		if (!get_u32(&r, &m->id) || !get_u8(&r, &flags) || !get_u64(&r, &m->incarnation) ||
		    !get_str(&r, m->addr) || m->id == RAFT_NONE || membership_find(c, m->id) != NULL)
			return RAFT_EINVAL;
		m->voter = (flags & FLAG_VOTER) != 0;
		m->auto_promote = (flags & FLAG_AUTO_PROMOTE) != 0;
		c->n = i + 1;
	}
	if (r.off != len || n_voters(c) == 0)
		return RAFT_EINVAL;
	return RAFT_OK;
}

/* ------------------------------------------------------ configuration */

static int install(raft *r, const member_conf *c, uint64_t index)
{
	uint32_t voters[RAFT_MAX_NODES], learners[RAFT_MAX_NODES];
	size_t nv = 0, nl = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (c->m[i].voter)
			voters[nv++] = c->m[i].id;
		else
			learners[nl++] = c->m[i].id;
	}
	/* A member being removed stays, as a learner, in the tracker until the
	 * removal commits: the leader sends it the entry that removes it, so it
	 * learns it is out and stops campaigning (and says so in its status). */
	bool linger = c->op == RAFT_CONF_REMOVE && index > r->commit && c->subject != RAFT_NONE &&
		      nl < RAFT_MAX_NODES && membership_find(c, c->subject) == NULL && nv + nl < RAFT_MAX_NODES;
	if (linger)
		learners[nl++] = c->subject;
	quorum_config qc;
	if (nv == 0) {
		memset(&qc, 0, sizeof(qc)); /* a joining node that knows nobody yet */
	} else if (quorum_config_init(&qc, voters, nv, NULL, 0, learners, nl) != RAFT_OK) {
		return RAFT_EINVAL;
	}
	int rc = tracker_set_config(&r->trk, &qc, log_last_index(&r->log) + 1);
	if (rc != RAFT_OK)
		return rc;
	if (c != &r->conf)
		r->conf = *c;
	r->conf_index = index;
	r->conf_linger = linger;
	r->conf_gen++;
	return RAFT_OK;
}

int membership_init(raft *r)
{
	member_conf c;
	memset(&c, 0, sizeof(c));
	for (size_t i = 0; i < r->cfg.n_voters; i++) {
		c.m[i].id = r->cfg.voters[i];
		c.m[i].voter = true;
	}
	c.n = r->cfg.n_voters;
	r->base_conf = c;
	r->stranger = RAFT_NONE;
	return install(r, &c, 0);
}

int raft_set_snapshot_conf(raft *r, const void *data, size_t len)
{
	member_conf c;
	if (r->in_ready || membership_decode(data, len, &c) != RAFT_OK)
		return RAFT_EINVAL;
	/* The base under whatever CONF entries the log still holds: the one
	 * in force is found again (the newest CONF entry after the snapshot
	 * point, else this one), so a log compacted past its CONF entries and
	 * then truncated falls back to the right configuration. */
	member_conf old = r->base_conf;
	uint64_t drops = r->enomem_drops;
	r->base_conf = c;
	r->conf_rescan = true;
	membership_sync(r);
	if (r->enomem_drops != drops) {
		r->base_conf = old; /* the configuration could not be installed */
		r->conf_rescan = true;
		return RAFT_ENOMEM;
	}
	return RAFT_OK;
}

/* The entry at i, decoded, if it is a valid CONF entry. A CONF entry that
 * does not decode is ignored (the leader never writes one). */
static bool conf_at(const raft *r, uint64_t i, member_conf *c)
{
	const raft_entry *e = log_get(&r->log, i);
	return e != NULL && e->type == RAFT_ENTRY_CONF &&
	       membership_decode(e->data, e->len, c) == RAFT_OK;
}

void membership_on_truncate(raft *r, uint64_t index)
{
	if (r->conf_scanned >= index)
		r->conf_scanned = index - 1;
	if (r->conf_index >= index && !PLANTED_BUG(r, 25))
		r->conf_rescan = true;
}

void membership_sync(raft *r)
{
	member_conf *c = &r->conf_scratch; /* large: kept off the stack */
	uint64_t last = log_last_index(&r->log);
	if (r->conf_rescan) {
		r->conf_rescan = false;
		uint64_t i = r->conf_scanned;
		for (; i > r->log.snap_index; i--)
			if (conf_at(r, i, c))
				break;
		if (i > r->log.snap_index) {
			if (install(r, c, i) != RAFT_OK)
				r->enomem_drops++;
		} else if (install(r, &r->base_conf, 0) != RAFT_OK) {
			r->enomem_drops++;
		}
	}
	for (uint64_t i = r->conf_scanned + 1; i <= last; i++) {
		if (conf_at(r, i, c) && install(r, c, i) != RAFT_OK) {
			/* Out of memory for a new member's progress: retry later. */
			r->enomem_drops++;
			return;
		}
		r->conf_scanned = i;
	}
}

void membership_reload(raft *r)
{
	r->conf_scanned = r->log.snap_index;
	r->conf_rescan = false;
	if (install(r, &r->base_conf, 0) != RAFT_OK)
		r->enomem_drops++;
	membership_sync(r);
}

static const member *self_member(const raft *r)
{
	const member *m = membership_find(&r->conf, r->cfg.id);
	return m != NULL && m->incarnation == r->cfg.incarnation ? m : NULL;
}

bool membership_self_voter(const raft *r)
{
	const member *m = PLANTED_BUG(r, 20) ? membership_find(&r->conf, r->cfg.id) : self_member(r);
	return m != NULL && m->voter;
}

/* Whether this node may campaign: a voter of its configuration, or (thesis
 * §4.1) a voter of the configuration before it while that last change, the
 * one that took it out, is not committed: it may still be needed until the
 * change commits. Found by the simulator: a leader appended REMOVE(itself)
 * and lost leadership before replicating it; holding the longest log it
 * refused its vote to the others, and, no longer a voter in its own log,
 * never campaigned: no leader ever again. It campaigns now, wins with the
 * votes of its new configuration (not counting itself), commits the
 * removal and steps down (rule 6). Planted bug 22 is the old rule. */
bool membership_may_campaign(raft *r)
{
	if (membership_self_voter(r))
		return true;
	if (PLANTED_BUG(r, 22) || !membership_pending(r) || r->conf_index == 0)
		return false;
	member_conf *c = &r->conf_scratch;
	const member_conf *prev = &r->base_conf;
	for (uint64_t i = r->conf_index - 1; i > r->log.snap_index; i--)
		if (conf_at(r, i, c)) {
			prev = c;
			break;
		}
	const member *m = membership_find(prev, r->cfg.id);
	return m != NULL && m->voter && m->incarnation == r->cfg.incarnation;
}

/* Whether this node may grant votes: unless its configuration lists its id
 * with another incarnation (then it is a wiped node's new life, and the vote
 * would be read as the old member's). A learner may vote: it may have been
 * promoted by an entry it has not received yet, and the candidate counts its
 * vote only if the candidate's configuration makes it a voter; its disk is
 * intact, so its votes are durable (see README.md, "Membership"). A node the
 * configuration does not list at all (joining, or removed) likewise. The
 * candidate side is the other half: a vote counts only from the
 * incarnation the candidate's configuration lists (membership_accept_msg). */
bool membership_may_vote_for(const raft *r, uint32_t candidate)
{
	const member *self = membership_find(&r->conf, r->cfg.id);
	if (self != NULL && self->incarnation != r->cfg.incarnation && !PLANTED_BUG(r, 20))
		return false;
	/* Thesis §4.1: a vote does not consult the voter's configuration (it
	 * may be the stale one); the candidate counts it only if its own
	 * configuration makes this node a voter. Planted bug 26 is the old
	 * rule (only for a voter of this node's configuration). */
	if (!PLANTED_BUG(r, 26))
		return true;
	const member *m = membership_find(&r->conf, candidate);
	return m != NULL && m->voter;
}

bool membership_pending(const raft *r)
{
	return r->conf_index > r->commit;
}

/* ------------------------------------------------------------ messages */

/* Answers that this node counts for the member that sent them: a vote, an
 * acknowledged entry, a confirmed heartbeat round. */
static bool counted_answer(uint8_t type)
{
	return type == RAFT_MSG_PREVOTE_RESP || type == RAFT_MSG_VOTE_RESP ||
	       type == RAFT_MSG_APPEND_RESP || type == RAFT_MSG_HEARTBEAT_RESP;
}

bool membership_accept_msg(raft *r, const raft_msg *m)
{
	const member *mem = membership_find(&r->conf, m->from);
	if (mem == NULL || mem->incarnation == m->incarnation || PLANTED_BUG(r, 20))
		return true;
	/* Only what would be counted for the member is refused: a leader's
	 * appends, a vote request or a proposal from the new incarnation are
	 * taken as from any node (this node's configuration may just be
	 * behind: refusing the appends of a leader that is the new
	 * incarnation would keep it behind for good). */
	if (!counted_answer(m->type))
		return true;
	/* Another life of a member: it lost what the member promised (votes,
	 * acknowledged entries), so nothing it says counts for the member. */
	if (r->role == RAFT_LEADER) {
		r->stranger = m->from;
		r->stranger_incarnation = m->incarnation;
	}
	return false;
}

/* ------------------------------------------------------------ proposing */

static int check_change(const raft *r, const raft_conf_change *cc, member_conf *next)
{
	*next = r->conf;
	next->op = cc->op;
	next->subject = cc->id;
	next->next_incarnation = 0;
	next->subject_addr[0] = '\0';
	if (cc->id == RAFT_NONE)
		return RAFT_ECONF;
	member *m = NULL;
	for (size_t i = 0; i < next->n; i++)
		if (next->m[i].id == cc->id)
			m = &next->m[i];
	switch (cc->op) {
	case RAFT_CONF_ADD_LEARNER: {
		if (m != NULL)
			return RAFT_ECONF; /* already a member */
		if (next->n == RAFT_MAX_NODES)
			return RAFT_ECONF;
		const char *addr = cc->addr != NULL ? cc->addr : "";
		if (strlen(addr) > RAFT_ADDR_MAX)
			return RAFT_EINVAL;
		member *nm = &next->m[next->n++];
		memset(nm, 0, sizeof(*nm));
		nm->id = cc->id;
		nm->auto_promote = cc->auto_promote;
		nm->incarnation = cc->incarnation;
		strcpy(nm->addr, addr);
		strcpy(next->subject_addr, addr);
		return RAFT_OK;
	}
	case RAFT_CONF_PROMOTE:
		if (m == NULL || m->voter)
			return RAFT_ECONF; /* not a learner */
		m->voter = true;
		m->auto_promote = false;
		strcpy(next->subject_addr, m->addr);
		return RAFT_OK;
	case RAFT_CONF_REMOVE:
		if (m == NULL)
			return RAFT_ECONF;
		if (m->voter && n_voters(next) == 1)
			return RAFT_ECONF; /* the last voter */
		strcpy(next->subject_addr, m->addr);
		next->next_incarnation = cc->next_incarnation;
		*m = next->m[--next->n];
		return RAFT_OK;
	default:
		return RAFT_EINVAL;
	}
}

int raft_propose_conf(raft *r, const raft_conf_change *cc, uint64_t *index_out)
{
	member_conf *next = &r->conf_next;
	if (index_out != NULL)
		*index_out = 0;
	if (r->in_ready || cc == NULL)
		return RAFT_EINVAL;
	if (r->role != RAFT_LEADER)
		return RAFT_ENOLEADER;
	/* One change at a time, and not before an entry of this term is
	 * committed: the fix to single-server changes (raft-dev, 2015), so a
	 * change never builds on an uncommitted one of an earlier term. */
	if (membership_pending(r) || (!raft_committed_in_term(r) && !PLANTED_BUG(r, 24)) ||
	    r->transfer_to != RAFT_NONE)
		return RAFT_EPENDING;
	int rc = check_change(r, cc, next);
	if (rc != RAFT_OK)
		return rc;
	uint8_t *data;
	uint32_t len;
	rc = membership_encode(next, &data, &len);
	if (rc != RAFT_OK)
		return rc;
	rc = proposal_append(r, RAFT_ENTRY_CONF, data, len);
	free(data);
	if (rc != RAFT_OK)
		return rc;
	uint64_t index = log_last_index(&r->log);
	membership_sync(r); /* in force from now on, on the leader too */
	if (r->conf_index != index) {
		/* could not install (out of memory): take the entry back */
		log_truncate_from(&r->log, index);
		repl_on_truncate(r, index);
		membership_sync(r);
		return RAFT_ENOMEM;
	}
	if (index_out != NULL)
		*index_out = index;
	return RAFT_OK;
}

/* ------------------------------------------------------- leader duties */

bool membership_leader_removed(const raft *r)
{
	return r->role == RAFT_LEADER && !membership_pending(r) && !membership_self_voter(r);
}

/* Called on the leader's ticks: the steps of a replacement and the
 * promotion of caught-up learners, each one change at a time. */
void membership_leader_tick(raft *r)
{
	if (r->conf_linger && !membership_pending(r) && install(r, &r->conf, r->conf_index) != RAFT_OK)
		r->enomem_drops++; /* the removal is committed: forget the removed member */
	if (membership_pending(r) || (!raft_committed_in_term(r) && !PLANTED_BUG(r, 24)) ||
	    r->transfer_to != RAFT_NONE)
		return;
	raft_conf_change cc = {0};
	if (r->stranger != RAFT_NONE) {
		const member *m = membership_find(&r->conf, r->stranger);
		uint64_t inc = r->stranger_incarnation;
		r->stranger = RAFT_NONE;
		if (m != NULL && m->incarnation != inc && m->id != r->cfg.id) {
			cc.op = RAFT_CONF_REMOVE;
			cc.id = m->id;
			cc.next_incarnation = inc;
			(void)raft_propose_conf(r, &cc, NULL);
			return;
		}
	}
	if (r->conf.op == RAFT_CONF_REMOVE && r->conf.next_incarnation != 0 &&
	    membership_find(&r->conf, r->conf.subject) == NULL) {
		cc.op = RAFT_CONF_ADD_LEARNER;
		cc.id = r->conf.subject;
		cc.incarnation = r->conf.next_incarnation;
		cc.auto_promote = true;
		cc.addr = r->conf.subject_addr;
		(void)raft_propose_conf(r, &cc, NULL);
		return;
	}
	uint64_t last = log_last_index(&r->log);
	for (size_t i = 0; i < r->conf.n; i++) {
		const member *m = &r->conf.m[i];
		if (m->voter || !m->auto_promote)
			continue;
		const progress *p = tracker_progress(&r->trk, m->id);
		/* Caught up, and holding (durably: match) the entry that lists
		 * it with its incarnation: promoted before that, a new life
		 * that crashes comes back with a log naming its old life, votes
		 * for nobody, and is a voter lost (the simulator, seed 9580). */
		if (p == NULL || p->match == 0 ||
		    (p->match < r->conf_index && !PLANTED_BUG(r, 27)) ||
		    p->match + r->cfg.promote_distance < last)
			continue;
		cc.op = RAFT_CONF_PROMOTE;
		cc.id = m->id;
		(void)raft_propose_conf(r, &cc, NULL);
		return;
	}
}

/* ------------------------------------------------------------ status */

uint8_t membership_self_state(const raft *r)
{
	const member *m = self_member(r);
	if (m == NULL)
		return RAFT_MEMBER_NONE;
	return m->voter ? RAFT_MEMBER_VOTER : RAFT_MEMBER_LEARNER;
}

bool raft_removed(const raft *r)
{
	return self_member(r) == NULL && r->conf.op == RAFT_CONF_REMOVE && r->conf.subject == r->cfg.id &&
	       (r->conf.next_incarnation == 0 || r->conf.next_incarnation != r->cfg.incarnation);
}

bool raft_member(const raft *r, size_t i, uint32_t *id, bool *voter, uint64_t *incarnation,
		 const char **addr)
{
	if (i >= r->conf.n)
		return false;
	const member *m = &r->conf.m[i];
	if (id != NULL)
		*id = m->id;
	if (voter != NULL)
		*voter = m->voter;
	if (incarnation != NULL)
		*incarnation = m->incarnation;
	if (addr != NULL)
		*addr = m->addr;
	return true;
}
