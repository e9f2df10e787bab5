/*
 * test_raft_chaos.h — randomized runs of a small cluster under message loss,
 * reordering, duplication, partitions, crashes and restarts, and delayed
 * persistence, checking after every step:
 *   - election safety: at most one leader per term;
 *   - state machine safety: every node applies the same entry at an index
 *     (checked by the harness), in index order;
 *   - ReadIndex safety: a read served at index I was issued when no node had
 *     committed beyond I;
 *   - liveness at the end: once healed, a leader is elected and commits.
 * Seeds are fixed, so a failure replays. With soft checks (used to show that
 * planted bugs are caught) a violation ends the run and is returned instead
 * of failing the test. Used by test_raft_bugs.c (the cluster-wide random
 * runs themselves are the simulator's, tests/sim).
 */
#ifndef TEST_RAFT_CHAOS_H
#define TEST_RAFT_CHAOS_H

#include <stdio.h>

#include "test_raft_harness.h"

typedef struct chaos {
	uint64_t rng;
	uint64_t seed;
	uint32_t leader_of_term[4096]; /* by term; terms stay small in these runs */
	uint64_t read_floor[5][4096];  /* per node and ctx: max commit when issued */
	uint64_t next_ctx[5];
	size_t reads_ok;
} chaos;

static inline uint64_t rnd(chaos *x)
{
	uint64_t z = (x->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline bool chance(chaos *x, unsigned pct)
{
	return rnd(x) % 100 < pct;
}

static inline uint64_t max_commit(const h_cluster *c)
{
	uint64_t m = 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->nodes[i].up && h_status(c, i).commit > m)
			m = h_status(c, i).commit;
	return m;
}

static size_t seen_reads[5];

static inline void check(h_cluster *c, chaos *x)
{
	for (size_t i = 0; i < c->n; i++) {
		if (!c->nodes[i].up)
			continue;
		raft_status st = h_status(c, i);
		if (st.role == RAFT_LEADER) {
			assert_true(st.term < 4096);
			if (x->leader_of_term[st.term] == 0)
				x->leader_of_term[st.term] = st.id;
			else if (c->soft && x->leader_of_term[st.term] != st.id)
				c->violation = true;
			else
				assert_int_equal(x->leader_of_term[st.term], st.id);
		}
		h_node *nd = &c->nodes[i];
		for (; seen_reads[i] < nd->n_reads; seen_reads[i]++) {
			raft_read_state rs = nd->reads[seen_reads[i]];
			assert_true(rs.ctx < 4096);
			if (rs.index != 0) {
				if (c->soft && rs.index < x->read_floor[i][rs.ctx]) {
					c->violation = true;
					continue;
				}
				if (rs.index < x->read_floor[i][rs.ctx])
					fprintf(stderr, "seed %llu node %zu ctx %llu index %llu floor %llu\n",
						(unsigned long long)x->seed, i, (unsigned long long)rs.ctx,
						(unsigned long long)rs.index,
						(unsigned long long)x->read_floor[i][rs.ctx]);
				assert_true(rs.index >= x->read_floor[i][rs.ctx]);
				x->reads_ok++;
			}
		}
	}
}

/* One run; planted_bug != 0 needs a core built with -DRAFT_PLANTED_BUGS.
 * Returns true when a (soft) safety violation was seen. */
static inline bool run_seed(uint64_t seed, int steps, int planted_bug)
{
	chaos *x = calloc(1, sizeof(*x));
	assert_non_null(x);
	x->rng = seed;
	x->seed = seed;
	h_cluster c;
	memset(&c, 0, sizeof(c));
	/* odd seeds: 5 nodes, where Figure 8 histories are possible; every
	 * third seed without pre-vote, so terms move faster */
	size_t n = seed % 2 ? 5 : 3;
	bool pre_vote = seed % 3 != 0;
	h_init(&c, n, NULL);
	c.soft = planted_bug != 0;
	for (size_t i = 0; i < n; i++) {
		raft_free(c.nodes[i].r);
		c.nodes[i].cfg.pre_vote = pre_vote;
		c.nodes[i].cfg.seed = seed * 31 + i;
		c.nodes[i].cfg.max_msg_entries = 4;
		c.nodes[i].cfg.max_inflight = 3;
		c.nodes[i].cfg.planted_bug = planted_bug;
		h_start(&c, i);
		c.nodes[i].manual_persist = true;
		seen_reads[i] = 0;
	}
	for (int s = 0; s < steps; s++) {
		unsigned op = (unsigned)(rnd(x) % 100);
		size_t i = (size_t)(rnd(x) % c.n);
		h_node *nd = &c.nodes[i];
		if (op < 30) {
			if (c.net.len > 0) {
				size_t k = chance(x, 70) ? 0 : (size_t)(rnd(x) % c.net.len);
				if (chance(x, 3)) { /* duplicate */
					raft_msg dup = c.net.m[(c.net.head + k) % c.net.cap];
					h_net_push(&c, &dup);
				}
				if (chance(x, 5)) { /* drop */
					h_msg_free(&c.net.m[(c.net.head + k) % c.net.cap]);
					c.net.m[(c.net.head + k) % c.net.cap].type = 0; /* step refuses it */
				}
				h_deliver_at(&c, k);
			}
		} else if (op < 55) {
			if (nd->up)
				raft_tick(nd->r);
		} else if (op < 65) {
			if (nd->up) {
				uint64_t idx;
				(void)raft_propose(nd->r, "p", 1, &idx);
			}
		} else if (op < 72) {
			if (nd->up && x->next_ctx[i] < 4095) {
				uint64_t ctx = ++x->next_ctx[i];
				x->read_floor[i][ctx] = max_commit(&c);
				(void)raft_read_index(nd->r, ctx);
			}
		} else if (op < 85) {
			if (nd->up)
				h_persist(&c, i);
		} else if (op < 87) {
			/* partition: cut a random link both ways, or heal all */
			if (chance(x, 50)) {
				size_t j = (size_t)(rnd(x) % c.n);
				c.cut[i][j] = c.cut[j][i] = true;
			} else {
				memset(c.cut, 0, sizeof(c.cut));
			}
		} else if (op < 88) {
			if (nd->up && chance(x, 30))
				h_crash(&c, i, chance(x, 50));
			else if (!nd->up)
				h_restart(&c, i), nd->up = true, seen_reads[i] = nd->n_reads;
		} else if (op < 89) {
			if (nd->up && h_status(&c, i).role == RAFT_LEADER)
				(void)raft_transfer(nd->r, c.ids[rnd(x) % c.n]);
		}
		h_process_all(&c);
		if (c.violation)
			break;
		if (getenv("CHAOS_TRACE") != NULL) {
			fprintf(stderr, "step %d op %u node %zu:", s, op, i);
			for (size_t j = 0; j < c.n; j++) {
				if (!c.nodes[j].up) {
					fprintf(stderr, " [down]");
					continue;
				}
				raft_status st = h_status(&c, j);
				fprintf(stderr, " [%s t%llu c%llu l%llu ld%u reads%zu]", raft_role_name(st.role),
					(unsigned long long)st.term, (unsigned long long)st.commit,
					(unsigned long long)st.last_index, st.leader, c.nodes[j].n_reads);
			}
			fprintf(stderr, " net %zu\n", c.net.len);
		}
		check(&c, x);
		if (c.violation)
			break;
	}
	if (c.violation) {
		h_free(&c);
		free(x);
		return true;
	}
	/* heal everything: the cluster must make progress again */
	memset(c.cut, 0, sizeof(c.cut));
	for (size_t i = 0; i < c.n; i++) {
		if (!c.nodes[i].up) {
			h_restart(&c, i);
			seen_reads[i] = c.nodes[i].n_reads;
		}
		c.nodes[i].manual_persist = false;
		h_persist(&c, i);
	}
	/* Leftovers (a TIMEOUT_NOW in flight, a transfer) may still move the
	 * leadership once; within a few election rounds the cluster settles
	 * with everything committed. */
	int l = -1;
	for (int round = 0;; round++) {
		assert_true(round < 30);
		l = h_elect(&c);
		uint64_t idx;
		(void)raft_propose(c.nodes[l].r, "final", 5, &idx);
		h_settle(&c);
		h_tick(&c, 3);
		check(&c, x);
		if (c.violation)
			break;
		raft_status ls = h_status(&c, (size_t)l);
		bool done = ls.role == RAFT_LEADER && ls.commit == ls.last_index && ls.last_term == ls.term;
		for (size_t i = 0; i < c.n; i++)
			if (c.nodes[i].applied != ls.last_index)
				done = false;
		if (done)
			break;
	}
	check(&c, x);
	if (c.violation) {
		h_free(&c);
		free(x);
		return true;
	}
	raft_status st = h_status(&c, (size_t)l);
	if (st.commit != st.last_index || getenv("CHAOS_TRACE") != NULL) {
		for (size_t j = 0; j < c.n; j++) {
			raft_status s2 = h_status(&c, j);
			fprintf(stderr, "final node %zu: %s t%llu c%llu last %llu/%llu persisted-pending %llu\n", j,
				raft_role_name(s2.role), (unsigned long long)s2.term,
				(unsigned long long)s2.commit, (unsigned long long)s2.last_index,
				(unsigned long long)s2.last_term,
				(unsigned long long)c.nodes[j].pend_index);
			for (size_t k = 0; k < s2.n_peers; k++)
				fprintf(stderr, "   peer %u match %llu next %llu\n", s2.peers[k].id,
					(unsigned long long)s2.peers[k].match,
					(unsigned long long)s2.peers[k].next);
		}
	}
	assert_int_equal(st.commit, st.last_index);
	for (size_t i = 0; i < c.n; i++)
		assert_int_equal(c.nodes[i].applied, st.last_index);
	if (getenv("CHAOS_STATS") != NULL)
		fprintf(stderr, "seed %llu: term %llu commit %llu reads served %zu\n",
			(unsigned long long)seed, (unsigned long long)st.term,
			(unsigned long long)st.commit, x->reads_ok);
	h_free(&c);
	free(x);
	return false;
}

#endif

