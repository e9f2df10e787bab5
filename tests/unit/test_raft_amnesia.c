/*
 * test_raft_amnesia.c — a node that lost its disk must not vote (issue 10,
 * item 1).
 *
 * The scenario of the issue, in the harness: leader L and follower F1 commit
 * a write W while F2 is cut off; F1 is wiped (term 0, no vote, empty log), L
 * goes down, F2 comes back. F2 campaigns, the wiped F1 grants its vote, F2
 * leads without W and commits its own entry at W's index: an acknowledged
 * write is lost and the harness's State Machine Safety check sees L's W and
 * F2's entry applied at the same index.
 *
 * The fix (node/raft/membership.c, README.md "Membership"): voting rights
 * belong to (id, incarnation). A node that starts with an empty data dir in
 * a cluster that already exists takes a new incarnation, so it neither votes
 * nor campaigns; F2 cannot be elected while L is down, and once L is back
 * the leader replaces F1's old incarnation with the new one. planted bug 20
 * (test_raft_membership.c) brings the old behaviour back and the same
 * scenario loses W there.
 */
#include <stdio.h>

#include "test_raft_harness.h"

/* The fault agent's wipe: the data dir is gone; the node restarts as raft_new
 * + an empty raft_load (term 0, no vote, commit 0, no entries), with a new
 * incarnation (what the node does when it finds its data dir empty while the
 * cluster it is told about already exists). */
static void wipe_and_restart(h_cluster *c, size_t i)
{
	h_node *nd = &c->nodes[i];
	h_crash(c, i, false);
	h_disk_free(nd);
	nd->hs.term = 0;
	nd->hs.vote = RAFT_NONE;
	nd->hs.commit = 0;
	nd->cfg.incarnation = 0x1ca4a7e;
	h_restart(c, i);
	h_persist(c, i);
}

static void test_wiped_voter_loses_acknowledged_write(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	c.soft = true;
	const size_t L = 0, F1 = 1, F2 = 2;
	raft_campaign(c.nodes[L].r);
	h_settle(&c);
	assert_int_equal(h_status(&c, L).role, RAFT_LEADER);
	h_tick(&c, 2);
	/* W is committed by L and F1 while F2 is cut off: the client got 200 */
	h_isolate(&c, F2, true);
	h_propose(&c, L, "W");
	h_settle(&c);
	h_tick(&c, 2);
	raft_status lst = h_status(&c, L);
	uint64_t w_index = lst.last_index;
	assert_int_equal(lst.commit, w_index);
	assert_int_equal(c.nodes[L].applied, w_index);
	assert_int_equal(h_status(&c, F1).last_index, w_index);
	/* kill F1, wipe it, kill L, start F1, heal F2 */
	wipe_and_restart(&c, F1);
	h_crash(&c, L, false);
	h_isolate(&c, F2, false);
	int leader = -1;
	for (int t = 0; t < 300 && !c.violation; t++) {
		h_tick(&c, 1);
		leader = h_leader(&c);
		if (leader >= 0 && h_status(&c, (size_t)leader).commit >= w_index)
			break;
	}
	if (leader < 0) {
		/* Nobody could be elected without L (the safe outcome): L returns. */
		h_restart(&c, L);
		for (int t = 0; t < 300 && !c.violation; t++) {
			h_tick(&c, 1);
			leader = h_leader(&c);
			if (leader >= 0 && h_status(&c, (size_t)leader).commit >= w_index)
				break;
		}
	}
	assert_true(leader >= 0);
	const h_node *nl = &c.nodes[leader];
	bool has_w = nl->n_disk >= w_index && nl->disk[w_index - 1].len == 1 &&
		     memcmp(nl->disk[w_index - 1].data, "W", 1) == 0;
	if (c.violation || !has_w)
		fail_msg("acknowledged write W (index %llu) lost: node %d leads without it%s",
			 (unsigned long long)w_index, leader + 1,
			 c.violation ? ", and applied another entry at its index" : "");
	h_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wiped_voter_loses_acknowledged_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
