/*
 * test_raft_wipe.c — a follower whose disk lost what it had acknowledged.
 *
 * The fault agent can wipe a node's data directory (the node restarts at
 * term 0 with an empty log) or make it lose its unsynced tail (it restarts
 * with a shorter log than it acknowledged). The leader still believes the
 * old matchIndex. Nothing in Raft's happy path tells it otherwise: with no
 * new proposals only heartbeats flow, and a heartbeat's commit is capped at
 * the follower's (stale) match. The fix (node/raft/replication.c,
 * repl_recv_heartbeat_resp: "The follower's log is shorter than it once
 * acknowledged") makes the follower report its last index in every
 * heartbeat response and the leader probe again from there.
 *
 * These tests check that the leader brings such a follower back to the full
 * log, committed entries applied again (and checked against every other
 * node's by the harness), within a bounded number of ticks and deliveries.
 */
#include <stdio.h>

#include "test_raft_harness.h"

/* Recovery must finish within two heartbeat intervals (heartbeats every 2
 * ticks here, election timeout 10): no election and no proposal may be
 * needed to repair a follower. It takes 2 ticks and 6-14 deliveries today. */
#define MAX_RECOVERY_TICKS 4
#define MAX_RECOVERY_DELIVERIES 60

static void assert_logs_equal(const h_cluster *c, size_t a, size_t b)
{
	const h_node *x = &c->nodes[a], *y = &c->nodes[b];
	assert_int_equal(x->n_disk, y->n_disk);
	for (size_t k = 0; k < x->n_disk; k++) {
		assert_int_equal(x->disk[k].index, y->disk[k].index);
		assert_int_equal(x->disk[k].term, y->disk[k].term);
		assert_int_equal(x->disk[k].type, y->disk[k].type);
		assert_int_equal(x->disk[k].len, y->disk[k].len);
		if (x->disk[k].len)
			assert_memory_equal(x->disk[k].data, y->disk[k].data, x->disk[k].len);
	}
}

/* One tick on every live node, then everything settles; returns the number
 * of messages delivered. */
static size_t tick_counted(h_cluster *c)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->nodes[i].up)
			raft_tick(c->nodes[i].r);
	h_process_all(c);
	size_t n = 0;
	while (h_deliver_one(c)) {
		n++;
		assert_true(n < 1000000);
	}
	return n;
}

/* A 3-node cluster that has committed and applied n_entries proposals (plus
 * the leader's no-op) everywhere. Returns the leader's slot. */
static int committed_cluster(h_cluster *c, int n_entries)
{
	h_init(c, 3, NULL);
	int l = h_elect(c);
	char buf[32];
	for (int k = 0; k < n_entries; k++) {
		snprintf(buf, sizeof buf, "value-%d", k);
		h_propose(c, (size_t)l, buf);
	}
	h_settle(c);
	h_tick(c, 2); /* heartbeats carry the final commit */
	raft_status st = h_status(c, (size_t)l);
	assert_int_equal(st.last_index, (uint64_t)n_entries + 1);
	assert_int_equal(st.commit, st.last_index);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(c->nodes[i].applied, st.last_index);
		assert_logs_equal(c, (size_t)l, i);
	}
	/* the leader knows every follower matches all of it */
	for (size_t i = 0; i < st.n_peers; i++)
		assert_int_equal(st.peers[i].match, st.last_index);
	return l;
}

static size_t other_follower(int l, size_t not)
{
	for (size_t i = 0; i < 3; i++)
		if ((int)i != l && i != not)
			return i;
	fail_msg("no follower");
	return 0;
}

/* Keeps the first keep entries of node i's disk (its synced image too) and
 * restarts it from that: a disk that lost what the node had acknowledged.
 * keep == 0 with wipe_state also resets the hard state to term 0, no vote,
 * commit 0: the fault agent's wipe (raft_new + an empty raft_load). */
static void restart_with_shorter_log(h_cluster *c, size_t i, size_t keep, bool wipe_state)
{
	h_node *nd = &c->nodes[i];
	h_crash(c, i, false);
	assert_true(keep <= nd->n_disk);
	for (size_t k = keep; k < nd->n_disk; k++)
		free(nd->disk[k].data);
	nd->n_disk = keep;
	if (keep == 0) {
		free(nd->disk);
		nd->disk = NULL;
		nd->cap_disk = 0;
	}
	nd->dirty_from = 0; /* the synced image is re-taken below */
	if (wipe_state) {
		nd->hs.term = 0;
		nd->hs.vote = RAFT_NONE;
		nd->hs.commit = 0;
	} else if (nd->hs.commit > keep) {
		nd->hs.commit = keep; /* raft_load would clamp it anyway */
	}
	h_restart(c, i);
	h_persist(c, i);
	raft_status st = h_status(c, i);
	assert_int_equal(st.last_index, keep);
	if (wipe_state) {
		assert_int_equal(st.term, 0);
		assert_int_equal(st.commit, 0);
	}
	nd->first_written_since_mark = UINT64_MAX;
}

/* Ticks (no proposals) until follower f holds the leader's whole log and has
 * applied all of it; fails if that takes more than the bounds. */
static void expect_recovery(h_cluster *c, int l, size_t f)
{
	raft_status before = h_status(c, (size_t)l);
	size_t deliveries = 0;
	int ticks = 0;
	for (;;) {
		raft_status lst = h_status(c, (size_t)l);
		/* still the same leader, same term, nothing new proposed */
		assert_int_equal(lst.role, RAFT_LEADER);
		assert_int_equal(lst.term, before.term);
		assert_int_equal(lst.last_index, before.last_index);
		raft_status fst = h_status(c, f);
		if (fst.last_index == lst.last_index && c->nodes[f].applied == lst.commit &&
		    fst.commit == lst.commit)
			break;
		if (ticks >= MAX_RECOVERY_TICKS)
			fail_msg("follower %zu not repaired after %d ticks: last %llu commit %llu "
				 "applied %llu, leader last %llu commit %llu",
				 f, ticks, (unsigned long long)fst.last_index,
				 (unsigned long long)fst.commit,
				 (unsigned long long)c->nodes[f].applied,
				 (unsigned long long)lst.last_index, (unsigned long long)lst.commit);
		deliveries += tick_counted(c);
		ticks++;
	}
	if (deliveries > MAX_RECOVERY_DELIVERIES)
		fail_msg("repair took %zu deliveries", deliveries);
	assert_logs_equal(c, (size_t)l, f);
	assert_int_equal(h_status(c, f).term, before.term);
	assert_int_equal(h_status(c, f).leader, c->ids[l]);
	/* the leader's view of f is right again */
	raft_status lst = h_status(c, (size_t)l);
	for (size_t i = 0; i < lst.n_peers; i++)
		if (lst.peers[i].id == c->ids[f])
			assert_int_equal(lst.peers[i].match, lst.last_index);
}

/* A wiped follower (term 0, empty log) gets the whole log back from
 * heartbeats alone, and applies the committed entries again. */
static void test_wiped_follower_heartbeats_only(void **state)
{
	(void)state;
	h_cluster c;
	int l = committed_cluster(&c, 20);
	size_t f = other_follower(l, SIZE_MAX);
	restart_with_shorter_log(&c, f, 0, true);
	assert_int_equal(c.nodes[f].applied, 0);
	expect_recovery(&c, l, f);
	assert_int_equal(c.nodes[f].applied, 21);
	/* the cluster goes on normally afterwards */
	h_propose(&c, (size_t)l, "after");
	h_settle(&c);
	h_tick(&c, 2);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(c.nodes[i].applied, 22);
		assert_logs_equal(&c, (size_t)l, i);
	}
	h_free(&c);
}

/* Larger than one APPEND batch (64 entries here): the repair streams in
 * several messages, still without any proposal to trigger it. */
static void test_wiped_follower_long_log(void **state)
{
	(void)state;
	h_cluster c;
	int l = committed_cluster(&c, 300);
	size_t f = other_follower(l, SIZE_MAX);
	restart_with_shorter_log(&c, f, 0, true);
	expect_recovery(&c, l, f);
	assert_int_equal(c.nodes[f].applied, 301);
	h_free(&c);
}

/* The wiped follower is needed for a quorum (the other follower is down):
 * once repaired, the cluster commits again. A proposal made right after the
 * wipe must not be stuck behind the stale match either. */
static void test_wiped_follower_needed_for_quorum(void **state)
{
	(void)state;
	h_cluster c;
	int l = committed_cluster(&c, 10);
	size_t f = other_follower(l, SIZE_MAX);
	size_t g = other_follower(l, f);
	h_crash(&c, g, false);
	restart_with_shorter_log(&c, f, 0, true);
	h_propose(&c, (size_t)l, "during-repair");
	h_settle(&c);
	int ticks = 0;
	while (c.nodes[f].applied < 12 || c.nodes[(size_t)l].applied < 12) {
		if (ticks >= MAX_RECOVERY_TICKS)
			fail_msg("no commit with the wiped follower after %d ticks (applied: "
				 "leader %llu, follower %llu)",
				 ticks, (unsigned long long)c.nodes[(size_t)l].applied,
				 (unsigned long long)c.nodes[f].applied);
		(void)tick_counted(&c);
		ticks++;
	}
	assert_int_equal(h_status(&c, (size_t)l).role, RAFT_LEADER);
	assert_logs_equal(&c, (size_t)l, f);
	/* the other follower comes back and catches up too */
	h_restart(&c, g);
	h_tick(&c, 4);
	assert_int_equal(c.nodes[g].applied, 12);
	assert_logs_equal(&c, (size_t)l, g);
	h_free(&c);
}

/* Both followers wiped, one after the other: the leader repairs each. */
static void test_both_followers_wiped(void **state)
{
	(void)state;
	h_cluster c;
	int l = committed_cluster(&c, 15);
	size_t f = other_follower(l, SIZE_MAX);
	size_t g = other_follower(l, f);
	restart_with_shorter_log(&c, f, 0, true);
	expect_recovery(&c, l, f);
	restart_with_shorter_log(&c, g, 0, true);
	expect_recovery(&c, l, g);
	h_free(&c);
}

/* A follower that restarts with only part of what it acknowledged (lost
 * unsynced writes), hard state kept: the leader resends the lost tail. */
static void test_follower_lost_tail(void **state)
{
	(void)state;
	h_cluster c;
	int l = committed_cluster(&c, 20);
	size_t f = other_follower(l, SIZE_MAX);
	uint64_t term = h_status(&c, f).term;
	restart_with_shorter_log(&c, f, 8, false);
	assert_int_equal(h_status(&c, f).term, term);
	/* it replays what it still has (commit clamped to its log) */
	h_process(&c, f);
	assert_int_equal(c.nodes[f].applied, 8);
	expect_recovery(&c, l, f);
	assert_int_equal(c.nodes[f].applied, 21);
	/* the resend starts where the surviving log ends, not from scratch */
	assert_int_equal(c.nodes[f].first_written_since_mark, 9);
	h_free(&c);
}

/* Lost a single entry: the smallest shrink is noticed too. */
static void test_follower_lost_last_entry(void **state)
{
	(void)state;
	h_cluster c;
	int l = committed_cluster(&c, 5);
	size_t f = other_follower(l, SIZE_MAX);
	restart_with_shorter_log(&c, f, 5, false);
	expect_recovery(&c, l, f);
	assert_int_equal(c.nodes[f].applied, 6);
	assert_int_equal(c.nodes[f].first_written_since_mark, 6);
	h_free(&c);
}

/* Lost the whole log but kept its hard state (term, vote, commit). */
static void test_follower_lost_log_kept_state(void **state)
{
	(void)state;
	h_cluster c;
	int l = committed_cluster(&c, 12);
	size_t f = other_follower(l, SIZE_MAX);
	restart_with_shorter_log(&c, f, 0, false);
	expect_recovery(&c, l, f);
	assert_int_equal(c.nodes[f].applied, 13);
	h_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wiped_follower_heartbeats_only),
		cmocka_unit_test(test_wiped_follower_long_log),
		cmocka_unit_test(test_wiped_follower_needed_for_quorum),
		cmocka_unit_test(test_both_followers_wiped),
		cmocka_unit_test(test_follower_lost_tail),
		cmocka_unit_test(test_follower_lost_last_entry),
		cmocka_unit_test(test_follower_lost_log_kept_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
