/*
 * test_raft_read_index.c — ReadIndex on the leader and on followers,
 * batching of concurrent reads, and refusal when leadership is lost.
 */
#include "test_raft_harness.h"

static int find_read(const h_node *nd, uint64_t ctx)
{
	for (size_t k = 0; k < nd->n_reads; k++)
		if (nd->reads[k].ctx == ctx)
			return (int)k;
	return -1;
}

/* On the leader: no answer before a quorum acknowledged a heartbeat round
 * started after the read; then the commit index. */
static void test_leader_read(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	int l = h_elect(&c);
	h_tick(&c, 2);
	h_node *ld = &c.nodes[l];
	uint64_t commit = h_status(&c, (size_t)l).commit;
	assert_int_equal(raft_read_index(ld->r, 42), RAFT_OK);
	h_process(&c, (size_t)l);
	assert_int_equal(find_read(ld, 42), -1); /* not before the round */
	assert_true(c.net.len >= 2);             /* the heartbeat round */
	h_settle(&c);
	int k = find_read(ld, 42);
	assert_true(k >= 0);
	assert_int_equal(ld->reads[k].index, commit);
	h_free(&c);
}

/* A leader cut off from the others never confirms the read; when it steps
 * down (check-quorum) the read is refused with index 0. */
static void test_leader_read_refused_when_isolated(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	int l = h_elect(&c);
	h_tick(&c, 2);
	h_node *ld = &c.nodes[l];
	h_isolate(&c, (size_t)l, true);
	assert_int_equal(raft_read_index(ld->r, 7), RAFT_OK);
	h_tick(&c, 5);
	assert_int_equal(find_read(ld, 7), -1);
	h_tick(&c, 2 * ld->cfg.election_ticks);
	int k = find_read(ld, 7);
	assert_true(k >= 0);
	assert_int_equal(ld->reads[k].index, 0);
	assert_int_equal(raft_read_index(ld->r, 8), RAFT_ENOLEADER);
	h_free(&c);
}

/* A new leader answers reads only after an entry of its own term commits:
 * the read index is at least its no-op. */
static void test_read_waits_for_term_commit(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	raft_campaign(c.nodes[0].r);
	h_process(&c, 0);
	/* deliver until node 1 is leader, then read at once */
	for (int guard = 0; h_status(&c, 0).role != RAFT_LEADER; guard++) {
		assert_true(guard < 100);
		assert_true(h_deliver_one(&c));
	}
	uint64_t noop = h_status(&c, 0).last_index;
	assert_int_equal(h_status(&c, 0).commit, 0);
	assert_int_equal(raft_read_index(c.nodes[0].r, 5), RAFT_OK);
	/* the first heartbeat round must not be enough on its own */
	h_tick(&c, 3);
	int k = find_read(&c.nodes[0], 5);
	assert_true(k >= 0);
	assert_true(c.nodes[0].reads[k].index >= noop);
	h_free(&c);
}

/* On a follower: reads go to the leader, come back with its commit index. */
static void test_follower_read(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	int l = h_elect(&c);
	h_tick(&c, 2);
	size_t f = ((size_t)l + 1) % 3;
	for (int k = 0; k < 3; k++)
		h_propose(&c, (size_t)l, "w");
	h_settle(&c);
	uint64_t commit = h_status(&c, (size_t)l).commit;
	memset(c.sent_by_type, 0, sizeof(c.sent_by_type));
	for (uint64_t ctx = 100; ctx < 110; ctx++)
		assert_int_equal(raft_read_index(c.nodes[f].r, ctx), RAFT_OK);
	h_settle(&c);
	/* ten reads, one request, one answer */
	assert_int_equal(c.sent_by_type[RAFT_MSG_READ_INDEX], 1);
	assert_int_equal(c.sent_by_type[RAFT_MSG_READ_INDEX_RESP], 1);
	for (uint64_t ctx = 100; ctx < 110; ctx++) {
		int k = find_read(&c.nodes[f], ctx);
		assert_true(k >= 0);
		assert_int_equal(c.nodes[f].reads[k].index, commit);
	}
	h_free(&c);
}

/* Many concurrent reads on the leader share one heartbeat round. */
static void test_reads_batched(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	int l = h_elect(&c);
	h_tick(&c, 2);
	memset(c.sent_by_type, 0, sizeof(c.sent_by_type));
	for (uint64_t ctx = 1; ctx <= 1000; ctx++)
		assert_int_equal(raft_read_index(c.nodes[l].r, ctx), RAFT_OK);
	h_settle(&c);
	assert_int_equal(c.sent_by_type[RAFT_MSG_HEARTBEAT], 2);
	assert_int_equal(c.nodes[l].n_reads, 1000);
	for (size_t k = 0; k < 1000; k++) {
		assert_int_equal(c.nodes[l].reads[k].ctx, k + 1); /* in order */
		assert_true(c.nodes[l].reads[k].index > 0);
	}
	h_free(&c);
}

static bool drop_read_resp(h_cluster *c, const raft_msg *m)
{
	(void)c;
	return m->type != RAFT_MSG_READ_INDEX_RESP;
}

/* A follower read whose answer never comes is refused once the leader is
 * lost (here: the answer is dropped and the leader crashes). */
static void test_follower_read_refused_on_leader_loss(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	int l = h_elect(&c);
	h_tick(&c, 2);
	size_t f = ((size_t)l + 1) % 3;
	c.filter = drop_read_resp;
	assert_int_equal(raft_read_index(c.nodes[f].r, 9), RAFT_OK);
	h_settle(&c);
	assert_int_equal(find_read(&c.nodes[f], 9), -1);
	c.filter = NULL;
	h_crash(&c, (size_t)l, false);
	h_tick(&c, 3 * c.nodes[f].cfg.election_ticks);
	int k = find_read(&c.nodes[f], 9);
	assert_true(k >= 0);
	assert_int_equal(c.nodes[f].reads[k].index, 0);
	h_free(&c);
}

/* A follower read sent to a node that is not (or no longer) the leader is
 * answered with 0 at once. */
static void test_read_index_at_non_leader(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	raft_msg m;
	memset(&m, 0, sizeof(m));
	m.type = RAFT_MSG_READ_INDEX;
	m.from = 2;
	m.to = 1;
	m.ctx = 77;
	assert_int_equal(raft_step(c.nodes[0].r, &m), RAFT_OK);
	raft_ready rd;
	raft_get_ready(c.nodes[0].r, &rd);
	assert_int_equal(rd.n_msgs, 1);
	assert_int_equal(rd.msgs[0].type, RAFT_MSG_READ_INDEX_RESP);
	assert_int_equal(rd.msgs[0].ctx, 77);
	assert_int_equal(rd.msgs[0].index, 0);
	raft_advance(c.nodes[0].r, &rd);
	h_free(&c);
}

/* Single node: reads answer without any round. */
static void test_single_node_read(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 1, NULL);
	raft_campaign(c.nodes[0].r);
	assert_int_equal(raft_read_index(c.nodes[0].r, 3), RAFT_OK);
	h_settle(&c);
	assert_int_equal(c.nodes[0].n_reads, 1);
	assert_int_equal(c.nodes[0].reads[0].index, 1);
	assert_int_equal(raft_read_index(c.nodes[0].r, 4), RAFT_OK);
	h_settle(&c);
	assert_int_equal(c.nodes[0].n_reads, 2);
	assert_true(raft_lease_valid(c.nodes[0].r));
	h_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leader_read),
		cmocka_unit_test(test_leader_read_refused_when_isolated),
		cmocka_unit_test(test_read_waits_for_term_commit),
		cmocka_unit_test(test_follower_read),
		cmocka_unit_test(test_reads_batched),
		cmocka_unit_test(test_follower_read_refused_on_leader_loss),
		cmocka_unit_test(test_read_index_at_non_leader),
		cmocka_unit_test(test_single_node_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
