/*
 * test_raft_shrunk.c — a follower whose disk went back to an older image is
 * not trusted at its word (issue 10, item 3).
 *
 * With `disk {"fsync":false}` a follower acknowledges entries that are not
 * on its disk; `crash {"lose_unsynced":true}` then puts its log back to what
 * was last really synced. That older log can hold entries of an older term
 * at indexes the leader has since overwritten on it and committed. The
 * leader's matchIndex for it is now a lie, and a heartbeat carries a commit
 * index up to that match: a follower that applied "its" entries up to there
 * would apply divergent ones (State Machine Safety, which the harness checks
 * on every applied entry).
 *
 * The rule under test: a follower commits from a heartbeat only an index at
 * which its log holds the leader's term (the heartbeat carries it), and the
 * leader sets match only from an (index, term) it verified in its own log.
 */
#include <stdio.h>

#include "test_raft_harness.h"

/* The lying fsync: the messages held behind the write go out and the core is
 * told its entries are durable, but the synced image (what survives a crash
 * that loses unsynced writes) is left as it was. */
static void lying_persist(h_cluster *c, size_t i)
{
	h_node *nd = &c->nodes[i];
	for (size_t k = 0; k < nd->n_held; k++) {
		h_net_push(c, &nd->held[k]);
		h_msg_free(&nd->held[k]);
	}
	nd->n_held = 0;
	if (nd->pend_index != 0)
		raft_persisted(nd->r, nd->pend_index, nd->pend_term);
	nd->pend_index = 0;
}

/* Settles the cluster while node f's fsync lies. */
static void settle_lying(h_cluster *c, size_t f)
{
	for (int guard = 0;; guard++) {
		assert_true(guard < 10000);
		h_settle(c);
		if (c->nodes[f].n_held == 0 && c->net.len == 0)
			return;
		lying_persist(c, f);
	}
}

static void tick_lying(h_cluster *c, size_t f, int ticks)
{
	for (int t = 0; t < ticks; t++) {
		for (size_t i = 0; i < c->n; i++)
			if (c->nodes[i].up)
				raft_tick(c->nodes[i].r);
		settle_lying(c, f);
	}
}

static uint64_t peer_match(const h_cluster *c, size_t leader, size_t peer)
{
	raft_status st = h_status(c, leader);
	for (size_t i = 0; i < st.n_peers; i++)
		if (st.peers[i].id == c->ids[peer])
			return st.peers[i].match;
	fail_msg("no peer %zu", peer);
	return 0;
}

static void no_prevote(raft_config *cfg, size_t i)
{
	(void)i;
	cfg->pre_vote = false;
}

/*
 * Node 2 (F) holds entries 4 and 5 of term 2 that were never committed (their
 * leader died); nodes 0 (L) and 1 hold entry 4 of term 3. L is elected in
 * term 4, overwrites F's 4..5 with 4:3, 5:4 and commits 5 with F's
 * acknowledgement, but F's fsync lies. F crashes losing the overwrite: its
 * disk is back to 4:2, 5:2, and L still believes match = 5.
 */
static void build_divergent(h_cluster *c, size_t *f_out)
{
	h_init(c, 3, no_prevote);
	c->soft = true; /* record a State Machine Safety violation, then assert on it */
	const uint64_t lt[] = {1, 1, 1, 3};
	const uint64_t ft[] = {1, 1, 1, 2, 2};
	h_preload(c, 0, 3, lt, 4, 3);
	h_preload(c, 1, 3, lt, 4, 3);
	h_preload(c, 2, 2, ft, 5, 3);
	size_t l = 0, f = 2;
	c->nodes[f].manual_persist = true; /* f's "fsync" is lying_persist */
	raft_campaign(c->nodes[l].r);
	settle_lying(c, f);
	assert_int_equal(h_status(c, l).role, RAFT_LEADER);
	assert_int_equal(h_status(c, l).term, 4);
	/* the no-op went everywhere and is committed; F's match is 5 */
	tick_lying(c, f, 2);
	assert_int_equal(h_status(c, l).commit, 5);
	assert_int_equal(peer_match(c, l, f), 5);
	assert_int_equal(h_status(c, f).last_index, 5);
	assert_int_equal(h_last_disk_term(&c->nodes[f]), 4);
	assert_false(c->violation);
	/* the crash drops what was never really synced */
	h_crash(c, f, true);
	assert_int_equal(c->nodes[f].n_disk, 5);
	assert_int_equal(c->nodes[f].disk[3].term, 2);
	assert_int_equal(c->nodes[f].disk[4].term, 2);
	c->nodes[f].manual_persist = false; /* honest from now on */
	h_restart(c, f);
	*f_out = f;
}

/* Heartbeats alone (no proposal) must neither make F apply its term-2
 * entries nor leave it stuck: it ends with the leader's log, applied. */
static void test_shrunk_follower_not_trusted(void **state)
{
	(void)state;
	h_cluster c;
	size_t f;
	build_divergent(&c, &f);
	for (int t = 0; t < 10 && !c.violation; t++)
		h_tick(&c, 1);
	if (c.violation)
		fail_msg("the follower applied entries the leader never had (state machine safety)");
	raft_status fst = h_status(&c, f);
	assert_int_equal(fst.last_index, 5);
	assert_int_equal(fst.commit, 5);
	assert_int_equal(c.nodes[f].applied, 5);
	assert_int_equal(c.nodes[f].disk[3].term, 3);
	assert_int_equal(c.nodes[f].disk[4].term, 4);
	assert_int_equal(peer_match(&c, 0, f), 5);
	/* and it takes part in the next commit */
	h_crash(&c, 1, false);
	h_propose(&c, 0, "after");
	h_settle(&c);
	h_tick(&c, 2);
	assert_int_equal(c.nodes[f].applied, 6);
	assert_int_equal(h_status(&c, 0).commit, 6);
	assert_false(c.violation);
	h_free(&c);
}

/* The same with new proposals flowing: the leader's APPENDs to F start past
 * the stale match, F rejects them, and that rejection must not be discarded
 * as stale (else F never catches up and, here, nothing commits: the other
 * follower is down). */
static void test_shrunk_follower_rejoins_under_load(void **state)
{
	(void)state;
	h_cluster c;
	size_t f;
	build_divergent(&c, &f);
	h_crash(&c, 1, false);
	char buf[16];
	for (int k = 0; k < 3; k++) {
		snprintf(buf, sizeof buf, "v%d", k);
		h_propose(&c, 0, buf);
		h_settle(&c);
	}
	for (int t = 0; t < 10 && !c.violation && h_status(&c, 0).commit < 8; t++)
		h_tick(&c, 1);
	assert_false(c.violation);
	assert_int_equal(h_status(&c, 0).commit, 8);
	h_tick(&c, 2);
	assert_int_equal(c.nodes[f].applied, 8);
	assert_false(c.violation);
	h_free(&c);
}

/* A heartbeat response that says "my log ends at i with term t" where the
 * leader has another term at i must not set match to i. */
static void test_heartbeat_resp_unverified_index(void **state)
{
	(void)state;
	h_cluster c;
	size_t f;
	build_divergent(&c, &f);
	/* F (term 2 log, 5 entries) answers a heartbeat: it says its log ends
	 * at 5 with term 2; the leader has 5:4 there, so the match must drop,
	 * to a value the leader verified (0: it knows nothing yet). */
	raft_tick(c.nodes[0].r);
	raft_tick(c.nodes[0].r);
	h_process(&c, 0);
	/* deliver only the heartbeat to F and F's answer back */
	while (c.net.len > 0) {
		raft_msg *m = &c.net.m[c.net.head];
		bool hb = m->type == RAFT_MSG_HEARTBEAT || m->type == RAFT_MSG_HEARTBEAT_RESP;
		if (!hb) {
			h_msg_free(m);
			c.net.head = (c.net.head + 1) % c.net.cap;
			c.net.len--;
			continue;
		}
		raft_msg copy;
		h_msg_copy(&copy, m);
		h_msg_free(m);
		c.net.head = (c.net.head + 1) % c.net.cap;
		c.net.len--;
		size_t to = h_slot(&c, copy.to);
		(void)raft_step(c.nodes[to].r, &copy);
		uint32_t from = copy.from;
		h_msg_free(&copy);
		if (to == 0 && from == c.ids[f]) {
			assert_true(peer_match(&c, 0, f) < 4);
			break;
		}
		if (to == 0)
			continue;
		h_process(&c, to);
		/* F must not have committed past 3 on the leader's word */
		assert_int_equal(h_status(&c, f).commit, 3);
	}
	assert_false(c.violation);
	h_drop_all(&c);
	h_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shrunk_follower_not_trusted),
		cmocka_unit_test(test_shrunk_follower_rejoins_under_load),
		cmocka_unit_test(test_heartbeat_resp_unverified_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
