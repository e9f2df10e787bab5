/*
 * test_raft_snapshot.c — log compaction and InstallSnapshot in the core:
 * compaction moves the first index and only within what is applied and
 * handed out; a follower that needs compacted entries is sent a snapshot
 * (and nothing else meanwhile) while the other followers keep replicating;
 * the install resets a conflicting log; a follower that already holds the
 * snapshot's entry keeps its log; a stale snapshot changes nothing; a failed
 * stream sends the follower back to probe and the snapshot again; a restart
 * from a compacted disk catches up. The harness checks State Machine Safety
 * on every applied entry throughout.
 */
#include <stdio.h>

#include "test_raft_harness.h"

/* The runtime's compaction: the core drops the log up to index, and the
 * disk (WAL) drops the same entries; callers compact right after a persist. */
static void s_compact(h_cluster *c, size_t i, uint64_t index)
{
	h_node *nd = &c->nodes[i];
	assert_int_equal(raft_compact(nd->r, index), RAFT_OK);
	assert_true(index > nd->snap_index && index <= nd->snap_index + nd->n_sdisk);
	assert_int_equal(nd->n_sdisk, nd->n_disk);
	size_t k = (size_t)(index - nd->snap_index);
	nd->snap_term = nd->disk[k - 1].term;
	for (size_t j = 0; j < k; j++) {
		free(nd->disk[j].data);
		free(nd->sdisk[j].data);
	}
	memmove(nd->disk, nd->disk + k, (nd->n_disk - k) * sizeof(raft_entry));
	memmove(nd->sdisk, nd->sdisk + k, (nd->n_sdisk - k) * sizeof(raft_entry));
	nd->n_disk -= k;
	nd->n_sdisk -= k;
	nd->snap_index = index;
}

static void propose_n(h_cluster *c, size_t leader, int n)
{
	char buf[32];
	for (int k = 0; k < n; k++) {
		snprintf(buf, sizeof buf, "cmd-%d", k);
		h_propose(c, leader, buf);
		h_settle(c);
	}
}

static void test_compact_moves_first_index(void **state)
{
	(void)state;
	h_cluster c;
	int l = h_cluster_up(&c, 3, NULL);
	propose_n(&c, (size_t)l, 40);
	raft_status st = h_status(&c, (size_t)l);
	assert_true(st.applied >= 41);
	assert_int_equal(st.first_index, 1);
	s_compact(&c, (size_t)l, 30);
	st = h_status(&c, (size_t)l);
	assert_int_equal(st.first_index, 31);
	/* Not past what the state machine holds, nor back. */
	assert_int_equal(raft_compact(c.nodes[l].r, st.applied + 1), RAFT_EINVAL);
	assert_int_equal(raft_compact(c.nodes[l].r, 10), RAFT_OK);
	assert_int_equal(h_status(&c, (size_t)l).first_index, 31);
	/* Followers that are up to date never need a snapshot. */
	propose_n(&c, (size_t)l, 10);
	assert_int_equal(c.sent_by_type[RAFT_MSG_SNAPSHOT], 0);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(c.nodes[i].applied, h_status(&c, (size_t)l).commit);
	h_free(&c);
}

/* A 3-node cluster whose node `lag` is cut off while the others write and
 * compact past it; returns the leader. */
static size_t behind_by_compaction(h_cluster *c, size_t *lag_out, int writes, uint64_t compact_at)
{
	int l = h_cluster_up(c, 3, NULL);
	size_t lag = ((size_t)l + 1) % 3;
	propose_n(c, (size_t)l, 5);
	h_isolate(c, lag, true);
	propose_n(c, (size_t)l, writes);
	for (size_t i = 0; i < 3; i++)
		if (i != lag)
			s_compact(c, i, compact_at);
	*lag_out = lag;
	return (size_t)l;
}

static void test_lagging_follower_gets_snapshot(void **state)
{
	(void)state;
	h_cluster c;
	size_t lag;
	size_t l = behind_by_compaction(&c, &lag, 60, 50);
	size_t other = 3 - l - lag;
	size_t before = c.sent_by_type[RAFT_MSG_SNAPSHOT];
	h_isolate(&c, lag, false);
	h_tick(&c, 4);
	assert_true(c.sent_by_type[RAFT_MSG_SNAPSHOT] > before);
	/* Installed at the leader's compaction point, then the rest by APPEND. */
	assert_true(c.nodes[lag].snap_index >= 50);
	uint64_t commit = h_status(&c, l).commit;
	assert_int_equal(c.nodes[lag].applied, commit);
	assert_int_equal(c.nodes[other].applied, commit);
	raft_status fs = h_status(&c, lag);
	assert_int_equal(fs.first_index, c.nodes[lag].snap_index + 1);
	assert_int_equal(fs.last_index, h_status(&c, l).last_index);
	/* Replication goes on normally afterwards, without more snapshots. */
	size_t sent = c.sent_by_type[RAFT_MSG_SNAPSHOT];
	propose_n(&c, l, 10);
	assert_int_equal(c.sent_by_type[RAFT_MSG_SNAPSHOT], sent);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(c.nodes[i].applied, h_status(&c, l).commit);
	h_free(&c);
}

/* While a snapshot is on its way (the stream not yet finished: the message
 * is held back), the leader sends that follower nothing else and keeps
 * replicating to the others. */
static raft_msg held_snap;
static bool have_held;
static bool hold_snapshots(h_cluster *c, const raft_msg *m)
{
	(void)c;
	if (m->type == RAFT_MSG_SNAPSHOT) {
		held_snap = *m;
		have_held = true;
		return false;
	}
	return true;
}

static void test_others_replicate_while_snapshot_pending(void **state)
{
	(void)state;
	h_cluster c;
	size_t lag;
	size_t l = behind_by_compaction(&c, &lag, 60, 50);
	size_t other = 3 - l - lag;
	h_isolate(&c, lag, false);
	c.filter = hold_snapshots;
	have_held = false;
	/* Deliver by hand so the lost stream is not reported as failed. */
	h_node *ln = &c.nodes[l];
	for (int t = 0; t < 4 && !have_held; t++) {
		raft_tick(ln->r);
		h_process_all(&c);
		while (c.net.len > 0) {
			raft_msg m = c.net.m[c.net.head];
			c.net.head = (c.net.head + 1) % c.net.cap;
			c.net.len--;
			size_t to = h_slot(&c, m.to);
			if (hold_snapshots(&c, &m)) {
				(void)raft_step(c.nodes[to].r, &m);
				h_process(&c, to);
			}
			h_msg_free(&m);
		}
	}
	assert_true(have_held);
	assert_int_equal(held_snap.to, c.ids[lag]);
	assert_true(held_snap.index >= 50);
	c.filter = NULL;
	size_t appends_before = c.sent_by_type[RAFT_MSG_APPEND];
	uint64_t lag_applied = c.nodes[lag].applied;
	/* More writes: the other follower gets them, the lagging one nothing
	 * (its heartbeats carry no entries), and no second snapshot goes out. */
	size_t snaps = c.sent_by_type[RAFT_MSG_SNAPSHOT];
	for (int k = 0; k < 10; k++) {
		h_propose(&c, l, "during");
		h_process_all(&c);
		while (c.net.len > 0) {
			raft_msg m = c.net.m[c.net.head];
			c.net.head = (c.net.head + 1) % c.net.cap;
			c.net.len--;
			size_t to = h_slot(&c, m.to);
			if (!(m.type == RAFT_MSG_APPEND && to == lag)) {
				(void)raft_step(c.nodes[to].r, &m);
				h_process(&c, to);
			} else {
				fail_msg("an APPEND went to a follower waiting for a snapshot");
			}
			h_msg_free(&m);
		}
	}
	assert_true(c.sent_by_type[RAFT_MSG_APPEND] > appends_before);
	assert_int_equal(c.sent_by_type[RAFT_MSG_SNAPSHOT], snaps);
	assert_int_equal(c.nodes[other].applied, h_status(&c, l).commit);
	assert_int_equal(c.nodes[lag].applied, lag_applied);
	/* The stream finishes: the follower installs and catches up. */
	assert_int_equal(raft_step(c.nodes[lag].r, &held_snap), RAFT_OK);
	h_process(&c, lag);
	raft_report_snapshot(ln->r, held_snap.to, true);
	h_settle(&c);
	h_tick(&c, 2);
	assert_int_equal(c.nodes[lag].applied, h_status(&c, l).commit);
	h_free(&c);
}

/* A lost stream: back to probe, and the snapshot is asked for again. */
static int drop_snaps;
static bool drop_first_snapshots(h_cluster *c, const raft_msg *m)
{
	(void)c;
	if (m->type == RAFT_MSG_SNAPSHOT && drop_snaps > 0) {
		drop_snaps--;
		return false;
	}
	return true;
}

static void test_failed_stream_is_retried(void **state)
{
	(void)state;
	h_cluster c;
	size_t lag;
	size_t l = behind_by_compaction(&c, &lag, 60, 50);
	c.filter = drop_first_snapshots;
	drop_snaps = 2;
	size_t before = c.sent_by_type[RAFT_MSG_SNAPSHOT];
	h_isolate(&c, lag, false);
	h_tick(&c, 8);
	assert_int_equal(drop_snaps, 0);
	assert_true(c.sent_by_type[RAFT_MSG_SNAPSHOT] >= before + 3);
	assert_int_equal(c.nodes[lag].applied, h_status(&c, l).commit);
	h_free(&c);
}

/* Node 0 leads term T with entries nobody else got; the others move on,
 * commit and compact past them. Coming back, node 0 installs the snapshot:
 * its conflicting entries are gone, and it applies only what was committed. */
static void test_snapshot_replaces_conflicting_log(void **state)
{
	(void)state;
	h_cluster c;
	int l = h_cluster_up(&c, 3, NULL);
	propose_n(&c, (size_t)l, 5);
	size_t old = (size_t)l;
	h_isolate(&c, old, true);
	for (int k = 0; k < 20; k++) {
		h_propose(&c, old, "doomed");
		h_settle(&c);
	}
	uint64_t old_last = h_status(&c, old).last_index;
	for (int t = 0; t < 100 && (h_leader(&c) < 0 || (size_t)h_leader(&c) == old); t++)
		h_tick(&c, 1);
	int nl = h_leader(&c);
	assert_true(nl >= 0 && (size_t)nl != old);
	propose_n(&c, (size_t)nl, 40);
	uint64_t cut = h_status(&c, (size_t)nl).applied - 5;
	for (size_t i = 0; i < 3; i++)
		if (i != old)
			s_compact(&c, i, cut);
	assert_true(cut > old_last - 20); /* the snapshot covers indexes of the doomed entries */
	h_isolate(&c, old, false);
	h_tick(&c, 10);
	assert_int_equal(c.nodes[old].snap_index, cut);
	uint64_t commit = h_status(&c, (size_t)nl).commit;
	assert_int_equal(c.nodes[old].applied, commit);
	assert_int_equal(h_status(&c, old).last_index, h_status(&c, (size_t)nl).last_index);
	assert_int_equal(h_last_disk_term(&c.nodes[old]), h_status(&c, (size_t)nl).last_term);
	h_free(&c);
}

/* A SNAPSHOT whose entry the follower already holds: the log stays, the
 * commit moves, the acknowledgement names the snapshot index. One that is
 * already covered by the commit changes nothing. */
static void test_snapshot_already_held_or_stale(void **state)
{
	(void)state;
	h_cluster c;
	int l = h_cluster_up(&c, 3, NULL);
	propose_n(&c, (size_t)l, 10);
	size_t f = ((size_t)l + 1) % 3;
	h_node *fn = &c.nodes[f];
	raft_status st = h_status(&c, f);
	uint64_t t = st.term;
	/* stale: at or below the follower's commit */
	raft_msg m = {.type = RAFT_MSG_SNAPSHOT, .from = c.ids[l], .to = c.ids[f], .term = t,
		      .index = st.commit - 2, .log_term = t};
	assert_int_equal(raft_step(fn->r, &m), RAFT_OK);
	raft_ready rd;
	assert_true(raft_has_ready(fn->r));
	raft_get_ready(fn->r, &rd);
	assert_false(rd.install);
	assert_int_equal(rd.n_msgs, 1);
	assert_int_equal(rd.msgs[0].type, RAFT_MSG_APPEND_RESP);
	assert_false(rd.msgs[0].reject);
	assert_int_equal(rd.msgs[0].index, st.commit);
	raft_advance(fn->r, &rd);

	/* held: give the follower entries it does not know committed yet */
	h_isolate(&c, f, true);
	size_t third = 3 - (size_t)l - f;
	(void)third;
	h_propose(&c, (size_t)l, "x1");
	h_propose(&c, (size_t)l, "x2");
	h_settle(&c);
	h_isolate(&c, f, false);
	/* deliver the APPEND only, not the commit update */
	raft_status ls = h_status(&c, (size_t)l);
	uint64_t last = ls.last_index;
	raft_entry e[2];
	for (int k = 0; k < 2; k++) {
		e[k] = (raft_entry){.term = t, .index = last - 1 + (uint64_t)k, .type = RAFT_ENTRY_NORMAL,
				    .len = 2, .data = (uint8_t *)"xx"};
	}
	raft_msg app = {.type = RAFT_MSG_APPEND, .from = c.ids[l], .to = c.ids[f], .term = t,
			.index = last - 2, .log_term = t, .commit = st.commit, .n_entries = 2, .entries = e};
	assert_int_equal(raft_step(fn->r, &app), RAFT_OK);
	h_process(&c, f);
	h_drop_all(&c);
	uint64_t flen = h_status(&c, f).last_index;
	assert_int_equal(flen, last);
	m.index = last - 1;
	m.log_term = t;
	assert_int_equal(raft_step(fn->r, &m), RAFT_OK);
	raft_get_ready(fn->r, &rd);
	assert_false(rd.install);
	bool acked = false;
	for (size_t k = 0; k < rd.n_msgs; k++)
		if (rd.msgs[k].type == RAFT_MSG_APPEND_RESP && rd.msgs[k].index == last - 1)
			acked = true;
	assert_true(acked);
	raft_advance(fn->r, &rd);
	st = h_status(&c, f);
	assert_int_equal(st.commit, last - 1);
	assert_int_equal(st.last_index, last); /* the log was kept */
	assert_int_equal(st.first_index, 1);
	h_free(&c);
}

/* A node restarted from a compacted disk (snapshot + log after it) catches
 * up and keeps applying in order. */
static void test_restart_from_compacted_disk(void **state)
{
	(void)state;
	h_cluster c;
	int l = h_cluster_up(&c, 3, NULL);
	propose_n(&c, (size_t)l, 30);
	for (size_t i = 0; i < 3; i++)
		s_compact(&c, i, 20);
	size_t f = ((size_t)l + 2) % 3;
	h_crash(&c, f, false);
	propose_n(&c, (size_t)l, 10);
	h_restart(&c, f);
	h_tick(&c, 5);
	raft_status st = h_status(&c, f);
	assert_int_equal(st.first_index, 21);
	assert_int_equal(c.nodes[f].applied, h_status(&c, (size_t)l).commit);
	/* A leader restarted from its compacted disk still serves. */
	h_crash(&c, (size_t)l, false);
	h_restart(&c, (size_t)l);
	int nl = h_elect(&c);
	propose_n(&c, (size_t)nl, 5);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(c.nodes[i].applied, h_status(&c, (size_t)nl).commit);
	h_free(&c);
}

/* Randomized: proposals, message loss, partitions, compactions at random
 * points on random nodes, crashes and restarts from compacted disks. The
 * harness checks State Machine Safety on every apply; at the end, with the
 * network healed, every node must catch up (through snapshots where needed). */
static uint64_t rnd_state;
static uint64_t rnd(void)
{
	rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
	return rnd_state >> 33;
}

static int loss_pct;
static bool lossy(h_cluster *c, const raft_msg *m)
{
	(void)c;
	(void)m;
	return (int)(rnd() % 100) >= loss_pct;
}

static void run_random(uint64_t seed, size_t n, int *compactions, size_t *installs)
{
	rnd_state = seed;
	h_cluster c;
	h_init(&c, n, NULL);
	c.filter = lossy;
	char buf[32];
	int snapshots = 0;
	for (int step = 0; step < 400; step++) {
		loss_pct = (int)(rnd() % 3 == 0 ? 20 : 0);
		int l = h_leader(&c);
		switch (rnd() % 8) {
		case 0:
		case 1:
		case 2:
			if (l >= 0) {
				uint64_t idx;
				snprintf(buf, sizeof buf, "s%llu-%d", (unsigned long long)seed, step);
				(void)raft_propose(c.nodes[l].r, buf, strlen(buf), &idx);
			}
			h_settle(&c);
			break;
		case 3: {
			size_t i = rnd() % n;
			h_isolate(&c, i, rnd() % 2 == 0);
			break;
		}
		case 4: {
			size_t i = rnd() % n;
			h_node *nd = &c.nodes[i];
			if (!nd->up)
				break;
			h_settle(&c);
			uint64_t applied = h_status(&c, i).applied;
			uint64_t top = nd->snap_index + nd->n_disk;
			if (applied > top)
				applied = top;
			if (applied > nd->snap_index) {
				s_compact(&c, i, nd->snap_index + 1 + rnd() % (applied - nd->snap_index));
				snapshots++;
			}
			break;
		}
		case 5: {
			size_t i = rnd() % n;
			if (c.nodes[i].up) {
				h_settle(&c);
				h_crash(&c, i, false);
			} else {
				h_restart(&c, i);
			}
			break;
		}
		default:
			h_tick(&c, 1 + (int)(rnd() % 3));
			break;
		}
	}
	/* Heal everything and let it settle: all live nodes converge. */
	loss_pct = 0;
	for (size_t i = 0; i < n; i++) {
		h_isolate(&c, i, false);
		if (!c.nodes[i].up)
			h_restart(&c, i);
	}
	int l = -1;
	for (int t = 0; t < 400; t++) {
		h_tick(&c, 1);
		l = h_leader(&c);
		if (l < 0)
			continue;
		uint64_t commit = h_status(&c, (size_t)l).commit;
		bool all = true;
		for (size_t i = 0; i < n; i++)
			if (c.nodes[i].applied != commit)
				all = false;
		if (all && t > 30)
			break;
	}
	assert_true(l >= 0);
	uint64_t commit = h_status(&c, (size_t)l).commit;
	for (size_t i = 0; i < n; i++)
		if (c.nodes[i].applied != commit)
			fail_msg("seed %llu: node %zu applied %llu of %llu", (unsigned long long)seed, i,
				 (unsigned long long)c.nodes[i].applied, (unsigned long long)commit);
	*compactions += snapshots;
	*installs += c.sent_by_type[RAFT_MSG_SNAPSHOT];
	h_free(&c);
}

static void test_random_compaction_and_installs(void **state)
{
	(void)state;
	int compactions = 0;
	size_t snapshots_sent = 0;
	for (uint64_t seed = 1; seed <= 40; seed++)
		run_random(seed, seed % 2 ? 3 : 5, &compactions, &snapshots_sent);
	/* the runs did exercise what they are about */
	assert_true(compactions > 100);
	assert_true(snapshots_sent > 10);
	if (getenv("SNAP_STATS") != NULL)
		fprintf(stderr, "%d compactions, %zu snapshots sent\n", compactions, snapshots_sent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compact_moves_first_index),
		cmocka_unit_test(test_lagging_follower_gets_snapshot),
		cmocka_unit_test(test_others_replicate_while_snapshot_pending),
		cmocka_unit_test(test_failed_stream_is_retried),
		cmocka_unit_test(test_snapshot_replaces_conflicting_log),
		cmocka_unit_test(test_snapshot_already_held_or_stale),
		cmocka_unit_test(test_restart_from_compacted_disk),
		cmocka_unit_test(test_random_compaction_and_installs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
