/*
 * sim_members.c — membership changes and wiped disks in the simulator.
 *
 * Membership changes go through rt_propose_conf, the runtime's one way in
 * that POST /admin/members uses too: add a node as a learner (with the
 * incarnation its status would show), promote a learner, remove a member
 * (the leader included), replace (remove, then add a node that is not a
 * member). Seeds with membership start one or two spare nodes that are not
 * in the bootstrap configuration (they start as a node started with --join
 * does: a fresh incarnation, waiting to be added through the log).
 *
 * A wipe is a power cut that also loses the data directory; the node comes
 * back empty and decides its incarnation as the node does (probing the
 * others: rt_incarnation.h); the leader replaces its old life by itself.
 * Like a lying disk, a wipe is a lost disk: one at a time, and the next
 * only once the wiped node is a voter again with its promotion committed
 * (a full replica), or no longer in the configuration of a leader whose
 * configuration is committed. Losing a second disk before the first is
 * repaired can lose committed entries with any Raft: outside the fault
 * model.
 *
 * Invariant checked here: configurations change only through the log. After
 * every ready step the configuration a node's core has in force is the one
 * of the last CONF entry in what it handed out to persist (the mirror), or
 * the bootstrap configuration when there is none.
 */
#include "sim_internal.h"

#include "../../node/raft/membership.h"
#include "../../node/runtime/rt_incarnation_file.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------ configurations in the log */

/* Keeps the CONF entries of a persisted run of entries (first replaces
 * everything from ents[0].index on). */
int sim_conf_mirror(sim_node *nd, const raft_entry *ents, size_t n)
{
	if (n == 0)
		return 0;
	uint64_t first = ents[0].index;
	while (nd->n_confs > 0 && nd->confs[nd->n_confs - 1].index >= first)
		nd->n_confs--;
	for (size_t i = 0; i < n; i++) {
		if (ents[i].type != RAFT_ENTRY_CONF)
			continue;
		member_conf c;
		if (membership_decode(ents[i].data, ents[i].len, &c) != RAFT_OK)
			continue; /* the core ignores one that does not decode */
		if (nd->n_confs == nd->cap_confs) {
			size_t cap = nd->cap_confs ? nd->cap_confs * 2 : 8;
			sim_conf *t = realloc(nd->confs, cap * sizeof *t);
			if (t == NULL)
				return -1;
			nd->confs = t;
			nd->cap_confs = cap;
		}
		sim_conf *sc = &nd->confs[nd->n_confs++];
		memset(sc, 0, sizeof *sc);
		sc->index = ents[i].index;
		sc->n = c.n;
		for (size_t k = 0; k < c.n; k++) {
			sc->id[k] = c.m[k].id;
			sc->voter[k] = c.m[k].voter;
			sc->inc[k] = c.m[k].incarnation;
		}
	}
	return 0;
}

void sim_check_conf(sim *s, sim_node *nd, const raft_status *st)
{
	sim_conf boot;
	const sim_conf *want = nd->n_confs ? &nd->confs[nd->n_confs - 1] : NULL;
	if (want == NULL) {
		memset(&boot, 0, sizeof boot);
		boot.n = (size_t)s->n_boot;
		for (int i = 0; i < s->n_boot; i++)
			boot.id[i] = s->voters[i], boot.voter[i] = true;
		want = &boot;
	}
	raft *r = rt_raft(nd->rt);
	uint32_t id;
	bool voter;
	uint64_t inc;
	size_t n = 0;
	const char *why = NULL;
	for (; raft_member(r, n, &id, &voter, &inc, NULL); n++) {
		size_t k = 0;
		while (k < want->n && want->id[k] != id)
			k++;
		if (k == want->n) {
			why = "lists a member the log does not";
			break;
		}
		if (want->voter[k] != voter || want->inc[k] != inc) {
			why = "has a member as voter/learner or incarnation other than the log says";
			break;
		}
	}
	if (why == NULL && n != want->n)
		why = "lacks a member the log lists";
	/* after a restart from a snapshot, the configuration of the snapshot
	 * point is the core's base (index 0) */
	uint64_t want_index = nd->n_confs && want->index > nd->boot_snap_index ? want->index : 0;
	/* ... and one compacted away became the base (index 0) too */
	if (want_index != 0 && want_index < st->first_index)
		want_index = 0;
	if (why == NULL && st->conf_index != want_index)
		why = "names another CONF entry as the one in force";
	if (why != NULL)
		sim_fail(s, "configuration changed outside the log: node %u's configuration in force %s "
			    "(its last CONF entry is at index %llu, the core says %llu)",
			 nd->id, why, (unsigned long long)(nd->n_confs ? want->index : 0),
			 (unsigned long long)st->conf_index);
}

static bool lists_voter(const sim_conf *c, uint32_t id, uint64_t inc)
{
	for (size_t k = 0; k < c->n; k++)
		if (c->id[k] == id)
			return c->voter[k] && c->inc[k] == inc;
	return false;
}

bool sim_may_lead(sim *s, const sim_node *nd, const raft_status *st)
{
	if (st->membership == RAFT_MEMBER_VOTER)
		return true;
	if (!st->conf_pending || nd->n_confs == 0)
		return false;
	sim_conf boot;
	const sim_conf *prev = nd->n_confs >= 2 ? &nd->confs[nd->n_confs - 2] : NULL;
	if (prev == NULL) {
		memset(&boot, 0, sizeof boot);
		boot.n = (size_t)s->n_boot;
		for (int i = 0; i < s->n_boot; i++)
			boot.id[i] = s->voters[i], boot.voter[i] = true;
		prev = &boot;
	}
	return lists_voter(prev, nd->id, nd->incarnation);
}

/* ------------------------------------------------------------------ wipes */

/* Whether the new life lists itself as a voter in a CONF entry it has
 * made durable (the promotion it must survive a crash with: otherwise it
 * restarts with a log that names its old life, votes for nobody, and a
 * second lost disk would leave too few voters). */
static bool durable_voter(const sim_node *nd)
{
	if (nd->n_confs == 0 || rt_write_in_flight(nd->rt) || wal_unsynced_bytes(nd->w) > 0)
		return false;
	const sim_conf *c = &nd->confs[nd->n_confs - 1];
	for (size_t k = 0; k < c->n; k++)
		if (c->id[k] == nd->id)
			return c->voter[k] && c->inc[k] == nd->incarnation;
	return false;
}

/* Whether the wiped node holds a full copy again (a voter of its own
 * configuration, durably, that promotion committed), or is out of a
 * committed configuration of some leader: then another disk may be lost. */
void sim_check_wiped(sim *s, sim_node *nd, const raft_status *st)
{
	if (!nd->wiped)
		return;
	bool repaired = !rt_probing(nd->rt) && st->membership == RAFT_MEMBER_VOTER &&
			st->commit >= st->conf_index && durable_voter(nd);
	for (int i = 0; !repaired && i < s->n; i++) {
		sim_node *l = &s->nodes[i];
		if (!l->up || l->role != RAFT_LEADER)
			continue;
		raft_status ls;
		raft_get_status(rt_raft(l->rt), &ls);
		if (ls.role != RAFT_LEADER || ls.commit < ls.conf_index)
			continue;
		bool listed = false;
		uint32_t id;
		for (size_t k = 0; raft_member(rt_raft(l->rt), k, &id, NULL, NULL, NULL); k++)
			listed |= id == nd->id;
		repaired = !listed;
	}
	if (!repaired)
		return;
	nd->wiped = false;
	s->lying = -1;
	sim_trace(s, "node %u: the wipe is repaired (a voter again, or out of the configuration)", nd->id);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) != 0 ? -1 : 0;
}

/* The data dir of a node that is down is lost; it comes back empty. */
void sim_node_wipe(sim *s, sim_node *nd)
{
	char members[600];
	snprintf(members, sizeof members, "%s.members", nd->dir);
	(void)remove(members);
	const char *dirs[] = { nd->dir, nd->snapdir, nd->stagedir };
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if (access(dirs[i], F_OK) != 0)
			continue;
		if (nftw(dirs[i], remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0) {
			sim_fail(s, "node %u: could not wipe %s", nd->id, dirs[i]);
			return;
		}
	}
	nd->log_len = 0;
	nd->n_confs = 0;
	nd->damaged_index = 0; /* its snapshot files are gone too */
	nd->snap_only_one = false;
	nd->only_one_index = 0;
	nd->snap_writing = false;
	nd->wiped = true;
	s->lying = (int)nd->id;
	sim_trace(s, "node %u: WIPED (its data dir is gone; incarnation was %llu)", nd->id,
		  (unsigned long long)nd->incarnation);
}

/* ------------------------------------------------------ membership changes */

static sim_node *leader_now(sim *s);

/* Whether v's own log (its last CONF entry, or the bootstrap configuration)
 * lists its id with another incarnation: then it votes for nobody. */
static bool names_other_life(const sim *s, const sim_node *v)
{
	if (v->n_confs == 0)
		return v->incarnation != 0 && (int)v->id < s->n_boot;
	const sim_conf *c = &v->confs[v->n_confs - 1];
	for (size_t j = 0; j < c->n; j++)
		if (c->id[j] == v->id)
			return c->inc[j] != v->incarnation;
	return false;
}

/* A disk may be lost now: no other is (s->lying), and a leader's committed
 * configuration has at least three voters, so the others can still elect
 * a leader and replace the lost one (with two voters, losing one disk
 * stops any Raft for good). */
bool sim_wipe_allowed(sim *s)
{
	if (s->lying >= 0 || !s->faults_on)
		return false;
	sim_node *l = leader_now(s);
	if (l == NULL)
		return false;
	raft_status st;
	raft_get_status(rt_raft(l->rt), &st);
	if (st.conf_pending)
		return false;
	size_t nv = 0;
	bool voter;
	uint32_t id;
	uint64_t inc;
	for (size_t k = 0; raft_member(rt_raft(l->rt), k, &id, &voter, &inc, NULL); k++) {
		if (!voter)
			continue;
		nv++;
		/* every voter must be able to vote after a crash: up, nothing
		 * unsynced, and its own log not naming another life of it */
		sim_node *v = id < (uint32_t)s->n ? &s->nodes[id] : NULL;
		if (v == NULL || !v->up || rt_probing(v->rt) || v->incarnation != inc ||
		    rt_write_in_flight(v->rt) || wal_unsynced_bytes(v->w) > 0)
			return false;
		if (names_other_life(s, v))
			return false;
	}
	return nv >= 3;
}

/* Whether every voter of l's configuration is the life it lists (a voter
 * lost already, a new life not yet replaced in, makes a removal of another
 * voter a loss of quorum). */
static bool voters_all_alive(sim *s, sim_node *l)
{
	uint32_t id;
	bool voter;
	uint64_t inc;
	for (size_t k = 0; raft_member(rt_raft(l->rt), k, &id, &voter, &inc, NULL); k++) {
		sim_node *v = id < (uint32_t)s->n ? &s->nodes[id] : NULL;
		if (voter && (v == NULL || v->incarnation != inc || (v->up && rt_probing(v->rt)) || names_other_life(s, v)))
			return false;
	}
	return true;
}

static sim_node *leader_now(sim *s)
{
	sim_node *best = NULL;
	uint64_t best_term = 0;
	for (int i = 0; i < s->n; i++) {
		sim_node *nd = &s->nodes[i];
		if (!nd->up || nd->paused || nd->role != RAFT_LEADER)
			continue;
		raft_status st;
		raft_get_status(rt_raft(nd->rt), &st);
		if (st.role == RAFT_LEADER && st.term >= best_term)
			best = nd, best_term = st.term;
	}
	return best;
}

static const char *op_name(uint8_t op)
{
	return op == RAFT_CONF_ADD_LEARNER ? "add learner" : op == RAFT_CONF_PROMOTE ? "promote" : "remove";
}

/* One change at the current leader, as an operator would ask for it.
 * want_add: the second half of a replacement (add a node that is not a
 * member). Returns true when a change was proposed. */
bool sim_member_change(sim *s, bool want_add)
{
	sim_node *l = leader_now(s);
	if (l == NULL)
		return false;
	raft *r = rt_raft(l->rt);
	uint32_t members[RAFT_MAX_NODES], learners[RAFT_MAX_NODES], voters[RAFT_MAX_NODES], outside[SIM_MAX_NODES];
	size_t nm = 0, nl = 0, nv = 0, no = 0;
	uint32_t id;
	bool voter;
	for (size_t k = 0; raft_member(r, k, &id, &voter, NULL, NULL); k++) {
		members[nm++] = id;
		if (voter)
			voters[nv++] = id;
		else
			learners[nl++] = id;
	}
	for (int i = 0; i < s->n; i++) {
		bool in = false;
		for (size_t k = 0; k < nm; k++)
			in |= members[k] == (uint32_t)i;
		if (!in)
			outside[no++] = (uint32_t)i;
	}
	raft_conf_change cc = { 0 };
	uint64_t roll = sim_below(&s->rng, 100);
	/* never fewer voters than a majority of the bootstrap size, nor, with
	 * wipes, fewer than three (sim_wipe_allowed) */
	size_t min_voters = (size_t)s->n_boot / 2 + 1;
	if ((s->wipes || s->fsync_lies_p > 0) && min_voters < 3)
		min_voters = 3;
	if ((want_add || roll < 35) && no > 0) {
		sim_node *nd = &s->nodes[outside[sim_below(&s->rng, no)]];
		cc.op = RAFT_CONF_ADD_LEARNER;
		cc.id = nd->id;
		cc.incarnation = nd->incarnation; /* what its /admin/status says */
		cc.auto_promote = sim_chance(&s->rng, 0.7);
		cc.addr = "sim";
	} else if (want_add) {
		return false;
	} else if (roll < 55 && nl > 0) {
		cc.op = RAFT_CONF_PROMOTE;
		cc.id = learners[sim_below(&s->rng, nl)];
	} else if (roll < 100 && nm > 0) {
		cc.op = RAFT_CONF_REMOVE;
		cc.id = members[sim_below(&s->rng, nm)];
		bool is_voter = false;
		for (size_t k = 0; k < nv; k++)
			is_voter |= voters[k] == cc.id;
		if (is_voter && (nv <= min_voters || !voters_all_alive(s, l)))
			return false;
	} else {
		return false;
	}
	uint64_t index = 0;
	int rc = rt_propose_conf(l->rt, &cc, &index);
	sim_trace(s, "membership: %s %u (incarnation %llu) at leader %u: %s, index %llu", op_name(cc.op), cc.id,
		  (unsigned long long)cc.incarnation, l->id,
		  rc == RAFT_OK ? "proposed" : rc == RAFT_EPENDING ? "refused: pending" : rc == RAFT_ECONF ? "refused: invalid" : "refused",
		  (unsigned long long)index);
	if (rc == RAFT_OK)
		s->out->conf_changes++;
	/* buggify: the leader goes down before it replicates its change (a
	 * change lost with its leader; a leader that removed itself and lost
	 * leadership before the removal committed) */
	if (rc == RAFT_OK && s->buggify && sim_chance(&s->rng, 0.3))
		sim_push(s, (sim_event){ .at = s->now + sim_below(&s->rng, 3000), .kind = EV_CRASH, .node = l->id,
					 .arg = 7 });
	sim_node_process_ready(s, l);
	return rc == RAFT_OK && cc.op == RAFT_CONF_REMOVE;
}

/* Trace: every node's view (after a liveness failure). */
void sim_trace_nodes(sim *s)
{
	for (int i = 0; s->p.trace && i < s->n; i++) {
		sim_node *nd = &s->nodes[i];
		if (!nd->up) {
			sim_trace(s, "node %d: down", i);
			continue;
		}
		raft_status st;
		raft_get_status(rt_raft(nd->rt), &st);
		char conf[256] = "";
		size_t k = 0;
		uint32_t id;
		bool voter;
		uint64_t inc;
		for (size_t j = 0; raft_member(rt_raft(nd->rt), j, &id, &voter, &inc, NULL) && k < sizeof conf; j++)
			k += (size_t)snprintf(conf + k, sizeof conf - k, " %u%s/%llu", id, voter ? "" : "(learner)",
					      (unsigned long long)(inc % 1000));
		sim_trace(s, "node %d: %s term %llu vote %d commit %llu last %llu/%llu, incarnation %llu, self %s, conf_index %llu:%s",
			  i, raft_role_name(st.role), (unsigned long long)st.term, (int)st.vote,
			  (unsigned long long)st.commit, (unsigned long long)st.last_index,
			  (unsigned long long)st.last_term, (unsigned long long)(nd->incarnation % 1000),
			  st.membership == RAFT_MEMBER_VOTER ? "voter" : st.membership == RAFT_MEMBER_LEARNER ? "learner" : "none",
			  (unsigned long long)st.conf_index, conf);
	}
}

/* The incarnation file, as the node keeps it (DIR/INCARNATION). */
int sim_keep_incarnation(sim_node *nd, uint64_t inc)
{
	char err[512];
	if (inc_file_store(nd->dir, inc, err, sizeof err) != 0) {
		sim_fail(nd->s, "node %u: %s", nd->id, err);
		return -1;
	}
	nd->incarnation = inc;
	sim_trace(nd->s, "node %u: incarnation %llu (%s)", nd->id, (unsigned long long)inc,
		  inc == 0 ? "a new cluster" : "a new life in a cluster that exists");
	return 0;
}
