/*
 * test_runtime_incarnation.c — a node with an empty data dir takes
 * incarnation 0 (a voter of the bootstrap configuration) only on evidence
 * that the cluster is new, and a fresh one otherwise (rt_incarnation.h;
 * issue 10 item 1, issue 12 "A wiped node").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../node/runtime/rt_incarnation.h"
#include "../../node/runtime/rt_incarnation_file.h"

static const uint32_t three[] = {1, 2, 3};
static const uint32_t five[] = {1, 2, 3, 4, 5};

static raft_msg msg(uint8_t type, uint32_t from, uint64_t term, uint64_t index, uint64_t log_term)
{
	raft_msg m;
	memset(&m, 0, sizeof m);
	m.type = type;
	m.from = from;
	m.to = 1;
	m.term = term;
	m.index = index;
	m.log_term = log_term;
	return m;
}

/* A brand-new 3-node cluster: both others probe with empty logs. */
static void test_new_cluster_needs_both_others(void **state)
{
	(void)state;
	inc_probe p;
	inc_probe_init(&p, 1, three, 3);
	raft_msg a = msg(RAFT_MSG_PREVOTE, 2, 1, 0, 0);
	assert_int_equal(inc_probe_observe(&p, &a), INC_UNDECIDED);
	assert_int_equal(inc_probe_observe(&p, &a), INC_UNDECIDED); /* the same node twice is one */
	raft_msg b = msg(RAFT_MSG_PREVOTE, 3, 1, 0, 0);
	assert_int_equal(inc_probe_observe(&p, &b), INC_NEW_CLUSTER);
}

/* The issue-10 scenario: the wiped F1 hears F2, which holds the first
 * entries (or is past term 1): the cluster exists. */
static void test_wiped_node_sees_an_existing_cluster(void **state)
{
	(void)state;
	inc_probe p;
	inc_probe_init(&p, 1, three, 3);
	raft_msg f2 = msg(RAFT_MSG_PREVOTE, 2, 3, 1, 1);
	assert_int_equal(inc_probe_observe(&p, &f2), INC_EXISTS);
	/* decided: later evidence does not change it */
	raft_msg e = msg(RAFT_MSG_PREVOTE, 3, 1, 0, 0);
	assert_int_equal(inc_probe_observe(&p, &e), INC_EXISTS);

	inc_probe_init(&p, 1, three, 3);
	raft_msg hb = msg(RAFT_MSG_HEARTBEAT, 2, 1, 0, 0);
	assert_int_equal(inc_probe_observe(&p, &hb), INC_EXISTS);
	inc_probe_init(&p, 1, three, 3);
	raft_msg late = msg(RAFT_MSG_VOTE, 3, 2, 0, 0); /* an empty log but past term 1 */
	assert_int_equal(inc_probe_observe(&p, &late), INC_EXISTS);
}

/* The wiped node never counts itself: one empty other of two is not
 * enough (that other may have missed everything the leader committed with
 * the wiped node's old life). */
static void test_one_empty_other_is_not_enough(void **state)
{
	(void)state;
	inc_probe p;
	inc_probe_init(&p, 1, three, 3);
	raft_msg f2 = msg(RAFT_MSG_PREVOTE, 2, 1, 0, 0);
	assert_int_equal(inc_probe_observe(&p, &f2), INC_UNDECIDED);
	/* answers at term <= 1 prove nothing either way */
	raft_msg r = msg(RAFT_MSG_PREVOTE_RESP, 3, 1, 0, 0);
	assert_int_equal(inc_probe_observe(&p, &r), INC_UNDECIDED);
	/* a non-member's probe does not count */
	raft_msg x = msg(RAFT_MSG_PREVOTE, 9, 1, 0, 0);
	assert_int_equal(inc_probe_observe(&p, &x), INC_UNDECIDED);

	inc_probe_init(&p, 1, five, 5); /* five: three of the four others */
	for (uint32_t id = 2; id <= 3; id++) {
		raft_msg m = msg(RAFT_MSG_VOTE, id, 1, 0, 0);
		assert_int_equal(inc_probe_observe(&p, &m), INC_UNDECIDED);
	}
	raft_msg m4 = msg(RAFT_MSG_PREVOTE, 4, 1, 0, 0);
	assert_int_equal(inc_probe_observe(&p, &m4), INC_NEW_CLUSTER);
}

static void test_single_node_is_new_at_once(void **state)
{
	(void)state;
	inc_probe p;
	const uint32_t one[] = {1};
	inc_probe_init(&p, 1, one, 1);
	assert_int_equal(inc_probe_verdict(&p), INC_NEW_CLUSTER);
}

static void test_fresh_is_never_zero_and_differs(void **state)
{
	(void)state;
	uint64_t a = inc_fresh(), b = inc_fresh();
	assert_true(a != 0 && b != 0);
	assert_true(a != b);
}

static void test_file_round_trip_and_damage(void **state)
{
	(void)state;
	char dir[] = "/tmp/raftkv-test-inc-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char err[512];
	bool found = true;
	uint64_t inc = 7;
	assert_int_equal(inc_file_load(dir, &found, &inc, err, sizeof err), 0);
	assert_false(found);
	assert_int_equal(inc_file_store(dir, 18446744073709551615ULL, err, sizeof err), 0);
	assert_int_equal(inc_file_load(dir, &found, &inc, err, sizeof err), 0);
	assert_true(found);
	assert_true(inc == 18446744073709551615ULL);
	char path[128];
	snprintf(path, sizeof path, "%s/INCARNATION", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("-3\n", f);
	fclose(f);
	assert_int_equal(inc_file_load(dir, &found, &inc, err, sizeof err), -1);
	assert_non_null(strstr(err, "damaged"));
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_cluster_needs_both_others),
		cmocka_unit_test(test_wiped_node_sees_an_existing_cluster),
		cmocka_unit_test(test_one_empty_other_is_not_enough),
		cmocka_unit_test(test_single_node_is_new_at_once),
		cmocka_unit_test(test_fresh_is_never_zero_and_differs),
		cmocka_unit_test(test_file_round_trip_and_damage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
