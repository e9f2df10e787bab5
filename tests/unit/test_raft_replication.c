/*
 * test_raft_replication.c — log replication, conflict repair, the commit
 * rule, batching/pipelining, forwarding, restart.
 */
#include "test_raft_harness.h"

static uint8_t h_status_role(const raft *r)
{
	raft_status st;
	raft_get_status(r, &st);
	return st.role;
}

static void assert_logs_equal(const h_cluster *c, size_t a, size_t b)
{
	const h_node *x = &c->nodes[a], *y = &c->nodes[b];
	assert_int_equal(x->n_disk, y->n_disk);
	for (size_t k = 0; k < x->n_disk; k++) {
		assert_int_equal(x->disk[k].index, y->disk[k].index);
		assert_int_equal(x->disk[k].term, y->disk[k].term);
		assert_int_equal(x->disk[k].len, y->disk[k].len);
		if (x->disk[k].len)
			assert_memory_equal(x->disk[k].data, y->disk[k].data, x->disk[k].len);
	}
}

/* Entries proposed on the leader reach every node, committed, in order. */
static void test_replicates_and_commits(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	int l = h_elect(&c);
	for (int k = 0; k < 10; k++)
		h_propose(&c, (size_t)l, "v");
	h_settle(&c);
	h_tick(&c, 2); /* heartbeats carry the final commit */
	raft_status st = h_status(&c, (size_t)l);
	assert_int_equal(st.commit, st.last_index);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(c.nodes[i].applied, st.last_index);
		assert_logs_equal(&c, (size_t)l, i);
	}
	h_free(&c);
}

/* Divergent follower logs (Figure 7 style) are repaired: the conflicting
 * suffix is cut, and the replacement is handed out in ready.entries starting
 * at the first replaced index. The conflict hints skip whole terms. */
static void test_conflict_repair(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	const uint64_t lead[] = {1, 1, 3, 3, 3};
	const uint64_t stale[] = {1, 1, 2, 2, 2, 2, 2, 2, 2, 2}; /* longer, older */
	const uint64_t shortl[] = {1};
	h_preload(&c, 0, 3, lead, 5, 2);
	h_preload(&c, 1, 2, stale, 10, 2);
	h_preload(&c, 2, 1, shortl, 1, 1);
	raft_campaign(c.nodes[0].r);
	h_settle(&c);
	assert_int_equal(h_status(&c, 0).role, RAFT_LEADER);
	h_tick(&c, 3);
	assert_int_equal(c.nodes[1].first_written_since_mark, 3);
	assert_logs_equal(&c, 0, 1);
	assert_logs_equal(&c, 0, 2);
	assert_int_equal(h_status(&c, 1).last_index, 6); /* 5 + the no-op of term 4 */
	assert_int_equal(h_status(&c, 1).commit, 6);
	/* one round trip per conflicting term, not one per entry */
	assert_true(c.rejects <= 3);
	h_free(&c);
}

/* Figure 8 / §5.4.2: a new leader does not commit an entry of an earlier
 * term because a majority stores it; only an entry of its own term commits
 * (and with it everything before). */
static void test_no_commit_of_old_term_by_counting(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	const uint64_t terms[] = {1, 2};
	h_preload(&c, 0, 2, terms, 2, 1);
	h_preload(&c, 1, 2, terms, 2, 1);
	/* node 1 (slot 0) becomes leader of term 3 on node 2's vote */
	raft_campaign(c.nodes[0].r);
	h_process(&c, 0);
	for (int guard = 0; h_status(&c, 0).role != RAFT_LEADER && guard < 100; guard++) {
		assert_true(h_deliver_one(&c));
	}
	assert_int_equal(h_status(&c, 0).role, RAFT_LEADER);
	assert_int_equal(h_status(&c, 0).term, 3);
	h_process(&c, 0);
	h_drop_all(&c); /* the no-op's APPENDs are lost */
	/* node 2 acknowledges index 2 (it has it) but not the no-op */
	raft_msg ack;
	memset(&ack, 0, sizeof(ack));
	ack.type = RAFT_MSG_APPEND_RESP;
	ack.from = 2;
	ack.to = 1;
	ack.term = 3;
	ack.index = 2;
	assert_int_equal(raft_step(c.nodes[0].r, &ack), RAFT_OK);
	h_process(&c, 0);
	assert_int_equal(h_status(&c, 0).commit, 1);
	assert_int_equal(c.nodes[0].applied, 1);
	/* the no-op of term 3 reaches node 2: now 2 and 3 commit together */
	ack.index = 3;
	assert_int_equal(raft_step(c.nodes[0].r, &ack), RAFT_OK);
	h_process(&c, 0);
	assert_int_equal(h_status(&c, 0).commit, 3);
	assert_int_equal(c.nodes[0].applied, 3);
	h_free(&c);
}

static bool drop_append_resps(h_cluster *c, const raft_msg *m)
{
	(void)c;
	return m->type != RAFT_MSG_APPEND_RESP;
}

/* Batching and pipelining: 100 proposals made between two readies go out as
 * APPENDs of max_msg_entries each, max_inflight of them before any answer. */
static void test_batching_and_pipelining(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	int l = h_elect(&c);
	h_tick(&c, 2);
	/* acks held back: the window alone bounds what is sent */
	c.filter = drop_append_resps;
	memset(c.sent_by_type, 0, sizeof(c.sent_by_type));
	c.max_append_entries = 0;
	for (int k = 0; k < 1000; k++)
		h_propose(&c, (size_t)l, "payload");
	h_settle(&c);
	/* default config of the harness: 64 entries per APPEND, 8 in flight */
	assert_int_equal(c.max_append_entries, 64);
	assert_int_equal(c.sent_by_type[RAFT_MSG_APPEND], 2 * 8);
	assert_int_equal(h_status(&c, (size_t)l).commit, h_status(&c, (size_t)l).last_index - 1000);
	/* with acks flowing, everything commits */
	c.filter = NULL;
	h_tick(&c, 20);
	raft_status st = h_status(&c, (size_t)l);
	assert_int_equal(st.commit, st.last_index);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(c.nodes[i].applied, st.last_index);
	h_free(&c);
}

static void small_bytes(raft_config *cfg, size_t i)
{
	(void)i;
	cfg->max_msg_bytes = 10;
}

/* max_msg_bytes bounds an APPEND's payload, but one oversized entry still
 * goes out alone. */
static void test_batch_bytes_bound(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, small_bytes);
	int l = h_elect(&c);
	h_tick(&c, 2);
	c.max_append_entries = 0;
	for (int k = 0; k < 10; k++)
		h_propose(&c, (size_t)l, "abcd");
	h_propose(&c, (size_t)l, "a value longer than ten bytes");
	h_settle(&c);
	h_tick(&c, 2);
	assert_int_equal(c.max_append_entries, 2);
	raft_status st = h_status(&c, (size_t)l);
	assert_int_equal(st.commit, st.last_index);
	h_free(&c);
}

/* A follower forwards its proposals to the leader, coalesced per ready. */
static void test_forwarding(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	int l = h_elect(&c);
	size_t f = ((size_t)l + 1) % 3;
	memset(c.sent_by_type, 0, sizeof(c.sent_by_type));
	uint64_t idx = 99;
	for (int k = 0; k < 5; k++) {
		assert_int_equal(raft_propose(c.nodes[f].r, "fw", 2, &idx), RAFT_OK);
		assert_int_equal(idx, 0);
	}
	h_settle(&c);
	h_tick(&c, 2);
	assert_int_equal(c.sent_by_type[RAFT_MSG_PROPOSE], 1);
	raft_status st = h_status(&c, (size_t)l);
	assert_int_equal(st.commit, st.last_index);
	assert_int_equal(c.nodes[f].applied, st.last_index);
	assert_int_equal(c.nodes[f].disk[st.last_index - 1].len, 2);
	assert_memory_equal(c.nodes[f].disk[st.last_index - 1].data, "fw", 2);
	h_free(&c);
}

/* Restart: term, vote and log come back through raft_load, committed
 * entries are applied again, and the cluster carries on. */
static void test_restart(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, NULL);
	int l = h_elect(&c);
	for (int k = 0; k < 5; k++)
		h_propose(&c, (size_t)l, "r");
	h_settle(&c);
	h_tick(&c, 2);
	raft_status before = h_status(&c, (size_t)l);
	for (size_t i = 0; i < 3; i++)
		h_restart(&c, i);
	for (size_t i = 0; i < 3; i++) {
		raft_status st = h_status(&c, i);
		assert_int_equal(st.term, before.term);
		assert_int_equal(st.last_index, before.last_index);
		assert_int_equal(st.role, RAFT_FOLLOWER);
	}
	/* the restarted leader remembers its own vote */
	assert_int_equal(h_status(&c, (size_t)l).vote, c.ids[l]);
	int l2 = h_elect(&c);
	h_propose(&c, (size_t)l2, "after");
	h_settle(&c);
	h_tick(&c, 2);
	raft_status st = h_status(&c, (size_t)l2);
	assert_true(st.term > before.term);
	assert_int_equal(st.commit, st.last_index);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(c.nodes[i].applied, st.last_index);
	h_free(&c);
}

/* raft_load refuses inconsistent logs. */
static void test_load_validation(void **state)
{
	(void)state;
	uint32_t ids[] = {1};
	raft_config cfg;
	raft_config_defaults(&cfg);
	cfg.id = 1;
	cfg.voters = ids;
	cfg.n_voters = 1;
	raft *r = raft_new(&cfg);
	assert_non_null(r);
	raft_entry e[2] = {{.term = 2, .index = 6}, {.term = 1, .index = 7}};
	raft_hard_state hs = {.term = 2, .vote = RAFT_NONE, .commit = 100};
	assert_int_equal(raft_load(r, &hs, 5, 1, e, 2), RAFT_EINVAL); /* term goes down */
	e[1].term = 2;
	e[1].index = 8;
	assert_int_equal(raft_load(r, &hs, 5, 1, e, 2), RAFT_EINVAL); /* gap */
	e[1].index = 7;
	assert_int_equal(raft_load(r, &hs, 5, 1, e, 2), RAFT_OK);
	raft_status st;
	raft_get_status(r, &st);
	assert_int_equal(st.first_index, 6);
	assert_int_equal(st.last_index, 7);
	assert_int_equal(st.commit, 7); /* clamped */
	/* a compacted single node still elects itself and commits */
	raft_campaign(r);
	raft_ready rd;
	raft_get_ready(r, &rd);
	assert_int_equal(rd.n_entries, 1);
	assert_int_equal(rd.entries[0].index, 8);
	/* entries 6..7 were committed before the restart: applied again */
	assert_int_equal(rd.n_committed, 2);
	assert_int_equal(rd.committed[0].index, 6);
	raft_advance(r, &rd);
	raft_persisted(r, 8, 3);
	raft_get_status(r, &st);
	assert_int_equal(st.commit, 8);
	raft_free(r);
}

static raft_msg mk(uint8_t type, uint32_t from, uint32_t to, uint64_t term)
{
	raft_msg m;
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.from = from;
	m.to = to;
	m.term = term;
	return m;
}

static void run_ready(raft *r, uint64_t *last_index, uint64_t *last_term)
{
	raft_ready rd;
	raft_get_ready(r, &rd);
	if (rd.n_entries > 0) {
		*last_index = rd.entries[rd.n_entries - 1].index;
		*last_term = rd.entries[rd.n_entries - 1].term;
	}
	raft_advance(r, &rd);
}

/* A follower's truncation invalidates a persistence report for the entries
 * it removed: when the old batch is reported durable, only the part still in
 * the log counts (here: nothing beyond index 1). Seen through the node's own
 * match once it leads. */
static void test_persisted_after_truncation(void **state)
{
	(void)state;
	uint32_t ids[] = {1, 2, 3};
	raft_config cfg;
	raft_config_defaults(&cfg);
	cfg.id = 2;
	cfg.voters = ids;
	cfg.n_voters = 3;
	raft *r = raft_new(&cfg);
	assert_non_null(r);
	uint64_t li = 0, lt = 0;
	/* leader 1 of term 2 sends entries 1..3 of term 2: batch A */
	raft_entry a[3] = {{.term = 2, .index = 1}, {.term = 2, .index = 2}, {.term = 2, .index = 3}};
	raft_msg m = mk(RAFT_MSG_APPEND, 1, 2, 2);
	m.n_entries = 3;
	m.entries = a;
	assert_int_equal(raft_step(r, &m), RAFT_OK);
	run_ready(r, &li, &lt);
	assert_int_equal(li, 3);
	/* leader 3 of term 3 replaces 2..3 with one entry of term 3: batch B */
	raft_entry b = {.term = 3, .index = 2};
	m = mk(RAFT_MSG_APPEND, 3, 2, 3);
	m.index = 1;
	m.log_term = 2;
	m.n_entries = 1;
	m.entries = &b;
	assert_int_equal(raft_step(r, &m), RAFT_OK);
	raft_ready rd;
	raft_get_ready(r, &rd);
	assert_int_equal(rd.n_entries, 1);
	assert_int_equal(rd.entries[0].index, 2); /* the replaced suffix */
	assert_int_equal(rd.entries[0].term, 3);
	raft_advance(r, &rd);
	/* batch A becomes durable: only index 1 of it is still ours */
	raft_persisted(r, 3, 2);
	/* node 2 now wins an election (pre-vote, then vote) */
	for (int k = 0; k < 30 && h_status_role(r) == RAFT_FOLLOWER; k++)
		raft_tick(r);
	run_ready(r, &li, &lt);
	m = mk(RAFT_MSG_PREVOTE_RESP, 1, 2, 4);
	assert_int_equal(raft_step(r, &m), RAFT_OK);
	m = mk(RAFT_MSG_VOTE_RESP, 1, 2, 4);
	assert_int_equal(raft_step(r, &m), RAFT_OK);
	raft_status st;
	raft_get_status(r, &st);
	assert_int_equal(st.role, RAFT_LEADER);
	assert_int_equal(st.peers[1].match, 1);
	run_ready(r, &li, &lt);
	assert_int_equal(li, 3); /* the no-op */
	raft_persisted(r, 2, 3);
	raft_get_status(r, &st);
	assert_int_equal(st.peers[1].match, 2);
	raft_persisted(r, 3, 4);
	raft_get_status(r, &st);
	assert_int_equal(st.peers[1].match, 3);
	raft_free(r);
}

static void tiny_queue(raft_config *cfg, size_t i)
{
	(void)i;
	cfg->max_pending_proposals = 4;
}

/* Flow control: a leader that cannot commit stops taking proposals at
 * max_pending_proposals uncommitted entries (EBUSY = not proposed), and so
 * does a follower's forward queue; both recover once things move. */
static void test_pending_limit(void **state)
{
	(void)state;
	h_cluster c;
	h_init(&c, 3, tiny_queue);
	int l = h_elect(&c);
	h_tick(&c, 2);
	size_t f = ((size_t)l + 1) % 3;
	uint64_t idx;
	for (int k = 0; k < 4; k++)
		assert_int_equal(raft_propose(c.nodes[f].r, "q", 1, &idx), RAFT_OK);
	assert_int_equal(raft_propose(c.nodes[f].r, "q", 1, &idx), RAFT_EBUSY);
	h_isolate(&c, (size_t)l, true);
	for (int k = 0; k < 4; k++)
		assert_int_equal(raft_propose(c.nodes[l].r, "p", 1, &idx), RAFT_OK);
	assert_int_equal(raft_propose(c.nodes[l].r, "p", 1, &idx), RAFT_EBUSY);
	h_settle(&c);
	h_isolate(&c, (size_t)l, false);
	h_tick(&c, 3);
	assert_int_equal(raft_propose(c.nodes[l].r, "p", 1, &idx), RAFT_OK);
	assert_int_equal(raft_propose(c.nodes[f].r, "q", 1, &idx), RAFT_OK);
	h_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replicates_and_commits),
		cmocka_unit_test(test_conflict_repair),
		cmocka_unit_test(test_no_commit_of_old_term_by_counting),
		cmocka_unit_test(test_batching_and_pipelining),
		cmocka_unit_test(test_batch_bytes_bound),
		cmocka_unit_test(test_forwarding),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_load_validation),
		cmocka_unit_test(test_persisted_after_truncation),
		cmocka_unit_test(test_pending_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
