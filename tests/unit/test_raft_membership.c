/*
 * test_raft_membership.c — membership changes in the core (single-server
 * changes, learners, incarnations; node/raft/membership.c) on the harness
 * cluster, whose State Machine Safety check runs on every applied entry.
 *
 * Linked against the core built with -DRAFT_PLANTED_BUGS (like
 * test_raft_bugs): with planted_bug 0 it behaves as the production core, and
 * the wipe scenario is also run with planted bug 20 (voting rights that
 * ignore the incarnation: the behaviour before the fix) to prove that the
 * test catches the lost write.
 */
#include <stdio.h>

#include "test_raft_harness.h"

static int g_bug; /* planted bug of the clusters built below */

static raft_status st_of(h_cluster *c, size_t i) { return h_status(c, i); }

static const raft_peer_status *peer_of(const raft_status *st, uint32_t id)
{
	for (size_t k = 0; k < st->n_peers; k++)
		if (st->peers[k].id == id)
			return &st->peers[k];
	return NULL;
}

static int conf(h_cluster *c, size_t i, uint8_t op, uint32_t id, uint64_t inc, bool auto_promote)
{
	raft_conf_change cc = {.op = op, .id = id, .incarnation = inc, .auto_promote = auto_promote,
			       .addr = "127.0.0.1:1"};
	uint64_t idx;
	return raft_propose_conf(c->nodes[i].r, &cc, &idx);
}

/* Ticks until a leader has committed an entry of its term; its slot. */
/* Ticks until the leader's change is committed everywhere it can go. */
static void settle_ticks(h_cluster *c, int n)
{
	h_settle(c);
	h_tick(c, n);
}

static bool log_holds(const h_node *nd, uint64_t index, uint64_t term)
{
	for (size_t k = 0; k < nd->n_disk; k++)
		if (nd->disk[k].index == index)
			return nd->disk[k].term == term;
	return false;
}

/* ---------------------------------------------------- learners, promote */

/* Nodes 1..3 are voters; node 4 starts empty, joining, incarnation 44. */
static void joiner(raft_config *cfg, size_t i)
{
	cfg->n_voters = 3;
	if (i == 3) {
		cfg->joining = true;
		cfg->incarnation = 44;
	}
}

static void test_add_learner_then_promote(void **state)
{
	(void)state;
	h_cluster c;
	int l = h_cluster_up_committed(&c, 4, joiner);
	assert_true(l < 3); /* the joining node never campaigns */
	h_propose(&c, (size_t)l, "a");
	settle_ticks(&c, 2);
	assert_int_equal(st_of(&c, 3).last_index, 0); /* not a member: nothing sent to it */

	assert_int_equal(conf(&c, (size_t)l, RAFT_CONF_ADD_LEARNER, 4, 44, false), RAFT_OK);
	/* one change at a time */
	assert_int_equal(conf(&c, (size_t)l, RAFT_CONF_REMOVE, 2, 0, false), RAFT_EPENDING);
	settle_ticks(&c, 4);
	raft_status s4 = st_of(&c, 3);
	raft_status sl = st_of(&c, (size_t)l);
	assert_int_equal(s4.membership, RAFT_MEMBER_LEARNER);
	assert_int_equal(s4.last_index, sl.last_index);
	assert_int_equal(c.nodes[3].applied, sl.commit);
	assert_false(sl.conf_pending);
	const raft_peer_status *p4 = peer_of(&sl, 4);
	assert_non_null(p4);
	assert_false(p4->voter);
	assert_int_equal(p4->incarnation, 44);
	assert_int_equal(p4->match, sl.last_index);

	/* A learner never counts toward commit: with the two other voters cut
	 * off, the learner's acknowledgement commits nothing. */
	for (size_t i = 0; i < 3; i++)
		if ((int)i != l)
			h_isolate(&c, i, true);
	uint64_t commit = sl.commit;
	h_propose(&c, (size_t)l, "b");
	h_settle(&c);
	assert_int_equal(st_of(&c, 3).last_index, commit + 1); /* replicated to the learner */
	assert_int_equal(st_of(&c, (size_t)l).commit, commit);  /* but not committed */
	/* ...nor toward check-quorum: the leader steps down. */
	h_tick(&c, 25);
	assert_int_not_equal(st_of(&c, (size_t)l).role, RAFT_LEADER);
	/* and the learner never campaigns, however long it hears nothing */
	uint64_t t4 = st_of(&c, 3).term;
	h_tick(&c, 100);
	assert_int_equal(st_of(&c, 3).role, RAFT_FOLLOWER);
	assert_int_equal(st_of(&c, 3).term, t4);
	for (size_t i = 0; i < 3; i++)
		h_isolate(&c, i, false);
	l = h_elect_committed(&c);
	settle_ticks(&c, 4);

	/* leader transfer refuses a learner */
	assert_int_equal(raft_transfer(c.nodes[l].r, 4), RAFT_EINVAL);
	assert_int_equal(conf(&c, (size_t)l, RAFT_CONF_PROMOTE, 4, 0, false), RAFT_OK);
	settle_ticks(&c, 4);
	assert_int_equal(st_of(&c, 3).membership, RAFT_MEMBER_VOTER);
	sl = st_of(&c, (size_t)l);
	assert_true(peer_of(&sl, 4)->voter);
	/* four voters: commit needs three; with two voters cut off, nothing commits */
	size_t cut = 0;
	for (size_t i = 0; i < 4 && cut < 2; i++)
		if ((int)i != l) {
			h_isolate(&c, i, true);
			cut++;
		}
	commit = sl.commit;
	h_propose(&c, (size_t)l, "c");
	h_settle(&c);
	assert_int_equal(st_of(&c, (size_t)l).commit, commit);
	for (size_t i = 0; i < 4; i++)
		h_isolate(&c, i, false);
	settle_ticks(&c, 4);
	assert_int_equal(st_of(&c, (size_t)l).commit, commit + 1);
	h_free(&c);
}

static void test_auto_promote_when_caught_up(void **state)
{
	(void)state;
	h_cluster c;
	int l = h_cluster_up_committed(&c, 4, joiner);
	for (int k = 0; k < 20; k++)
		h_propose(&c, (size_t)l, "x");
	settle_ticks(&c, 2);
	assert_int_equal(conf(&c, (size_t)l, RAFT_CONF_ADD_LEARNER, 4, 44, true), RAFT_OK);
	settle_ticks(&c, 6);
	raft_status sl = st_of(&c, (size_t)l);
	assert_true(peer_of(&sl, 4)->voter);
	assert_int_equal(st_of(&c, 3).membership, RAFT_MEMBER_VOTER);
	assert_false(sl.conf_pending);
	h_free(&c);
}

static void test_bad_changes_refused(void **state)
{
	(void)state;
	h_cluster c;
	int l = h_cluster_up_committed(&c, 3, NULL);
	size_t f = (size_t)((l + 1) % 3);
	raft_status before = st_of(&c, (size_t)l);
	assert_int_equal(conf(&c, f, RAFT_CONF_ADD_LEARNER, 9, 0, false), RAFT_ENOLEADER);
	assert_int_equal(conf(&c, (size_t)l, RAFT_CONF_ADD_LEARNER, 2, 0, false), RAFT_ECONF);
	assert_int_equal(conf(&c, (size_t)l, RAFT_CONF_REMOVE, 9, 0, false), RAFT_ECONF);
	assert_int_equal(conf(&c, (size_t)l, RAFT_CONF_PROMOTE, 2, 0, false), RAFT_ECONF);
	assert_int_equal(conf(&c, (size_t)l, 77, 2, 0, false), RAFT_EINVAL);
	char big[RAFT_ADDR_MAX + 2];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	raft_conf_change cc = {.op = RAFT_CONF_ADD_LEARNER, .id = 9, .addr = big};
	assert_int_equal(raft_propose_conf(c.nodes[l].r, &cc, NULL), RAFT_EINVAL);
	raft_status after = st_of(&c, (size_t)l);
	assert_int_equal(after.last_index, before.last_index); /* nothing proposed */
	assert_int_equal(after.n_peers, 3);
	h_free(&c);

	/* the last voter cannot be removed */
	h_init(&c, 1, NULL);
	l = h_elect_committed(&c);
	assert_int_equal(conf(&c, 0, RAFT_CONF_REMOVE, 1, 0, false), RAFT_ECONF);
	h_free(&c);
}

/* A new leader proposes no change before an entry of its own term commits
 * (the single-server change bug, raft-dev 2015). */
static bool g_drop_appends;
static bool drop_appends(h_cluster *c, const raft_msg *m)
{
	(void)c;
	return !g_drop_appends || (m->type != RAFT_MSG_APPEND && m->type != RAFT_MSG_APPEND_RESP);
}

static void set_bug(raft_config *cfg, size_t i);

/* The scenario; returns whether the change proposed before the new leader's
 * own-term commit was refused (with planted_bug 24 it is not). */
static bool own_term_rule_holds(int bug)
{
	g_bug = bug;
	h_cluster c;
	int l = h_cluster_up_committed(&c, 3, set_bug);
	h_crash(&c, (size_t)l, false);
	/* the next leader's no-op cannot reach anyone yet */
	c.filter = drop_appends;
	g_drop_appends = true;
	int nl = -1;
	for (int t = 0; t < 1000 && nl < 0; t++) {
		h_tick(&c, 1);
		nl = h_leader(&c);
	}
	assert_true(nl >= 0);
	raft_status s = st_of(&c, (size_t)nl);
	assert_true(s.commit < s.last_index);
	size_t other = (size_t)(3 - l - nl);
	int rc = conf(&c, (size_t)nl, RAFT_CONF_REMOVE, c.ids[other], 0, false);
	bool held = rc == RAFT_EPENDING && st_of(&c, (size_t)nl).last_index == s.last_index;
	g_drop_appends = false;
	if (held) {
		settle_ticks(&c, 4);
		assert_int_equal(conf(&c, (size_t)nl, RAFT_CONF_REMOVE, c.ids[other], 0, false), RAFT_OK);
	}
	h_free(&c);
	g_bug = 0;
	return held;
}

static void test_no_change_before_own_term_commit(void **state)
{
	(void)state;
	assert_true(own_term_rule_holds(0));
}

/* Planted bug 24 (the rule skipped) is caught by the same scenario. The
 * simulator's random membership changes did not reach the raft-dev 2015
 * schedule within its seed budget, so this test is what finds it. */
static void test_own_term_rule_catches_bug24(void **state)
{
	(void)state;
	assert_false(own_term_rule_holds(24));
}

/* -------------------------------------------------------------- remove */

static void test_remove_follower_stops_it(void **state)
{
	(void)state;
	h_cluster c;
	int l = h_cluster_up_committed(&c, 3, NULL);
	size_t f = (size_t)((l + 1) % 3);
	assert_int_equal(conf(&c, (size_t)l, RAFT_CONF_REMOVE, c.ids[f], 0, false), RAFT_OK);
	settle_ticks(&c, 4);
	raft_status sl = st_of(&c, (size_t)l);
	assert_false(sl.conf_pending);
	assert_int_equal(sl.n_peers, 2);
	/* the removed node got the entry that removes it, and says so */
	assert_int_equal(st_of(&c, f).membership, RAFT_MEMBER_NONE);
	uint64_t term = sl.term;
	h_tick(&c, 200);
	assert_int_equal(st_of(&c, f).role, RAFT_FOLLOWER);
	assert_int_equal(st_of(&c, (size_t)l).role, RAFT_LEADER);
	assert_int_equal(st_of(&c, (size_t)l).term, term);
	h_propose(&c, (size_t)l, "after");
	settle_ticks(&c, 2);
	assert_int_equal(st_of(&c, (size_t)l).commit, st_of(&c, (size_t)l).last_index);
	h_free(&c);
}

static void no_prevote(raft_config *cfg, size_t i)
{
	(void)i;
	cfg->pre_vote = false;
	cfg->check_quorum = false;
}

/* A node removed while cut off never learns it; when it comes back and
 * campaigns with a higher term, the members ignore it: even without pre-vote
 * and check-quorum it deposes nobody. */
static void test_removed_node_does_not_disturb(void **state)
{
	(void)state;
	h_cluster c;
	int l = h_cluster_up_committed(&c, 3, no_prevote);
	size_t f = (size_t)((l + 1) % 3);
	h_isolate(&c, f, true);
	assert_int_equal(conf(&c, (size_t)l, RAFT_CONF_REMOVE, c.ids[f], 0, false), RAFT_OK);
	settle_ticks(&c, 4);
	assert_false(st_of(&c, (size_t)l).conf_pending);
	h_tick(&c, 60); /* the removed node campaigns, alone, in ever higher terms */
	assert_true(st_of(&c, f).term > st_of(&c, (size_t)l).term);
	uint64_t term = st_of(&c, (size_t)l).term;
	h_isolate(&c, f, false);
	h_tick(&c, 100);
	assert_int_equal(st_of(&c, (size_t)l).role, RAFT_LEADER);
	assert_int_equal(st_of(&c, (size_t)l).term, term);
	h_free(&c);
}

static void test_remove_the_leader(void **state)
{
	(void)state;
	h_cluster c;
	int l = h_cluster_up_committed(&c, 3, NULL);
	h_propose(&c, (size_t)l, "before");
	assert_int_equal(conf(&c, (size_t)l, RAFT_CONF_REMOVE, c.ids[l], 0, false), RAFT_OK);
	h_settle(&c);
	/* it still leads until the change is committed, counting only the new voters */
	raft_status sl = st_of(&c, (size_t)l);
	assert_int_equal(sl.commit, sl.last_index);
	h_tick(&c, 1);
	assert_int_not_equal(st_of(&c, (size_t)l).role, RAFT_LEADER);
	assert_int_equal(st_of(&c, (size_t)l).membership, RAFT_MEMBER_NONE);
	int nl = h_elect_committed(&c);
	assert_int_not_equal(nl, l);
	h_tick(&c, 1); /* the removed member lingers in the tracker until a tick after commit */
	assert_int_equal(st_of(&c, (size_t)nl).n_peers, 2);
	h_propose(&c, (size_t)nl, "after");
	settle_ticks(&c, 2);
	assert_int_equal(st_of(&c, (size_t)nl).commit, st_of(&c, (size_t)nl).last_index);
	h_tick(&c, 100);
	assert_int_equal(st_of(&c, (size_t)l).role, RAFT_FOLLOWER);
	h_free(&c);
}

/* The leader appends a change and crashes before anyone else has it: the
 * next leader does not know it, the change is gone, and the old leader's
 * copy is cut from its log when it returns, its configuration back to what
 * the log now says. */
static void test_change_interrupted_by_leader_crash(void **state)
{
	(void)state;
	h_cluster c;
	int l = h_cluster_up_committed(&c, 3, NULL);
	size_t f = (size_t)((l + 1) % 3);
	assert_int_equal(conf(&c, (size_t)l, RAFT_CONF_REMOVE, c.ids[f], 0, false), RAFT_OK);
	h_process(&c, (size_t)l); /* written to its disk */
	h_drop_all(&c);           /* the appends are lost */
	assert_int_equal(st_of(&c, (size_t)l).n_peers, 3); /* the subject lingers until commit */
	assert_int_not_equal(st_of(&c, (size_t)l).conf_index, 0);
	h_crash(&c, (size_t)l, false);
	int nl = h_elect_committed(&c);
	assert_int_equal(st_of(&c, (size_t)nl).conf_index, 0);
	h_propose(&c, (size_t)nl, "y");
	settle_ticks(&c, 2);
	h_restart(&c, (size_t)l);
	raft_status back = st_of(&c, (size_t)l);
	assert_int_not_equal(back.conf_index, 0); /* its log still says so... */
	settle_ticks(&c, 4);
	back = st_of(&c, (size_t)l);
	assert_int_equal(back.conf_index, 0);     /* ...until the leader overwrites it */
	assert_int_equal(back.membership, RAFT_MEMBER_VOTER);
	assert_int_equal(st_of(&c, f).membership, RAFT_MEMBER_VOTER);
	/* and a new change can go through */
	size_t t = (size_t)((nl + 1) % 3);
	assert_int_equal(conf(&c, (size_t)nl, RAFT_CONF_REMOVE, c.ids[t], 0, false), RAFT_OK);
	settle_ticks(&c, 4);
	raft_status sn = st_of(&c, (size_t)nl);
	assert_false(sn.conf_pending);
	assert_int_equal(sn.n_peers, 2);
	h_free(&c);
}

/* The configuration survives a restart: it is read back from the log. */
static void test_configuration_survives_restart(void **state)
{
	(void)state;
	h_cluster c;
	int l = h_cluster_up_committed(&c, 4, joiner);
	assert_int_equal(conf(&c, (size_t)l, RAFT_CONF_ADD_LEARNER, 4, 44, false), RAFT_OK);
	settle_ticks(&c, 4);
	for (size_t i = 0; i < 4; i++) {
		h_crash(&c, i, false);
		h_restart(&c, i);
		raft_status st = st_of(&c, i);
		assert_int_equal(st.n_peers, 4);
		assert_int_equal(st.membership, i == 3 ? RAFT_MEMBER_LEARNER : RAFT_MEMBER_VOTER);
	}
	l = h_elect_committed(&c);
	assert_true(l < 3);
	h_free(&c);
}

/* ------------------------------------------------------------- the wipe */

static void set_bug(raft_config *cfg, size_t i)
{
	(void)i;
	cfg->planted_bug = g_bug;
}

/* Issue 10 item 1: leader L and follower F1 commit W while F2 is cut off;
 * F1's disk is wiped and it returns as a new incarnation; L goes down; F2
 * comes back. F2 must not be elected with F1's vote (W would be lost); once
 * L is back W survives, and the leader replaces F1's old incarnation with
 * the new one (remove, add as learner, promote) by itself.
 * Returns whether a safety violation was seen (soft mode). */
static bool wipe_scenario(int bug)
{
	g_bug = bug;
	h_cluster c;
	h_init(&c, 3, set_bug);
	c.soft = true;
	int l = h_elect_committed(&c);
	size_t f1 = (size_t)((l + 1) % 3), f2 = (size_t)((l + 2) % 3);
	h_isolate(&c, f2, true);
	h_propose(&c, (size_t)l, "W");
	settle_ticks(&c, 2);
	raft_status sl = st_of(&c, (size_t)l);
	uint64_t w_index = sl.last_index, w_term = sl.term;
	assert_int_equal(sl.commit, w_index); /* acknowledged to the client */
	assert_int_equal(c.nodes[f1].applied, w_index);

	/* F1 loses its disk: empty log, term 0, no vote; a new incarnation */
	h_node *n1 = &c.nodes[f1];
	h_crash(&c, f1, false);
	h_disk_free(n1);
	n1->disk = NULL;
	n1->n_disk = n1->cap_disk = 0;
	n1->dirty_from = 0;
	n1->hs = (raft_hard_state){.term = 0, .vote = RAFT_NONE, .commit = 0};
	n1->cfg.incarnation = 0xf1f1;
	h_restart(&c, f1);
	h_persist(&c, f1);
	h_crash(&c, (size_t)l, false);
	h_isolate(&c, f2, false);
	h_tick(&c, 300);
	bool violation = c.violation;
	if (bug != 0) {
		h_free(&c);
		return violation;
	}
	assert_false(violation);
	assert_int_equal(h_leader(&c), -1); /* nobody can be elected without L */
	assert_int_not_equal(st_of(&c, f1).role, RAFT_CANDIDATE);
	assert_int_equal(st_of(&c, f1).membership, RAFT_MEMBER_NONE);

	h_restart(&c, (size_t)l);
	int nl = -1;
	raft_status s;
	for (int t = 0; t < 2000; t++) {
		h_tick(&c, 1);
		nl = h_leader(&c);
		if (nl < 0)
			continue;
		s = st_of(&c, (size_t)nl);
		const raft_peer_status *p = peer_of(&s, c.ids[f1]);
		if (p != NULL && p->voter && p->incarnation == 0xf1f1 && !s.conf_pending)
			break;
	}
	assert_true(nl >= 0);
	s = st_of(&c, (size_t)nl);
	const raft_peer_status *p = peer_of(&s, c.ids[f1]);
	assert_non_null(p);
	assert_true(p->voter);
	assert_int_equal(p->incarnation, 0xf1f1);
	assert_int_equal(st_of(&c, f1).membership, RAFT_MEMBER_VOTER);
	h_propose(&c, (size_t)nl, "after");
	settle_ticks(&c, 4);
	for (size_t i = 0; i < 3; i++) {
		assert_true(log_holds(&c.nodes[i], w_index, w_term)); /* W survives everywhere */
		assert_int_equal(c.nodes[i].applied, st_of(&c, (size_t)nl).commit);
	}
	assert_false(c.violation);
	h_free(&c);
	return violation;
}

static void test_wiped_node_cannot_elect_a_stale_leader(void **state)
{
	(void)state;
	assert_false(wipe_scenario(0));
}

/* planted bug 20 (before the fix): F1 votes for F2 and W is lost. */
static void test_wipe_scenario_catches_bug20(void **state)
{
	(void)state;
	assert_true(wipe_scenario(20));
}

/* A follower whose configuration is behind still lists the old incarnation
 * of a member that has since been replaced and has become the leader: it
 * must take that leader's appends (they are how it catches up), while its
 * own answers count for the leader as usual. */
static void wipe_node(h_cluster *c, size_t i, uint64_t incarnation);

static void test_lagging_follower_follows_a_replaced_leader(void **state)
{
	(void)state;
	h_cluster c;
	int l = h_cluster_up_committed(&c, 5, NULL);
	size_t w = (size_t)((l + 1) % 5), lag = (size_t)((l + 2) % 5);
	h_propose(&c, (size_t)l, "a");
	settle_ticks(&c, 2);
	h_isolate(&c, lag, true);
	wipe_node(&c, w, 0x77);
	raft_status s;
	for (int t = 0; t < 300; t++) {
		h_tick(&c, 1);
		s = st_of(&c, (size_t)l);
		const raft_peer_status *p = peer_of(&s, c.ids[w]);
		if (p != NULL && p->voter && p->incarnation == 0x77 && !s.conf_pending)
			break;
	}
	s = st_of(&c, (size_t)l);
	assert_int_equal(peer_of(&s, c.ids[w])->incarnation, 0x77);
	assert_int_equal(st_of(&c, lag).conf_index, 0); /* it saw none of it */
	/* the new incarnation takes over, then the lagging node comes back */
	settle_ticks(&c, 2);
	assert_int_equal(raft_transfer(c.nodes[l].r, c.ids[w]), RAFT_OK);
	settle_ticks(&c, 4);
	assert_int_equal(st_of(&c, w).role, RAFT_LEADER);
	h_isolate(&c, lag, false);
	h_propose(&c, w, "b");
	settle_ticks(&c, 6);
	raft_status sw = st_of(&c, w), sl = st_of(&c, lag);
	assert_int_equal(sl.last_index, sw.last_index);
	assert_int_equal(sl.commit, sw.commit);
	assert_int_equal(sl.conf_index, sw.conf_index);
	h_free(&c);
}

/* ------------------------------------------------------------ random */

/* Nodes 1-3 start as voters, 4 and 5 as joiners. Random steps: ticks,
 * proposals, membership changes on the leader, crashes, restarts, wipes
 * (a new incarnation with an empty disk) and partitions. Checked: at most
 * one leader per term (at every step), State Machine Safety (the harness, on
 * every applied entry: no committed entry lost or replaced), and that every
 * node's configuration comes from its log (the CONF entry in force is a
 * CONF entry of its own log, or 0). */
static void five_two_joining(raft_config *cfg, size_t i)
{
	cfg->n_voters = 3;
	cfg->joining = i >= 3;
	cfg->promote_distance = 4;
	cfg->planted_bug = g_bug;
}

typedef struct rng {
	uint64_t s;
} rng;

static uint64_t rnd(rng *g, uint64_t n)
{
	g->s += 0x9e3779b97f4a7c15ull;
	uint64_t z = g->s;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (z ^ (z >> 31)) % n;
}

static void wipe_node(h_cluster *c, size_t i, uint64_t incarnation)
{
	h_node *nd = &c->nodes[i];
	if (nd->up)
		h_crash(c, i, false);
	h_disk_free(nd);
	nd->hs = (raft_hard_state){.term = 0, .vote = RAFT_NONE, .commit = 0};
	nd->cfg.incarnation = incarnation;
	h_restart(c, i);
	h_persist(c, i);
}

static bool random_run(uint64_t seed, int steps, bool verbose)
{
	rng g = {.s = seed};
	h_cluster c;
	h_init(&c, 5, five_two_joining);
	c.soft = true;
	uint64_t leader_of[4096] = {0}; /* term -> leader id + 1 */
	uint64_t next_inc = 100;
	bool bad = false;
	for (int step = 0; step < steps && !bad && !c.violation; step++) {
		uint64_t what = rnd(&g, 100);
		int l = h_leader(&c);
		size_t k = (size_t)rnd(&g, 5);
		if (what < 55) {
			h_tick(&c, 1);
		} else if (what < 70) {
			if (l >= 0)
				h_propose(&c, (size_t)l, "v");
		} else if (what < 80) {
			if (l >= 0) {
				uint8_t op = (uint8_t)(1 + rnd(&g, 3));
				int rc = conf(&c, (size_t)l, op, c.ids[k], c.nodes[k].cfg.incarnation,
					      rnd(&g, 2) == 0);
				if (verbose && rc == RAFT_OK)
					fprintf(stderr, "step %d: leader %u conf op %u on %u\n", step,
						c.ids[l], op, c.ids[k]);
			}
		} else if (what < 86) {
			size_t down = 0;
			for (size_t i = 0; i < 5; i++)
				down += !c.nodes[i].up;
			if (c.nodes[k].up && down < 2) {
				h_crash(&c, k, rnd(&g, 2) == 0);
				if (verbose)
					fprintf(stderr, "step %d: crash %u\n", step, c.ids[k]);
			}
		} else if (what < 93) {
			if (!c.nodes[k].up) {
				h_restart(&c, k);
				if (verbose)
					fprintf(stderr, "step %d: restart %u\n", step, c.ids[k]);
			}
		} else if (what < 95) {
			/* one wipe at a time: only once the last one is fully replaced */
			if (l < 0 || rnd(&g, 8) != 0)
				continue;
			raft_status ls = h_status(&c, (size_t)l);
			bool settled = !ls.conf_pending;
			for (size_t p = 0; p < ls.n_peers; p++)
				if (ls.peers[p].incarnation != c.nodes[h_slot(&c, ls.peers[p].id)].cfg.incarnation)
					settled = false;
			if (!settled)
				continue;
			wipe_node(&c, k, next_inc++);
			if (verbose)
				fprintf(stderr, "step %d: wipe %u\n", step, c.ids[k]);
		} else if (what < 98) {
			h_isolate(&c, k, true);
		} else {
			for (size_t i = 0; i < 5; i++)
				h_isolate(&c, i, false);
		}
		h_process_all(&c); /* disks now hold every node's log */
		for (size_t i = 0; i < 5; i++) {
			if (!c.nodes[i].up)
				continue;
			raft_status st = h_status(&c, i);
			if (st.role == RAFT_LEADER && st.term < 4096) {
				if (leader_of[st.term] != 0 && leader_of[st.term] != c.ids[i] + 1u) {
					fprintf(stderr, "seed %llu: two leaders in term %llu\n",
						(unsigned long long)seed, (unsigned long long)st.term);
					bad = true;
				}
				leader_of[st.term] = c.ids[i] + 1u;
			}
			if (st.conf_index != 0) {
				bool found = false;
				for (size_t d = 0; d < c.nodes[i].n_disk; d++)
					if (c.nodes[i].disk[d].index == st.conf_index)
						found = c.nodes[i].disk[d].type == RAFT_ENTRY_CONF;
				if (!found) {
					fprintf(stderr, "seed %llu: node %u's configuration %llu is not a CONF entry of its log\n",
						(unsigned long long)seed, c.ids[i], (unsigned long long)st.conf_index);
					bad = true;
				}
			}
		}
	}
	if (verbose) {
		for (size_t i = 0; i < 5; i++) {
			if (!c.nodes[i].up) {
				fprintf(stderr, "node %u down\n", c.ids[i]);
				continue;
			}
			raft_status st = h_status(&c, i);
			fprintf(stderr, "node %u role %u term %llu commit %llu last %llu membership %u conf %llu%s inc %llu\n",
				c.ids[i], st.role, (unsigned long long)st.term,
				(unsigned long long)st.commit, (unsigned long long)st.last_index,
				st.membership, (unsigned long long)st.conf_index,
				st.conf_pending ? " pending" : "",
				(unsigned long long)c.nodes[i].cfg.incarnation);
		}
		int l = h_leader(&c);
		if (l >= 0) {
			raft_status ls = h_status(&c, (size_t)l);
			fprintf(stderr, "end: leader %u term %llu commit %llu members %zu\n", c.ids[l],
				(unsigned long long)ls.term, (unsigned long long)ls.commit, ls.n_peers);
		}
	}
	bool violation = bad || c.violation;
	if (c.violation)
		fprintf(stderr, "seed %llu: State Machine Safety violated\n", (unsigned long long)seed);
	h_free(&c);
	return violation;
}

static void test_random_changes_crashes_wipes(void **state)
{
	(void)state;
	g_bug = 0;
	const char *env = getenv("MEMBERSHIP_SEEDS");
	int seeds = env != NULL ? atoi(env) : 40;
	const char *one = getenv("MEMBERSHIP_SEED");
	if (one != NULL) {
		assert_false(random_run(strtoull(one, NULL, 10), 3000, true));
		return;
	}
	for (int s = 1; s <= seeds; s++)
		assert_false(random_run((uint64_t)s, 3000, false));
}

/* The same random runs find planted bug 20 (voting rights that ignore the
 * incarnation) within a bounded number of seeds. */
static void test_random_run_catches_bug20(void **state)
{
	(void)state;
	g_bug = 20;
	bool found = false;
	for (uint64_t s = 1; s <= 300 && !found; s++)
		if (random_run(s, 3000, false)) {
			fprintf(stderr, "bug 20 caught by seed %llu\n", (unsigned long long)s);
			found = true;
		}
	g_bug = 0;
	assert_true(found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_learner_then_promote),
		cmocka_unit_test(test_auto_promote_when_caught_up),
		cmocka_unit_test(test_bad_changes_refused),
		cmocka_unit_test(test_no_change_before_own_term_commit),
		cmocka_unit_test(test_own_term_rule_catches_bug24),
		cmocka_unit_test(test_remove_follower_stops_it),
		cmocka_unit_test(test_removed_node_does_not_disturb),
		cmocka_unit_test(test_remove_the_leader),
		cmocka_unit_test(test_change_interrupted_by_leader_crash),
		cmocka_unit_test(test_configuration_survives_restart),
		cmocka_unit_test(test_wiped_node_cannot_elect_a_stale_leader),
		cmocka_unit_test(test_wipe_scenario_catches_bug20),
		cmocka_unit_test(test_lagging_follower_follows_a_replaced_leader),
		cmocka_unit_test(test_random_changes_crashes_wipes),
		cmocka_unit_test(test_random_run_catches_bug20),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
