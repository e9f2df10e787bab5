/*
 * test_raft_mustsync.c — the must-sync rule (issue 10, item 4).
 *
 * Only a new term, a new vote or new entries need an fsync before the
 * messages that vouch for them (rd.must_sync, raft.h steps 2-3). A commit-only
 * change of the hard state does not, and heartbeat answers vouch for nothing
 * on disk: a follower with a slow disk must still answer heartbeats at once,
 * or every ReadIndex round and every check-quorum depends on its fsync
 * latency. Votes and entry acknowledgements must still wait.
 *
 * "Slow disk" here is the harness's manual_persist: nothing becomes durable
 * until the test calls h_persist.
 */
#include "test_raft_harness.h"

static void no_prevote(raft_config *cfg, size_t i)
{
	(void)i;
	cfg->pre_vote = false;
	cfg->check_quorum = false;
}

static bool has_read(const h_node *nd, uint64_t ctx, uint64_t *index)
{
	for (size_t k = 0; k < nd->n_reads; k++)
		if (nd->reads[k].ctx == ctx) {
			*index = nd->reads[k].index;
			return true;
		}
	return false;
}

/* Both followers' disks are slow. An entry is acknowledged (after their
 * fsync), the leader commits it and tells them: their hard state changes
 * (commit only) and that write is not synced. A ReadIndex on the leader
 * needs a heartbeat round answered by a follower: it must be served without
 * waiting for the followers' disks. */
static void test_heartbeat_not_held_behind_commit_write(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, no_prevote);
	int l = h_elect(&c);
	h_propose(&c, (size_t)l, "a");
	h_settle(&c);
	h_tick(&c, 2);
	for (size_t i = 0; i < 3; i++)
		if ((int)i != l)
			c.nodes[i].manual_persist = true;
	h_propose(&c, (size_t)l, "b");
	h_settle(&c);
	raft_status st = h_status(&c, (size_t)l);
	assert_int_equal(st.commit, st.last_index - 1); /* b waits for the followers' disks */
	for (size_t i = 0; i < 3; i++)
		if ((int)i != l)
			h_persist(&c, i); /* their fsync of b completes */
	h_settle(&c);
	st = h_status(&c, (size_t)l);
	assert_int_equal(st.commit, st.last_index); /* b committed */
	for (size_t i = 0; i < 3; i++)
		if ((int)i != l) {
			/* the follower learned the commit: a commit-only hard state
			 * change was written and is not synced */
			assert_int_equal(h_status(&c, i).commit, st.commit);
			assert_int_equal(c.nodes[i].hs.commit, st.commit);
			assert_true(c.nodes[i].shs.commit < st.commit);
		}
	assert_int_equal(raft_read_index(c.nodes[l].r, 77), RAFT_OK);
	h_settle(&c);
	uint64_t idx = 0;
	if (!has_read(&c.nodes[l], 77, &idx))
		fail_msg("ReadIndex not served: the heartbeat answers waited for the followers' fsync");
	assert_int_equal(idx, st.commit);
	/* the commit-only writes were never synced, and nothing needed them */
	for (size_t i = 0; i < 3; i++)
		if ((int)i != l)
			assert_true(c.nodes[i].shs.commit < st.commit);
	h_free(&c);
}

/* The same under write load: a follower's fsync of new entries is pending
 * (its acknowledgement must wait), yet its heartbeat answers do not. */
static void test_heartbeat_not_held_behind_entry_write(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, no_prevote);
	int l = h_elect(&c);
	h_settle(&c);
	h_tick(&c, 2);
	for (size_t i = 0; i < 3; i++)
		if ((int)i != l)
			c.nodes[i].manual_persist = true;
	uint64_t before = h_status(&c, (size_t)l).commit;
	h_propose(&c, (size_t)l, "x");
	h_settle(&c);
	assert_int_equal(raft_read_index(c.nodes[l].r, 78), RAFT_OK);
	h_settle(&c);
	uint64_t idx = 0;
	if (!has_read(&c.nodes[l], 78, &idx))
		fail_msg("ReadIndex not served while the followers' entry fsync is pending");
	assert_int_equal(idx, before);
	/* but x is not committed: its acknowledgements still wait */
	assert_int_equal(h_status(&c, (size_t)l).commit, before);
	for (size_t i = 0; i < 3; i++)
		if ((int)i != l)
			h_persist(&c, i);
	h_settle(&c);
	assert_int_equal(h_status(&c, (size_t)l).commit, before + 1);
	h_free(&c);
}

/* A granted vote is a must-sync change: the VOTE_RESP waits for the fsync,
 * and a crash before it forgets the vote without having told anyone. */
static void test_vote_waits_for_sync(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, no_prevote);
	c.nodes[1].manual_persist = true;
	c.nodes[2].manual_persist = true;
	raft_campaign(c.nodes[0].r);
	h_settle(&c);
	assert_int_not_equal(h_status(&c, 0).role, RAFT_LEADER);
	assert_int_equal(c.nodes[1].hs.vote, 1);
	assert_int_equal(c.nodes[1].shs.vote, RAFT_NONE);
	h_persist(&c, 1);
	h_settle(&c);
	assert_int_equal(h_status(&c, 0).role, RAFT_LEADER);
	h_free(&c);
}

/* The rule itself, on the ready: term, vote and entries need the fsync; a
 * commit-only change does not. */
static void test_ready_must_sync(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, no_prevote);
	raft *f = c.nodes[1].r;
	raft_ready rd;
	/* a vote request in a new term: term and vote change */
	raft_msg m;
	memset(&m, 0, sizeof m);
	m.type = RAFT_MSG_VOTE;
	m.from = 1;
	m.to = 2;
	m.term = 1;
	assert_int_equal(raft_step(f, &m), RAFT_OK);
	raft_get_ready(f, &rd);
	assert_true(rd.hs_changed);
	assert_true(rd.must_sync);
	raft_advance(f, &rd);
	/* an APPEND with one entry and commit 0: entries */
	raft_entry e = {.term = 1, .index = 1, .type = RAFT_ENTRY_NOOP};
	memset(&m, 0, sizeof m);
	m.type = RAFT_MSG_APPEND;
	m.from = 1;
	m.to = 2;
	m.term = 1;
	m.n_entries = 1;
	m.entries = &e;
	assert_int_equal(raft_step(f, &m), RAFT_OK);
	raft_get_ready(f, &rd);
	assert_false(rd.hs_changed);
	assert_int_equal(rd.n_entries, 1);
	assert_true(rd.must_sync);
	raft_advance(f, &rd);
	raft_persisted(f, 1, 1);
	/* a heartbeat that moves only the commit index */
	memset(&m, 0, sizeof m);
	m.type = RAFT_MSG_HEARTBEAT;
	m.from = 1;
	m.to = 2;
	m.term = 1;
	m.commit = 1;
	m.log_term = 1;
	assert_int_equal(raft_step(f, &m), RAFT_OK);
	raft_get_ready(f, &rd);
	assert_true(rd.hs_changed);
	assert_int_equal(rd.hs.commit, 1);
	assert_false(rd.must_sync);
	assert_int_equal(rd.n_msgs, 1);
	assert_int_equal(rd.msgs[0].type, RAFT_MSG_HEARTBEAT_RESP);
	assert_false(raft_msg_waits_for_disk(rd.msgs[0].type));
	raft_advance(f, &rd);
	assert_true(raft_msg_waits_for_disk(RAFT_MSG_VOTE));
	assert_true(raft_msg_waits_for_disk(RAFT_MSG_VOTE_RESP));
	assert_true(raft_msg_waits_for_disk(RAFT_MSG_APPEND_RESP));
	h_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heartbeat_not_held_behind_commit_write),
		cmocka_unit_test(test_heartbeat_not_held_behind_entry_write),
		cmocka_unit_test(test_vote_waits_for_sync),
		cmocka_unit_test(test_ready_must_sync),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
