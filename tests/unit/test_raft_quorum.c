/*
 * test_raft_quorum.c — the quorum and configuration module (node/raft/quorum.c,
 * tracker.c), as tables of cases.
 *
 * Each case reads as one line: the voters, the outgoing voters of a joint
 * configuration (empty when not joint), the learners, what each node has
 * acknowledged or answered, and the outcome. "_" means the node has said
 * nothing yet. The cases were written from the rules (Raft §5.2-5.4 and joint
 * consensus), not from another implementation's outputs; a brute-force check
 * of the committed-index definition over random configurations backs them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../node/raft/quorum.h"
#include "../../node/raft/tracker.h"

/* ------------------------------------------------------------ parsing */

typedef struct ids {
	uint32_t v[RAFT_MAX_NODES + 4];
	size_t n;
} ids;

/* "1 2 3" -> ids */
static ids parse_ids(const char *s)
{
	ids out = {.n = 0};
	char *end;
	while (*s != '\0') {
		if (*s == ' ') {
			s++;
			continue;
		}
		unsigned long v = strtoul(s, &end, 10);
		assert_true(end != s);
		assert_true(out.n < RAFT_MAX_NODES + 4);
		out.v[out.n++] = (uint32_t)v;
		s = end;
	}
	return out;
}

/* What each node said: "1=5 2=_ 3=7" (indexes) or "1=y 2=n 3=yn" (votes). */
typedef struct said {
	uint32_t id[RAFT_MAX_NODES * 2];
	uint64_t index[RAFT_MAX_NODES * 2];
	bool yes[RAFT_MAX_NODES * 2], no[RAFT_MAX_NODES * 2];
	size_t n;
} said;

static said parse_said(const char *s)
{
	said out;
	memset(&out, 0, sizeof(out));
	char buf[256];
	assert_true(strlen(s) < sizeof(buf));
	strcpy(buf, s);
	char *save = NULL;
	for (char *tok = strtok_r(buf, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		assert_non_null(eq);
		*eq = '\0';
		size_t k = out.n++;
		out.id[k] = (uint32_t)strtoul(tok, NULL, 10);
		const char *v = eq + 1;
		if (strcmp(v, "_") == 0)
			continue;
		if (*v == 'y' || *v == 'n') {
			out.yes[k] = strchr(v, 'y') != NULL;
			out.no[k] = strchr(v, 'n') != NULL;
		} else {
			out.index[k] = strtoull(v, NULL, 10);
		}
	}
	return out;
}

static uint64_t said_index(const void *ctx, uint32_t id)
{
	const said *s = ctx;
	for (size_t i = 0; i < s->n; i++)
		if (s->id[i] == id)
			return s->index[i];
	return 0;
}

static bool said_yes(const void *ctx, uint32_t id)
{
	const said *s = ctx;
	for (size_t i = 0; i < s->n; i++)
		if (s->id[i] == id)
			return s->yes[i];
	return false;
}

static bool said_no(const void *ctx, uint32_t id)
{
	const said *s = ctx;
	for (size_t i = 0; i < s->n; i++)
		if (s->id[i] == id)
			return s->no[i];
	return false;
}

static quorum_config make_config(const char *voters, const char *outgoing, const char *learners)
{
	ids v = parse_ids(voters), o = parse_ids(outgoing), l = parse_ids(learners);
	quorum_config c;
	assert_int_equal(quorum_config_init(&c, v.v, v.n, o.v, o.n, l.v, l.n), RAFT_OK);
	return c;
}

/* ------------------------------------------------------- committed index */

typedef struct commit_case {
	const char *voters, *outgoing, *learners;
	const char *acked;
	uint64_t want;
	const char *why;
} commit_case;

static const commit_case commit_cases[] = {
	/* one voter: its own index */
	{"1", "", "", "1=_", 0, "nothing acknowledged, nothing committed"},
	{"1", "", "", "1=12", 12, "a single voter is its own majority"},
	/* three voters: the second largest */
	{"1 2 3", "", "", "1=5 2=_ 3=_", 0, "one of three is no majority"},
	{"1 2 3", "", "", "1=5 2=7 3=_", 5, "two of three hold 5"},
	{"1 2 3", "", "", "1=5 2=7 3=9", 7, "two of three hold 7, only one 9"},
	{"1 2 3", "", "", "1=9 2=9 3=1", 9, "equal values count together"},
	/* even sizes need more than half */
	{"1 2", "", "", "1=8 2=3", 3, "two voters: both"},
	{"1 2 3 4", "", "", "1=5 2=6 3=7 4=8", 6, "four voters: three must hold it"},
	{"1 2 3 4", "", "", "1=8 2=8 3=_ 4=_", 0, "half of four is not a majority"},
	{"1 2 3 4 5", "", "", "1=1 2=2 3=3 4=4 5=5", 3, "five voters: the median"},
	{"1 2 3 4 5", "", "", "1=10 2=10 3=10 4=_ 5=_", 10, "three of five, the others silent"},
	/* learners replicate but never count */
	{"1 2 3", "", "4 5", "1=2 2=2 3=1 4=50 5=50", 2, "learners' acks are ignored"},
	{"1", "", "2", "1=3 2=9", 3, "a learner cannot move a one-voter commit"},
	/* joint: both majorities must hold it */
	{"1 2 3", "1 2 3", "", "1=4 2=5 3=6", 5, "the same set twice is the set"},
	{"1 2 3", "3 4 5", "", "1=10 2=10 3=5 4=5 5=5", 5, "old set holds only 5"},
	{"1 2 3", "3 4 5", "", "1=5 2=5 3=5 4=10 5=10", 5, "new set holds only 5"},
	{"1 2 3", "3 4 5", "", "1=10 2=10 3=_ 4=10 5=10", 10, "disjoint majorities, each holds 10"},
	{"1 2 3", "4 5 6", "", "1=7 2=7 3=7 4=_ 5=_ 6=_", 0, "a silent old set blocks everything"},
	{"1", "2", "", "1=4 2=9", 4, "one voter each: the smaller"},
	{"1 2 3 4", "1 2 3", "", "1=9 2=9 3=1 4=1", 1, "adding a 4th: the new set needs three"},
	{"1 2 3", "1 2 3 4", "", "1=9 2=9 3=9 4=1", 9, "removing the 4th: both sets hold 9"},
	{"1 2 3", "1 2 4", "5", "1=6 2=3 3=6 4=_ 5=99", 3, "a joint config with a learner"},
};

static void test_committed_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(commit_cases) / sizeof(commit_cases[0]); i++) {
		const commit_case *tc = &commit_cases[i];
		quorum_config c = make_config(tc->voters, tc->outgoing, tc->learners);
		said s = parse_said(tc->acked);
		uint64_t got = quorum_committed(&c, said_index, &s);
		if (got != tc->want)
			fail_msg("case %zu (%s): voters (%s) outgoing (%s) acked %s: got %llu, want %llu",
				 i, tc->why, tc->voters, tc->outgoing, tc->acked,
				 (unsigned long long)got, (unsigned long long)tc->want);
	}
}

/* The definition, checked by brute force: the committed index is the
 * largest v such that, in every voter set, a majority acknowledged >= v. */
static bool holds(const quorum_majority *m, const uint64_t *acked, uint64_t v)
{
	if (m->n == 0)
		return true;
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++)
		if (acked[m->ids[i]] >= v)
			k++;
	return k > m->n / 2;
}

static uint64_t acked_by_id(const void *ctx, uint32_t id)
{
	return ((const uint64_t *)ctx)[id];
}

static void test_committed_matches_definition(void **state)
{
	(void)state;
	uint64_t rng = 12345;
	for (int round = 0; round < 3000; round++) {
		uint64_t acked[RAFT_MAX_NODES + 1];
		uint32_t v[RAFT_MAX_NODES], o[RAFT_MAX_NODES];
		size_t nv = 0, no = 0;
		/* ids 1..8; each in the new set, the old set, both or neither */
		for (uint32_t id = 1; id <= 8; id++) {
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			unsigned r = (unsigned)(rng >> 33);
			acked[id] = (r >> 4) % 6;
			if (r & 1)
				v[nv++] = id;
			if ((r & 2) && round % 2 == 0)
				o[no++] = id;
		}
		if (nv == 0)
			v[nv++] = 1;
		quorum_config c;
		assert_int_equal(quorum_config_init(&c, v, nv, o, no, NULL, 0), RAFT_OK);
		uint64_t want = 0;
		for (uint64_t x = 1; x <= 6; x++)
			if (holds(&c.voters, acked, x) && holds(&c.outgoing, acked, x))
				want = x;
		assert_int_equal(quorum_committed(&c, acked_by_id, acked), want);
	}
}

/* ------------------------------------------------------------------ votes */

typedef struct vote_case {
	const char *voters, *outgoing, *learners;
	const char *votes; /* y = granted, n = rejected, yn = answered both ways, _ = not yet */
	enum quorum_vote_result want;
	const char *why;
} vote_case;

static const vote_case vote_cases[] = {
	{"1", "", "", "1=_", QUORUM_PENDING, "no answer yet"},
	{"1", "", "", "1=y", QUORUM_WON, "a single voter elects itself"},
	{"1", "", "", "1=n", QUORUM_LOST, "a single voter can refuse"},
	{"1 2 3", "", "", "1=y 2=_ 3=_", QUORUM_PENDING, "own vote only"},
	{"1 2 3", "", "", "1=y 2=y 3=_", QUORUM_WON, "two of three"},
	{"1 2 3", "", "", "1=y 2=n 3=_", QUORUM_PENDING, "one each way, one to come"},
	{"1 2 3", "", "", "1=y 2=n 3=n", QUORUM_LOST, "two of three refused"},
	{"1 2 3", "", "", "1=y 2=y 3=n", QUORUM_WON, "a refusal after a majority changes nothing"},
	{"1 2 3 4", "", "", "1=y 2=y 3=_ 4=_", QUORUM_PENDING, "half of four is not enough"},
	{"1 2 3 4", "", "", "1=y 2=y 3=y 4=n", QUORUM_WON, "three of four"},
	/* LOST means a majority refused, so with an even count a candidate that
	 * can no longer win stays pending until its timeout (as the core always did) */
	{"1 2 3 4", "", "", "1=y 2=y 3=n 4=n", QUORUM_PENDING, "two-two: wait for the timeout"},
	{"1 2 3 4", "", "", "1=y 2=n 3=n 4=n", QUORUM_LOST, "three of four refused"},
	{"1 2 3 4 5", "", "", "1=y 2=y 3=n 4=n 5=_", QUORUM_PENDING, "the fifth decides"},
	{"1 2 3 4 5", "", "", "1=y 2=y 3=n 4=n 5=n", QUORUM_LOST, "three of five refused"},
	/* a voter that answered twice counts on both sides */
	{"1 2 3", "", "", "1=y 2=yn 3=_", QUORUM_WON, "its grant counts"},
	{"1 2 3", "", "", "1=n 2=yn 3=_", QUORUM_LOST, "its refusal counts too"},
	/* learners have no vote */
	{"1 2 3", "", "4 5", "1=y 2=_ 3=_ 4=y 5=y", QUORUM_PENDING, "learners' grants do not count"},
	{"1 2 3", "", "4 5", "1=y 2=y 3=_ 4=n 5=n", QUORUM_WON, "learners' refusals do not count"},
	/* joint: won needs both sets, lost needs either */
	{"1 2 3", "1 4 5", "", "1=y 2=y 3=_ 4=_ 5=_", QUORUM_PENDING, "new set won, old set open"},
	{"1 2 3", "1 4 5", "", "1=y 2=y 3=_ 4=y 5=_", QUORUM_WON, "both sets won"},
	{"1 2 3", "1 4 5", "", "1=y 2=y 3=_ 4=n 5=n", QUORUM_LOST, "old set refused, new set won"},
	{"1 2 3", "1 4 5", "", "1=y 2=n 3=n 4=y 5=y", QUORUM_LOST, "new set refused, old set won"},
	{"1 2 3", "4 5 6", "", "1=y 2=y 3=y 4=n 5=_ 6=_", QUORUM_PENDING, "disjoint: old set open"},
	{"1", "2", "", "1=y 2=_", QUORUM_PENDING, "one voter each: both must grant"},
	{"1", "2", "", "1=y 2=y", QUORUM_WON, "one voter each: both granted"},
};

static const char *result_name(enum quorum_vote_result r)
{
	return r == QUORUM_WON ? "won" : r == QUORUM_LOST ? "lost" : "pending";
}

static void test_vote_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vote_cases) / sizeof(vote_cases[0]); i++) {
		const vote_case *tc = &vote_cases[i];
		quorum_config c = make_config(tc->voters, tc->outgoing, tc->learners);
		said s = parse_said(tc->votes);
		enum quorum_vote_result got = quorum_vote(&c, said_yes, said_no, &s);
		if (got != tc->want)
			fail_msg("case %zu (%s): voters (%s) outgoing (%s) votes %s: got %s, want %s",
				 i, tc->why, tc->voters, tc->outgoing, tc->votes,
				 result_name(got), result_name(tc->want));
	}
}

/* -------------------------------------------------- quorum reached (activity) */

typedef struct reached_case {
	const char *voters, *outgoing, *learners;
	const char *active; /* y = heard from recently */
	bool want;
	const char *why;
} reached_case;

static const reached_case reached_cases[] = {
	{"1", "", "", "1=y", true, "alone and alive"},
	{"1 2 3", "", "", "1=y 2=_ 3=_", false, "a leader cut off from both followers"},
	{"1 2 3", "", "", "1=y 2=y 3=_", true, "one follower is enough"},
	{"1 2 3 4", "", "", "1=y 2=y 3=_ 4=_", false, "two of four are not"},
	{"1 2 3", "", "4 5", "1=y 2=_ 3=_ 4=y 5=y", false, "learners do not keep a leader in office"},
	{"1 2 3", "3 4 5", "", "1=y 2=y 3=_ 4=_ 5=_", false, "joint: old set unreachable"},
	{"1 2 3", "3 4 5", "", "1=y 2=y 3=y 4=_ 5=_", false, "joint: one of the old set is not enough"},
	{"1 2 3", "2 3 4", "", "1=y 2=y 3=_ 4=_", false, "joint: 2 alone of the old set"},
	{"1 2 3", "2 3 4", "", "1=y 2=y 3=y 4=_", true, "joint: 2 and 3 serve both sets"},
};

static void test_reached_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(reached_cases) / sizeof(reached_cases[0]); i++) {
		const reached_case *tc = &reached_cases[i];
		quorum_config c = make_config(tc->voters, tc->outgoing, tc->learners);
		said s = parse_said(tc->active);
		bool got = quorum_reached(&c, said_yes, &s);
		if (got != tc->want)
			fail_msg("case %zu (%s): voters (%s) outgoing (%s) active %s: got %d, want %d",
				 i, tc->why, tc->voters, tc->outgoing, tc->active, got, tc->want);
	}
}

/* ---------------------------------------------------------- configurations */

typedef struct config_case {
	const char *voters, *outgoing, *learners;
	int want;
	const char *members; /* in order, when valid */
} config_case;

static const config_case config_cases[] = {
	{"1 2 3", "", "", RAFT_OK, "1 2 3"},
	{"3 1 2", "", "", RAFT_OK, "3 1 2"},
	{"1 2 3", "2 3 4", "", RAFT_OK, "1 2 3 4"},
	{"1 2 3", "", "7 8", RAFT_OK, "1 2 3 7 8"},
	{"1 2", "1 3", "9", RAFT_OK, "1 2 3 9"},
	{"", "", "", RAFT_EINVAL, NULL},          /* no voter */
	{"", "1 2", "", RAFT_EINVAL, NULL},       /* only outgoing voters */
	{"1 2 2", "", "", RAFT_EINVAL, NULL},     /* duplicate */
	{"1 2", "3 3", "", RAFT_EINVAL, NULL},    /* duplicate in the old set */
	{"1 2", "", "4 4", RAFT_EINVAL, NULL},    /* duplicate learner */
	{"1 2", "", "2", RAFT_EINVAL, NULL},      /* a voter cannot also learn */
	{"1 2", "3", "3", RAFT_EINVAL, NULL},     /* nor an outgoing voter */
	{"1 4294967295", "", "", RAFT_EINVAL, NULL}, /* RAFT_NONE is not an id */
	{"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", "", "", RAFT_EINVAL, NULL},
	{"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", "", "", RAFT_OK,
	 "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"},
	/* more members than the tracker holds */
	{"1 2 3 4 5 6 7 8 9", "10 11 12 13 14 15 16 17", "", RAFT_EINVAL, NULL},
	{"1 2 3 4 5 6 7 8", "9 10 11 12 13 14 15", "16", RAFT_OK,
	 "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"},
};

static void test_config_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(config_cases) / sizeof(config_cases[0]); i++) {
		const config_case *tc = &config_cases[i];
		ids v = parse_ids(tc->voters), o = parse_ids(tc->outgoing), l = parse_ids(tc->learners);
		quorum_config c;
		memset(&c, 0xab, sizeof(c));
		int rc = quorum_config_init(&c, v.v, v.n, o.v, o.n, l.v, l.n);
		if (rc != tc->want)
			fail_msg("case %zu: voters (%s) outgoing (%s) learners (%s): rc %d, want %d",
				 i, tc->voters, tc->outgoing, tc->learners, rc, tc->want);
		if (rc != RAFT_OK)
			continue;
		uint32_t got[RAFT_MAX_NODES];
		size_t n = quorum_config_members(&c, got);
		ids want = parse_ids(tc->members);
		assert_int_equal(n, want.n);
		for (size_t k = 0; k < n; k++)
			assert_int_equal(got[k], want.v[k]);
		assert_int_equal(quorum_config_is_joint(&c), o.n > 0);
		for (size_t k = 0; k < l.n; k++) {
			assert_true(quorum_config_is_learner(&c, l.v[k]));
			assert_false(quorum_config_is_voter(&c, l.v[k]));
		}
		for (size_t k = 0; k < o.n; k++)
			assert_true(quorum_config_is_voter(&c, o.v[k]));
	}
}

/* ---------------------------------------------------------------- tracker */

static void set_config(tracker *t, const char *voters, const char *outgoing,
		       const char *learners, uint64_t next)
{
	quorum_config c = make_config(voters, outgoing, learners);
	assert_int_equal(tracker_set_config(t, &c, next), RAFT_OK);
}

/* Progress is keyed by node id: a configuration change keeps what the leader
 * knows of members that stay, starts new ones from scratch, and frees the
 * state of those that leave (valgrind checks the last part). */
static void test_tracker_rebuild_keeps_progress_by_id(void **state)
{
	(void)state;
	tracker t;
	tracker_init(&t, 4);
	set_config(&t, "1 2 3", "", "", 10);
	assert_int_equal(t.n, 3);
	progress *p2 = tracker_progress(&t, 2);
	assert_non_null(p2);
	p2->match = 9;
	p2->next = 10;
	progress_become_replicate(p2);
	progress_infl_add(p2, 12);
	assert_null(tracker_progress(&t, 4));

	/* joint (new 2 3 4, old 1 2 3), then learner 5 */
	set_config(&t, "2 3 4", "1 2 3", "5", 20);
	assert_int_equal(t.n, 5);
	p2 = tracker_progress(&t, 2);
	assert_int_equal(p2->match, 9);
	assert_int_equal(p2->state, PROGRESS_REPLICATE);
	assert_int_equal(p2->infl_len, 1);
	progress *p4 = tracker_progress(&t, 4);
	assert_non_null(p4);
	assert_int_equal(p4->match, 0);
	assert_int_equal(p4->next, 20);
	assert_int_equal(p4->state, PROGRESS_PROBE);
	assert_true(tracker_is_voter(&t, 1));   /* outgoing voters still vote */
	assert_false(tracker_is_voter(&t, 5));
	assert_true(tracker_is_member(&t, 5));

	/* leave the joint configuration: 1 goes, 5 stays a learner */
	set_config(&t, "2 3 4", "", "5", 30);
	assert_int_equal(t.n, 4);
	assert_null(tracker_progress(&t, 1));
	assert_int_equal(tracker_progress(&t, 2)->match, 9);
	assert_int_equal(tracker_progress(&t, 5)->next, 20); /* kept, not restarted */
	tracker_free(&t);
}

/* The core's questions, with the node itself standing in with its own values. */
static void test_tracker_quorums_count_self(void **state)
{
	(void)state;
	tracker t;
	tracker_init(&t, 2);
	set_config(&t, "1 2 3", "", "4", 1);
	/* self = 1, durable up to 7; 2 matched 5, 3 nothing; learner 4 at 7 */
	tracker_progress(&t, 2)->match = 5;
	tracker_progress(&t, 4)->match = 7;
	assert_int_equal(tracker_committed(&t, 1, 7), 5);
	tracker_progress(&t, 3)->match = 7;
	assert_int_equal(tracker_committed(&t, 1, 7), 7);
	/* the leader's own undurable entries do not count */
	assert_int_equal(tracker_committed(&t, 1, 4), 5);

	/* ReadIndex rounds */
	tracker_progress(&t, 2)->read_acked = 3;
	tracker_progress(&t, 4)->read_acked = 9;
	assert_int_equal(tracker_read_acked(&t, 1, 9), 3);

	/* check-quorum: self + one voter; a learner is not enough */
	assert_false(tracker_quorum_active(&t, 1));
	tracker_progress(&t, 4)->recent_active = true;
	assert_false(tracker_quorum_active(&t, 1));
	tracker_progress(&t, 3)->recent_active = true;
	assert_true(tracker_quorum_active(&t, 1));
	tracker_clear_recent_active(&t);
	assert_false(tracker_quorum_active(&t, 1));

	/* lease: heard within the window (strictly younger) */
	progress *p2 = tracker_progress(&t, 2);
	p2->heard = true;
	p2->last_heard = 90;
	assert_true(tracker_quorum_fresh(&t, 1, 99, 10));
	assert_false(tracker_quorum_fresh(&t, 1, 100, 10));

	assert_false(tracker_self_is_quorum(&t, 1));
	set_config(&t, "1", "", "4", 1);
	assert_true(tracker_self_is_quorum(&t, 1));
	set_config(&t, "1", "2", "", 1); /* joint: the old voter must agree too */
	assert_false(tracker_self_is_quorum(&t, 1));
	tracker_free(&t);
}

static void test_tracker_votes(void **state)
{
	(void)state;
	tracker t;
	tracker_init(&t, 2);
	set_config(&t, "1 2 3", "", "4", 1);
	tracker_record_vote(&t, 1, true);
	assert_int_equal(tracker_vote_result(&t), QUORUM_PENDING);
	tracker_record_vote(&t, 4, true); /* a learner's vote is recorded, never counted */
	assert_int_equal(tracker_vote_result(&t), QUORUM_PENDING);
	tracker_record_vote(&t, 9, true); /* not a member: ignored */
	assert_int_equal(tracker_vote_result(&t), QUORUM_PENDING);
	tracker_record_vote(&t, 2, false);
	assert_int_equal(tracker_vote_result(&t), QUORUM_PENDING);
	tracker_record_vote(&t, 3, false);
	assert_int_equal(tracker_vote_result(&t), QUORUM_LOST);
	tracker_reset_votes(&t);
	tracker_record_vote(&t, 1, true);
	tracker_record_vote(&t, 3, true);
	assert_int_equal(tracker_vote_result(&t), QUORUM_WON);
	/* a new configuration starts a new count */
	set_config(&t, "1 2 3", "", "", 1);
	assert_int_equal(tracker_vote_result(&t), QUORUM_PENDING);
	tracker_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_committed_table),
		cmocka_unit_test(test_committed_matches_definition),
		cmocka_unit_test(test_vote_table),
		cmocka_unit_test(test_reached_table),
		cmocka_unit_test(test_config_table),
		cmocka_unit_test(test_tracker_rebuild_keeps_progress_by_id),
		cmocka_unit_test(test_tracker_quorums_count_self),
		cmocka_unit_test(test_tracker_votes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
