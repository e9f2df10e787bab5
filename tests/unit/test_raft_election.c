/*
 * test_raft_election.c — leader election, pre-vote, check-quorum, transfer.
 */
#include "test_raft_harness.h"

static void no_prevote(raft_config *cfg, size_t i)
{
	(void)i;
	cfg->pre_vote = false;
}

static void no_check_quorum(raft_config *cfg, size_t i)
{
	(void)i;
	cfg->check_quorum = false;
}

/* A one-node cluster elects itself and commits only after persisting. */
static void test_single_node(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 1, NULL);
	c.nodes[0].manual_persist = true;
	raft_campaign(c.nodes[0].r);
	h_process(&c, 0);
	raft_status st = h_status(&c, 0);
	assert_int_equal(st.role, RAFT_LEADER);
	assert_int_equal(st.term, 1);
	assert_int_equal(c.nodes[0].hs.vote, 1);
	/* the no-op is written but not yet durable: nothing may commit */
	assert_int_equal(st.last_index, 1);
	assert_int_equal(st.commit, 0);
	h_propose(&c, 0, "x");
	h_process(&c, 0);
	assert_int_equal(h_status(&c, 0).commit, 0);
	h_persist(&c, 0);
	h_process(&c, 0);
	assert_int_equal(h_status(&c, 0).commit, 2);
	assert_int_equal(c.nodes[0].applied, 2);
	h_free(&c);
}

/* A single node also elects itself when its timer fires. */
static void test_single_node_timeout(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 1, NULL);
	h_tick(&c, 20);
	assert_int_equal(h_status(&c, 0).role, RAFT_LEADER);
	assert_int_equal(h_status(&c, 0).commit, 1);
	h_free(&c);
}

/* Five nodes: exactly one leader per term, everyone follows it. */
static void test_elects_one_leader(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 5, NULL);
	int l = h_elect(&c);
	raft_status st = h_status(&c, (size_t)l);
	assert_int_equal(h_count_leaders(&c, st.term), 1);
	/* the leader's no-op commits everywhere */
	h_tick(&c, 3);
	for (size_t i = 0; i < c.n; i++)
		assert_int_equal(h_status(&c, i).commit, h_status(&c, (size_t)l).last_index);
	h_free(&c);
}

/* Split vote: 4 nodes in two halves campaign at once; nobody can win. When
 * the halves rejoin, randomized timeouts break the tie. */
static void test_split_vote_resolves(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 4, no_prevote);
	for (size_t a = 0; a < 4; a++)
		for (size_t b = 0; b < 4; b++)
			c.cut[a][b] = (a < 2) != (b < 2);
	/* both 1 and 3 (slots 0 and 2) become candidates at term 1 */
	raft_campaign(c.nodes[0].r);
	raft_campaign(c.nodes[2].r);
	h_settle(&c);
	assert_int_equal(h_status(&c, 0).role, RAFT_CANDIDATE);
	assert_int_equal(h_status(&c, 2).role, RAFT_CANDIDATE);
	assert_int_equal(h_leader(&c), -1);
	memset(c.cut, 0, sizeof(c.cut));
	int l = h_elect(&c);
	assert_true(l >= 0);
	assert_int_equal(h_count_leaders(&c, h_status(&c, (size_t)l).term), 1);
	h_free(&c);
}

/* Pre-vote: an isolated node keeps failing pre-votes without raising its
 * term, so on rejoining it does not depose the leader. */
static void test_prevote_protects_leader(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	int l = h_elect(&c);
	uint64_t term = h_status(&c, (size_t)l).term;
	size_t iso = ((size_t)l + 1) % 3;
	h_isolate(&c, iso, true);
	h_tick(&c, 100);
	assert_int_equal(h_status(&c, iso).term, term);
	assert_int_not_equal(h_status(&c, iso).role, RAFT_LEADER);
	h_isolate(&c, iso, false);
	h_tick(&c, 30);
	assert_int_equal(h_leader(&c), l);
	assert_int_equal(h_status(&c, (size_t)l).term, term);
	assert_int_equal(h_status(&c, iso).leader, c.ids[l]);
	h_free(&c);
}

/* The same scenario without pre-vote does raise the term: the control that
 * shows the test above measures pre-vote. */
static void test_without_prevote_term_grows(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, no_prevote);
	int l = h_elect(&c);
	uint64_t term = h_status(&c, (size_t)l).term;
	size_t iso = ((size_t)l + 1) % 3;
	h_isolate(&c, iso, true);
	h_tick(&c, 100);
	assert_true(h_status(&c, iso).term > term);
	h_free(&c);
}

/* Followers that hear from a leader refuse pre-votes of a node whose log is
 * as good as theirs (leader stickiness). */
static void test_leader_stickiness(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	int l = h_elect(&c);
	uint64_t term = h_status(&c, (size_t)l).term;
	size_t f = ((size_t)l + 1) % 3;
	raft_campaign(c.nodes[f].r); /* pre-vote round only */
	h_settle(&c);
	assert_int_equal(h_leader(&c), l);
	assert_int_equal(h_status(&c, (size_t)l).term, term);
	h_free(&c);
}

static raft_msg vote_req(uint32_t from, uint32_t to, uint64_t term, uint64_t last_index,
			 uint64_t last_term)
{
	raft_msg m;
	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_VOTE;
	m.from = from;
	m.to = to;
	m.term = term;
	m.index = last_index;
	m.log_term = last_term;
	return m;
}

/* §5.4.1: a vote goes only to a candidate whose log is at least as up to
 * date (last term first, then length). */
static void test_up_to_date_check(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, no_prevote);
	const uint64_t terms[] = {1, 2, 2};
	h_preload(&c, 0, 2, terms, 3, 0);
	struct {
		uint64_t index, term;
		bool grant;
	} cases[] = {
		{5, 1, false}, /* longer but older last term */
		{2, 2, false}, /* same last term, shorter */
		{3, 2, true},  /* same */
		{1, 3, true},  /* newer last term wins even if shorter */
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		h_preload(&c, 0, 2, terms, 3, 0);
		h_drop_all(&c);
		raft_msg m = vote_req(2, 1, 3 + k, cases[k].index, cases[k].term);
		assert_int_equal(raft_step(c.nodes[0].r, &m), RAFT_OK);
		raft_ready rd;
		raft_get_ready(c.nodes[0].r, &rd);
		assert_int_equal(rd.n_msgs, 1);
		assert_int_equal(rd.msgs[0].type, RAFT_MSG_VOTE_RESP);
		assert_int_equal(rd.msgs[0].reject, !cases[k].grant);
		assert_int_equal(rd.hs.vote, cases[k].grant ? 2 : RAFT_NONE);
		raft_advance(c.nodes[0].r, &rd);
	}
	h_free(&c);
}

/* One vote per term: a second candidate of the same term is refused. */
static void test_one_vote_per_term(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, no_prevote);
	raft_msg a = vote_req(2, 1, 1, 0, 0), b = vote_req(3, 1, 1, 0, 0);
	assert_int_equal(raft_step(c.nodes[0].r, &a), RAFT_OK);
	assert_int_equal(raft_step(c.nodes[0].r, &b), RAFT_OK);
	raft_ready rd;
	raft_get_ready(c.nodes[0].r, &rd);
	assert_int_equal(rd.n_msgs, 2);
	assert_false(rd.msgs[0].reject);
	assert_true(rd.msgs[1].reject);
	assert_int_equal(rd.hs.vote, 2);
	raft_advance(c.nodes[0].r, &rd);
	h_free(&c);
}

/* Check-quorum: a leader cut off from everyone steps down within about an
 * election timeout, and answers no more reads. */
static void test_check_quorum_step_down(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	int l = h_elect(&c);
	assert_true(raft_lease_valid(c.nodes[l].r));
	h_isolate(&c, (size_t)l, true);
	h_tick(&c, 2 * c.nodes[0].cfg.election_ticks + 1);
	assert_int_not_equal(h_status(&c, (size_t)l).role, RAFT_LEADER);
	assert_false(raft_lease_valid(c.nodes[l].r));
	h_free(&c);
}

/* Without check-quorum the isolated leader keeps its role: the control. */
static void test_no_check_quorum_keeps_role(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, no_check_quorum);
	int l = h_elect(&c);
	h_isolate(&c, (size_t)l, true);
	h_tick(&c, 2 * c.nodes[0].cfg.election_ticks + 1);
	assert_int_equal(h_status(&c, (size_t)l).role, RAFT_LEADER);
	assert_false(raft_lease_valid(c.nodes[l].r));
	h_free(&c);
}

/* Leader transfer: the target takes over in the next term, at once. */
static void test_leader_transfer(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	int l = h_elect(&c);
	uint64_t term = h_status(&c, (size_t)l).term;
	size_t to = ((size_t)l + 2) % 3;
	h_propose(&c, (size_t)l, "before");
	assert_int_equal(raft_transfer(c.nodes[l].r, c.ids[to]), RAFT_OK);
	/* no new proposals while handing over */
	uint64_t idx;
	assert_int_equal(raft_propose(c.nodes[l].r, "x", 1, &idx), RAFT_EBUSY);
	h_settle(&c);
	assert_int_equal(h_leader(&c), (int)to);
	assert_int_equal(h_status(&c, to).term, term + 1);
	assert_int_equal(h_status(&c, (size_t)l).role, RAFT_FOLLOWER);
	assert_int_equal(raft_transfer(c.nodes[l].r, c.ids[to]), RAFT_ENOLEADER);
	assert_int_equal(raft_transfer(c.nodes[to].r, 99), RAFT_EINVAL);
	h_free(&c);
}

/* A transfer to a node that does not answer is abandoned after an election
 * timeout, and the leader takes proposals again. */
static void test_transfer_times_out(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	int l = h_elect(&c);
	size_t to = ((size_t)l + 1) % 3;
	c.cut[l][to] = true;
	assert_int_equal(raft_transfer(c.nodes[l].r, c.ids[to]), RAFT_OK);
	h_tick(&c, c.nodes[0].cfg.election_ticks);
	uint64_t idx;
	assert_int_equal(raft_propose(c.nodes[l].r, "x", 1, &idx), RAFT_OK);
	assert_int_equal(h_leader(&c), l);
	h_free(&c);
}

/* Issue 15.1: a forged leader message with the largest term would put every
 * node at a term whose increment wraps to 0, so no election could ever
 * succeed again. Such a term is refused; the cluster keeps its leader and
 * still elects a new one after the leader is cut off. */
static void test_max_term_refused(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	int l = h_elect(&c);
	size_t f = ((size_t)l + 1) % 3;
	uint64_t term = h_status(&c, f).term;
	raft_msg forged;
	memset(&forged, 0, sizeof(forged));
	forged.type = RAFT_MSG_HEARTBEAT;
	forged.from = c.ids[l];
	forged.to = c.ids[f];
	forged.term = UINT64_MAX;
	assert_int_equal(raft_step(c.nodes[f].r, &forged), RAFT_EINVAL);
	/* just below it is as bad: nobody could campaign past it; a jump that
	 * far is refused too */
	forged.term = UINT64_MAX - 1;
	assert_int_equal(raft_step(c.nodes[f].r, &forged), RAFT_EINVAL);
	forged.term = term + (UINT64_C(1) << 32) + 1;
	assert_int_equal(raft_step(c.nodes[f].r, &forged), RAFT_EINVAL);
	h_process_all(&c);
	h_settle(&c);
	assert_int_equal(h_status(&c, f).term, term);
	/* the cluster still works: a new leader is elected when the old one is cut off */
	h_isolate(&c, (size_t)l, true);
	h_tick(&c, 5 * c.nodes[0].cfg.election_ticks);
	int nl = h_leader(&c);
	assert_true(nl >= 0 && nl != l);
	assert_true(h_status(&c, (size_t)nl).term > term);
	h_free(&c);
}

static void test_names_and_config(void **state)
{
	(void)state;
	assert_string_equal(raft_role_name(RAFT_LEADER), "leader");
	assert_string_equal(raft_role_name(RAFT_PRECANDIDATE), "precandidate");
	assert_string_equal(raft_msg_type_name(RAFT_MSG_TIMEOUT_NOW), "timeout_now");
	assert_string_equal(raft_msg_type_name(200), "unknown");
	raft_config cfg;
	uint32_t ids[] = {1, 2};
	raft_config_defaults(&cfg);
	cfg.voters = ids;
	cfg.n_voters = 2;
	cfg.id = 3; /* not a member */
	assert_null(raft_new(&cfg));
	cfg.id = 1;
	cfg.heartbeat_ticks = cfg.election_ticks;
	assert_null(raft_new(&cfg));
	cfg.heartbeat_ticks = 1;
	raft *r = raft_new(&cfg);
	assert_non_null(r);
	uint64_t idx;
	assert_int_equal(raft_propose(r, "x", 1, &idx), RAFT_ENOLEADER);
	assert_int_equal(raft_read_index(r, 1), RAFT_ENOLEADER);
	raft_msg bad;
	memset(&bad, 0, sizeof(bad));
	bad.type = 77;
	bad.from = 2;
	bad.to = 1;
	assert_int_equal(raft_step(r, &bad), RAFT_EINVAL);
	raft_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_node),
		cmocka_unit_test(test_single_node_timeout),
		cmocka_unit_test(test_elects_one_leader),
		cmocka_unit_test(test_split_vote_resolves),
		cmocka_unit_test(test_prevote_protects_leader),
		cmocka_unit_test(test_without_prevote_term_grows),
		cmocka_unit_test(test_leader_stickiness),
		cmocka_unit_test(test_up_to_date_check),
		cmocka_unit_test(test_one_vote_per_term),
		cmocka_unit_test(test_check_quorum_step_down),
		cmocka_unit_test(test_no_check_quorum_keeps_role),
		cmocka_unit_test(test_leader_transfer),
		cmocka_unit_test(test_transfer_times_out),
		cmocka_unit_test(test_max_term_refused),
		cmocka_unit_test(test_names_and_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
