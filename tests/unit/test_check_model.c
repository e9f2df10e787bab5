/*
 * test_check_model.c — the register's semantics, one rule per test: the
 * model step function directly, then small histories built in memory whose
 * verdict follows from exactly that rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../check/check.h"
#include "../check/model.h"

/* ------------------------------------------------------------ model_step */

static void test_step(void **state)
{
	(void)state;
	model m = { 0 };
	uint32_t a, b, ab, empty, out;
	assert_int_equal(model_state(&m, "a", 1, &a), 0);
	assert_int_equal(model_state(&m, "b", 1, &b), 0);
	assert_int_equal(model_state(&m, "", 0, &empty), 0);
	assert_int_not_equal(empty, MODEL_ABSENT); /* "" is present */
	assert_int_not_equal(a, b);

	op o = { .kind = OP_READ, .a = a };
	assert_int_equal(model_step(&m, &o, a, &out), 1);
	assert_int_equal(out, a);
	assert_int_equal(model_step(&m, &o, b, &out), 0);

	o = (op){ .kind = OP_WRITE, .a = b };
	assert_int_equal(model_step(&m, &o, MODEL_ABSENT, &out), 1);
	assert_int_equal(out, b);

	o = (op){ .kind = OP_CAS, .a = MODEL_ABSENT, .b = a };
	assert_int_equal(model_step(&m, &o, MODEL_ABSENT, &out), 1);
	assert_int_equal(out, a);
	assert_int_equal(model_step(&m, &o, b, &out), 0);
	assert_int_equal(model_step(&m, &o, empty, &out), 0); /* "" is not absent */

	o = (op){ .kind = OP_CAS_MAYBE, .a = a, .b = b };
	assert_int_equal(model_step(&m, &o, a, &out), 1);
	assert_int_equal(out, b);
	assert_int_equal(model_step(&m, &o, empty, &out), 1);
	assert_int_equal(out, empty);

	o = (op){ .kind = OP_CAS_MISMATCH, .a = a };
	assert_int_equal(model_step(&m, &o, a, &out), 0);
	assert_int_equal(model_step(&m, &o, b, &out), 1);
	assert_int_equal(out, b);
	assert_int_equal(model_step(&m, &o, MODEL_ABSENT, &out), 1);

	o = (op){ .kind = OP_APPEND, .text = "b", .text_len = 1 };
	assert_int_equal(model_step(&m, &o, MODEL_ABSENT, &out), 1);
	assert_int_equal(out, b); /* absent counts as "" */
	assert_int_equal(model_step(&m, &o, a, &ab), 1);
	size_t len;
	const char *s = model_str(&m, ab, &len);
	assert_int_equal(len, 2);
	assert_memory_equal(s, "ab", 2);
	uint32_t again;
	assert_int_equal(model_state(&m, "ab", 2, &again), 0);
	assert_int_equal(again, ab); /* interned: equal strings, equal ids */
	o = (op){ .kind = OP_APPEND, .text = "", .text_len = 0 };
	assert_int_equal(model_step(&m, &o, MODEL_ABSENT, &out), 1);
	assert_int_equal(out, empty);
	assert_null(model_str(&m, MODEL_ABSENT, &len));
	model_free(&m);
}

/* ------------------------------------------------------------ histories */

#define ABSENT NULL

typedef struct ev {
	int64_t p;
	check_type t;
	check_fn f;
	const char *v, *v2;
	int64_t time;
	bool mismatch;
	const char *key;
} ev;

static check_verdict run(const ev *evs, size_t n)
{
	check_history *h = check_history_new();
	assert_non_null(h);
	for (size_t i = 0; i < n; i++) {
		check_event e = {
			.process = evs[i].p, .type = evs[i].t, .f = evs[i].f,
			.key = check_cstr(evs[i].key ? evs[i].key : "k"),
			.value = check_cstr(evs[i].v), .value2 = check_cstr(evs[i].v2),
			.mismatch = evs[i].mismatch, .time = evs[i].time,
		};
		if (check_history_add(h, &e) != 0)
			fail_msg("event %zu refused: %s", i + 1, check_history_error(h));
	}
	check_result r;
	check_verdict v = check_history_check(h, NULL, &r);
	assert_int_equal(r.verdict, v);
	assert_non_null(r.description);
	check_result_free(&r);
	check_history_free(h);
	return v;
}

#define RUN(...) run((const ev[]){ __VA_ARGS__ }, sizeof((const ev[]){ __VA_ARGS__ }) / sizeof(ev))
#define I CHECK_INVOKE
#define OK CHECK_OK
#define FAIL CHECK_FAIL
#define INFO CHECK_INFO
#define R CHECK_READ
#define W CHECK_WRITE
#define CAS CHECK_CAS
#define APP CHECK_APPEND

static void test_read_sees_last_write(void **state)
{
	(void)state;
	assert_int_equal(RUN({ 1, I, W, "1", 0, 1, false, NULL }, { 1, OK, W, 0, 0, 2, false, NULL },
			     { 2, I, R, 0, 0, 3, false, NULL }, { 2, OK, R, "1", 0, 4, false, NULL }), CHECK_LINEARIZABLE);
	assert_int_equal(RUN({ 1, I, W, "1", 0, 1, false, NULL }, { 1, OK, W, 0, 0, 2, false, NULL },
			     { 2, I, R, 0, 0, 3, false, NULL }, { 2, OK, R, "2", 0, 4, false, NULL }), CHECK_NOT_LINEARIZABLE);
	assert_int_equal(RUN({ 2, I, R, 0, 0, 3, false, NULL }, { 2, OK, R, ABSENT, 0, 4, false, NULL }), CHECK_LINEARIZABLE);
	assert_int_equal(RUN({ 2, I, R, 0, 0, 3, false, NULL }, { 2, OK, R, "", 0, 4, false, NULL }), CHECK_NOT_LINEARIZABLE);
}

static void test_real_time_order(void **state)
{
	(void)state;
	/* Two writes in sequence, a later read must see the second. */
	ev seq[] = { { 1, I, W, "1", 0, 1, false, NULL }, { 1, OK, W, 0, 0, 2, false, NULL }, { 1, I, W, "2", 0, 3, false, NULL },
		     { 1, OK, W, 0, 0, 4, false, NULL }, { 2, I, R, 0, 0, 5, false, NULL }, { 2, OK, R, "1", 0, 6, false, NULL } };
	assert_int_equal(run(seq, 6), CHECK_NOT_LINEARIZABLE);
	/* Overlap the read with the second write: now either value is fine. */
	seq[4].time = 4;
	assert_int_equal(run(seq, 6), CHECK_LINEARIZABLE);
}

static void test_cas(void **state)
{
	(void)state;
	assert_int_equal(RUN({ 1, I, CAS, ABSENT, "a", 1, false, NULL }, { 1, OK, CAS, 0, 0, 2, false, NULL },
			     { 1, I, CAS, "a", "b", 3, false, NULL }, { 1, OK, CAS, 0, 0, 4, false, NULL },
			     { 1, I, R, 0, 0, 5, false, NULL }, { 1, OK, R, "b", 0, 6, false, NULL }), CHECK_LINEARIZABLE);
	assert_int_equal(RUN({ 1, I, W, "x", 0, 1, false, NULL }, { 1, OK, W, 0, 0, 2, false, NULL },
			     { 1, I, CAS, ABSENT, "a", 3, false, NULL }, { 1, OK, CAS, 0, 0, 4, false, NULL }), CHECK_NOT_LINEARIZABLE);
	/* A fail without mismatch is dropped, whatever it claimed. */
	assert_int_equal(RUN({ 1, I, W, "x", 0, 1, false, NULL }, { 1, OK, W, 0, 0, 2, false, NULL },
			     { 1, I, CAS, "x", "y", 3, false, NULL }, { 1, FAIL, CAS, 0, 0, 4, false, NULL },
			     { 1, I, R, 0, 0, 5, false, NULL }, { 1, OK, R, "x", 0, 6, false, NULL }), CHECK_LINEARIZABLE);
}

static void test_cas_mismatch_is_observation(void **state)
{
	(void)state;
	/* Value "x" throughout: a mismatch against "x" cannot be. */
	assert_int_equal(RUN({ 1, I, W, "x", 0, 1, false, NULL }, { 1, OK, W, 0, 0, 2, false, NULL },
			     { 1, I, CAS, "x", "y", 3, false, NULL }, { 1, FAIL, CAS, 0, 0, 4, true, NULL }), CHECK_NOT_LINEARIZABLE);
	/* Against anything else it can, and changes nothing. */
	assert_int_equal(RUN({ 1, I, W, "x", 0, 1, false, NULL }, { 1, OK, W, 0, 0, 2, false, NULL },
			     { 1, I, CAS, "z", "y", 3, false, NULL }, { 1, FAIL, CAS, 0, 0, 4, true, NULL },
			     { 1, I, R, 0, 0, 5, false, NULL }, { 1, OK, R, "x", 0, 6, false, NULL }), CHECK_LINEARIZABLE);
	/* Absent vs expected-absent. */
	assert_int_equal(RUN({ 1, I, CAS, ABSENT, "y", 3, false, NULL }, { 1, FAIL, CAS, 0, 0, 4, true, NULL }),
			 CHECK_NOT_LINEARIZABLE);
	/* Overlapping a write that changes the value: it fits before or after. */
	assert_int_equal(RUN({ 1, I, W, "x", 0, 1, false, NULL }, { 2, I, CAS, "x", "y", 2, false, NULL }, { 2, FAIL, CAS, 0, 0, 3, true, NULL },
			     { 1, OK, W, 0, 0, 4, false, NULL }), CHECK_LINEARIZABLE);
}

static void test_append(void **state)
{
	(void)state;
	assert_int_equal(RUN({ 1, I, APP, "a", 0, 1, false, NULL }, { 1, OK, APP, 0, 0, 2, false, NULL },
			     { 1, I, APP, "b", 0, 3, false, NULL }, { 1, OK, APP, 0, 0, 4, false, NULL },
			     { 1, I, R, 0, 0, 5, false, NULL }, { 1, OK, R, "ab", 0, 6, false, NULL }), CHECK_LINEARIZABLE);
	assert_int_equal(RUN({ 1, I, APP, "a", 0, 1, false, NULL }, { 1, OK, APP, 0, 0, 2, false, NULL },
			     { 1, I, APP, "b", 0, 3, false, NULL }, { 1, OK, APP, 0, 0, 4, false, NULL },
			     { 1, I, R, 0, 0, 5, false, NULL }, { 1, OK, R, "ba", 0, 6, false, NULL }), CHECK_NOT_LINEARIZABLE);
	assert_int_equal(RUN({ 1, I, APP, "a", 0, 1, false, NULL }, { 2, I, APP, "b", 0, 1, false, NULL }, { 1, OK, APP, 0, 0, 2, false, NULL },
			     { 2, OK, APP, 0, 0, 2, false, NULL }, { 1, I, R, 0, 0, 5, false, NULL }, { 1, OK, R, "ba", 0, 6, false, NULL }),
			 CHECK_LINEARIZABLE);
	/* Append after a write extends the written value. */
	assert_int_equal(RUN({ 1, I, W, "x", 0, 1, false, NULL }, { 1, OK, W, 0, 0, 2, false, NULL },
			     { 1, I, APP, "y", 0, 3, false, NULL }, { 1, OK, APP, 0, 0, 4, false, NULL },
			     { 1, I, R, 0, 0, 5, false, NULL }, { 1, OK, R, "xy", 0, 6, false, NULL }), CHECK_LINEARIZABLE);
}

static void test_info_maybe_never_or_late(void **state)
{
	(void)state;
	/* Late: after its info, and after a read that saw nothing. */
	assert_int_equal(RUN({ 1, I, W, "x", 0, 1, false, NULL }, { 1, INFO, W, 0, 0, 2, false, NULL },
			     { 2, I, R, 0, 0, 3, false, NULL }, { 2, OK, R, ABSENT, 0, 4, false, NULL },
			     { 2, I, R, 0, 0, 5, false, NULL }, { 2, OK, R, "x", 0, 6, false, NULL }), CHECK_LINEARIZABLE);
	/* Never. */
	assert_int_equal(RUN({ 1, I, W, "x", 0, 1, false, NULL }, { 1, INFO, W, 0, 0, 2, false, NULL },
			     { 2, I, R, 0, 0, 3, false, NULL }, { 2, OK, R, ABSENT, 0, 4, false, NULL }), CHECK_LINEARIZABLE);
	/* But at most once, and not before its invoke. */
	assert_int_equal(RUN({ 2, I, R, 0, 0, 1, false, NULL }, { 2, OK, R, "x", 0, 2, false, NULL },
			     { 1, I, W, "x", 0, 3, false, NULL }, { 1, INFO, W, 0, 0, 4, false, NULL }), CHECK_NOT_LINEARIZABLE);
	assert_int_equal(RUN({ 1, I, APP, "a", 0, 1, false, NULL }, { 1, INFO, APP, 0, 0, 2, false, NULL },
			     { 2, I, R, 0, 0, 3, false, NULL }, { 2, OK, R, "aa", 0, 4, false, NULL }), CHECK_NOT_LINEARIZABLE);
	/* An unanswered invoke is the same as info. */
	assert_int_equal(RUN({ 1, I, W, "x", 0, 1, false, NULL }, { 2, I, R, 0, 0, 3, false, NULL }, { 2, OK, R, "x", 0, 4, false, NULL }),
			 CHECK_LINEARIZABLE);
	/* A read with unknown result says nothing. */
	assert_int_equal(RUN({ 2, I, R, 0, 0, 3, false, NULL }, { 2, INFO, R, 0, 0, 4, false, NULL }), CHECK_LINEARIZABLE);
}

static void test_fail_never_happened(void **state)
{
	(void)state;
	assert_int_equal(RUN({ 1, I, W, "x", 0, 1, false, NULL }, { 1, FAIL, W, 0, 0, 2, false, NULL },
			     { 2, I, R, 0, 0, 3, false, NULL }, { 2, OK, R, "x", 0, 4, false, NULL }), CHECK_NOT_LINEARIZABLE);
	assert_int_equal(RUN({ 1, I, APP, "x", 0, 1, false, NULL }, { 1, FAIL, APP, 0, 0, 2, false, NULL },
			     { 2, I, R, 0, 0, 3, false, NULL }, { 2, OK, R, ABSENT, 0, 4, false, NULL }), CHECK_LINEARIZABLE);
}

static void test_equal_times_concurrent(void **state)
{
	(void)state;
	/* The read invokes at the instant the write completes: concurrent. */
	assert_int_equal(RUN({ 1, I, W, "x", 0, 1, false, NULL }, { 1, OK, W, 0, 0, 2, false, NULL },
			     { 2, I, R, 0, 0, 2, false, NULL }, { 2, OK, R, ABSENT, 0, 3, false, NULL }), CHECK_LINEARIZABLE);
	assert_int_equal(RUN({ 1, I, W, "x", 0, 1, false, NULL }, { 1, OK, W, 0, 0, 2, false, NULL },
			     { 2, I, R, 0, 0, 3, false, NULL }, { 2, OK, R, ABSENT, 0, 3, false, NULL }), CHECK_NOT_LINEARIZABLE);
}

static void test_keys_independent(void **state)
{
	(void)state;
	assert_int_equal(RUN({ 1, I, W, "x", 0, 1, false, "a" }, { 1, OK, W, 0, 0, 2, false, "a" },
			     { 2, I, R, 0, 0, 3, false, "b" }, { 2, OK, R, ABSENT, 0, 4, false, "b" }),
			 CHECK_LINEARIZABLE);
	assert_int_equal(RUN({ 1, I, W, "x", 0, 1, false, "a" }, { 1, OK, W, 0, 0, 2, false, "a" },
			     { 2, I, R, 0, 0, 3, false, "b" }, { 2, OK, R, "x", 0, 4, false, "b" }),
			 CHECK_NOT_LINEARIZABLE);
}

/* ------------------------------------------------ brute force, differential */

/* An independent, obviously correct checker for tiny histories: try every
 * order (and every subset of the unknown-outcome operations) that respects
 * real time. Values are short strings over {a, b}; NULL is absent. */
enum { BF_MAX_OPS = 8, BF_VAL = 16 };

typedef struct bf_op {
	check_fn f;
	bool required, mismatch, maybe;
	bool has_a;
	char a[BF_VAL], b[BF_VAL]; /* has_a false: a is absent */
	int64_t call, ret;         /* ret INT64_MAX when unknown */
} bf_op;

static bool bf_search(const bf_op *ops, int n, unsigned placed, bool present, const char *val)
{
	bool done = true;
	for (int i = 0; i < n; i++)
		if (ops[i].required && !(placed & (1u << i)))
			done = false;
	if (done)
		return true;
	for (int i = 0; i < n; i++) {
		if (placed & (1u << i))
			continue;
		bool ok = true;
		for (int j = 0; j < n && ok; j++) {
			if (j == i)
				continue;
			if (!(placed & (1u << j)) && ops[j].ret < ops[i].call)
				ok = false; /* j must come before i */
			if ((placed & (1u << j)) && ops[i].ret < ops[j].call)
				ok = false; /* i had to come before j */
		}
		if (!ok)
			continue;
		const bf_op *o = &ops[i];
		bool eq_a = o->has_a ? present && strcmp(val, o->a) == 0 : !present;
		char next[2 * BF_VAL];
		bool np = present;
		snprintf(next, sizeof next, "%s", present ? val : "");
		switch (o->f) {
		case CHECK_READ:
			if (!eq_a)
				continue;
			break;
		case CHECK_WRITE:
			np = true;
			snprintf(next, sizeof next, "%s", o->a);
			break;
		case CHECK_APPEND:
			np = true;
			assert_true(strlen(next) + strlen(o->a) < BF_VAL);
			strcat(next, o->a);
			break;
		case CHECK_CAS:
			if (o->mismatch) {
				if (eq_a)
					continue;
			} else if (eq_a) {
				np = true;
				snprintf(next, sizeof next, "%s", o->b);
			} else if (!o->maybe) {
				continue;
			}
			break;
		}
		if (bf_search(ops, n, placed | (1u << i), np, next))
			return true;
	}
	return false;
}

static uint64_t bf_rng = 7;
static unsigned bf_rand(unsigned n)
{
	bf_rng = bf_rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((bf_rng >> 33) % n);
}

static const char *bf_value(void)
{
	static const char *const vals[] = { NULL, "a", "b", "ab", "ba", "" };
	return vals[bf_rand(6)];
}

/* One random tiny history, checked both ways. */
static bool bf_one(void)
{
	check_history *h = check_history_new();
	assert_non_null(h);
	bf_op ops[BF_MAX_OPS];
	int nops = 0, invoked = 0;
	int64_t t = 0;
	struct { int64_t pid; int op; bool busy; check_fn f; const char *v, *v2; } pr[3];
	for (int i = 0; i < 3; i++)
		pr[i].pid = i, pr[i].busy = false;
	int64_t next_pid = 3;
	int target = 2 + (int)bf_rand(6); /* up to 7 ops */
	while (invoked < target || pr[0].busy || pr[1].busy || pr[2].busy) {
		int i = (int)bf_rand(3);
		t += bf_rand(2); /* equal times happen */
		check_event e = { .process = pr[i].pid, .key = check_cstr("k"), .time = t };
		if (!pr[i].busy) {
			if (invoked >= target)
				continue;
			e.type = CHECK_INVOKE;
			e.f = (check_fn)bf_rand(4);
			const char *w[] = { "a", "b" };
			if (e.f == CHECK_WRITE || e.f == CHECK_APPEND)
				e.value = check_cstr(w[bf_rand(2)]);
			if (e.f == CHECK_CAS) {
				const char *x = bf_value();
				e.value = check_cstr(x && strlen(x) > 1 ? NULL : x);
				e.value2 = check_cstr(w[bf_rand(2)]);
			}
			assert_int_equal(check_history_add(h, &e), 0);
			pr[i].busy = true;
			pr[i].op = nops;
			pr[i].f = e.f;
			pr[i].v = e.value.ptr;
			pr[i].v2 = e.value2.ptr;
			bf_op *o = &ops[nops++];
			memset(o, 0, sizeof *o);
			o->f = e.f;
			o->call = t;
			o->ret = INT64_MAX;
			o->maybe = true;
			const char *a = e.f == CHECK_READ ? NULL : e.value.ptr;
			o->has_a = a != NULL;
			snprintf(o->a, sizeof o->a, "%s", a ? a : "");
			snprintf(o->b, sizeof o->b, "%s", e.value2.ptr ? e.value2.ptr : "");
			invoked++;
			continue;
		}
		bf_op *o = &ops[pr[i].op];
		e.f = pr[i].f;
		unsigned r = bf_rand(10);
		e.type = r < 6 ? CHECK_OK : r < 8 ? CHECK_FAIL : CHECK_INFO;
		if (e.f == CHECK_READ && e.type == CHECK_OK) {
			const char *v = bf_value();
			e.value = check_cstr(v);
			o->has_a = v != NULL;
			snprintf(o->a, sizeof o->a, "%s", v ? v : "");
		}
		if (e.type == CHECK_FAIL && e.f == CHECK_CAS && bf_rand(2))
			e.mismatch = true;
		assert_int_equal(check_history_add(h, &e), 0);
		pr[i].busy = false;
		if (e.type == CHECK_OK || e.mismatch) {
			o->required = true;
			o->maybe = false;
			o->mismatch = e.mismatch;
			o->ret = t;
		} else if (e.type == CHECK_FAIL || e.f == CHECK_READ) {
			o->call = INT64_MAX; /* dropped: never placeable, never required */
		}
		if (e.type == CHECK_INFO)
			pr[i].pid = next_pid++; /* nothing more from that process */
	}
	/* Dropped ops must not be placed: give them a call after everything and
	 * no requirement, then the search never needs them. */
	bool expect = bf_search(ops, nops, 0, false, "");
	check_verdict v = check_history_check(h, NULL, NULL);
	if (v != (expect ? CHECK_LINEARIZABLE : CHECK_NOT_LINEARIZABLE)) {
		check_history_write_jsonl(h, stderr);
		fail_msg("checker says %d, brute force says %s", (int)v, expect ? "ok" : "bad");
	}
	check_history_free(h);
	return expect;
}

static void test_random_vs_brute_force(void **state)
{
	(void)state;
	const char *env = getenv("CHECK_BRUTE_ITERS");
	long iters = env ? atol(env) : 3000;
	long ok = 0;
	for (long i = 0; i < iters; i++)
		ok += bf_one();
	/* Both verdicts must be common, or the comparison proves little. */
	assert_true(ok > iters / 5 && iters - ok > iters / 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_step),
		cmocka_unit_test(test_read_sees_last_write),
		cmocka_unit_test(test_real_time_order),
		cmocka_unit_test(test_cas),
		cmocka_unit_test(test_cas_mismatch_is_observation),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_info_maybe_never_or_late),
		cmocka_unit_test(test_fail_never_happened),
		cmocka_unit_test(test_equal_times_concurrent),
		cmocka_unit_test(test_keys_independent),
		cmocka_unit_test(test_random_vs_brute_force),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
