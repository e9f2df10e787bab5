/*
 * test_runtime_outcome.c — the runtime (node/runtime) on a fixture I/O table:
 * how a waiting request ends. One node is a one-voter cluster, so the test
 * decides exactly when its WAL writes become durable and what time it is.
 *
 * The rule the client relies on: a request ends "not proposed" only when it
 * definitely never entered the log; once proposed it ends "applied" or
 * "unknown", never a definite failure, whatever happens (deadline, stop).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../node/runtime/rt.h"

typedef struct fixture {
	uint64_t now;
	int writes_pending; /* written, not yet reported done */
	bool write_in_flight;
	int outcomes;
	rt_outcome last;
	char last_value[64];
	bool last_found;
} fixture;

static void io_write(void *ud, wal_batch *b, size_t n, bool sync)
{
	(void)n;
	(void)sync;
	fixture *f = ud;
	wal_batch_free(b); /* the fixture's disk keeps nothing: no restart here */
	f->write_in_flight = true;
}

static void io_send(void *ud, uint32_t to, uint8_t *frame, size_t len)
{
	(void)ud;
	(void)to;
	(void)len;
	free(frame);
}

static int io_defer(void *ud, uint32_t ms, rt_deferred *d)
{
	(void)ud;
	(void)ms;
	(void)d;
	return -1;
}

static uint64_t io_now(void *ud)
{
	return ((fixture *)ud)->now;
}

static void io_outcome(void *ud, const rt_outcome *o)
{
	fixture *f = ud;
	f->outcomes++;
	f->last = *o;
	f->last_found = false;
	if (o->end == RT_APPLIED && o->res != NULL && o->res->value.found) {
		size_t n = o->res->value.len < sizeof f->last_value - 1 ? o->res->value.len : sizeof f->last_value - 1;
		memcpy(f->last_value, o->res->value.p, n);
		f->last_value[n] = '\0';
		f->last_found = true;
	}
	f->last.res = NULL; /* only valid during the call */
	f->last.cmd = NULL;
	f->last.key = NULL;
}

static void io_kick(void *ud)
{
	(void)ud;
}

static void io_fatal(void *ud, const char *what)
{
	(void)ud;
	fail_msg("runtime fatal: %s", what);
}

static fixture fx;
static rt *r;

/* Runs the ready step; with durable, every write finishes, as often as
 * the runtime starts one. */
static void settle(bool durable)
{
	for (int i = 0; i < 20; i++) {
		rt_process(r);
		if (durable && fx.write_in_flight) {
			fx.write_in_flight = false;
			rt_write_done(r, 0, NULL);
		}
	}
}

static snapshot_policy snap_policy; /* none, unless a test's setup sets it */

static int setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof fx);
	fx.now = 1000;
	static const uint32_t voters[] = {1};
	raft_config c;
	raft_config_defaults(&c);
	c.id = 1;
	c.voters = voters;
	c.n_voters = 1;
	c.seed = 7;
	/* 1 MiB: commands over 1 KiB are big, 32 KiB of them at most (one alone fits) */
	rt_options o = {.nonce = 1, .request_timeout_ms = 500, .max_uncommitted_bytes = 1u << 20,
			.snap = snap_policy};
	rt_io io = {
		.ud = &fx, .write = io_write, .send = io_send, .defer = io_defer, .now_ms = io_now,
		.outcome = io_outcome, .kick = io_kick, .fatal = io_fatal,
	};
	r = rt_new(&c, &o, &io);
	return r != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	rt_free(r);
	memset(&snap_policy, 0, sizeof snap_policy);
	return 0;
}

/* Snapshots due every 8 KiB of entries, 4 KiB kept behind them; the host
 * never writes one (no snapshot_write): the log only grows. */
static int setup_snapshots_stuck(void **state)
{
	snap_policy = (snapshot_policy){.every_bytes = 8192, .trailing_bytes = 4096};
	return setup(state);
}

static void become_leader(void)
{
	for (int i = 0; i < 40; i++) {
		rt_tick(r);
		settle(true);
	}
	raft_status st;
	raft_get_status(rt_raft(r), &st);
	assert_int_equal(st.role, RAFT_LEADER);
}

static void put(const char *key, const char *value)
{
	kv_command c;
	memset(&c, 0, sizeof c);
	c.op = KV_OP_PUT;
	c.key.p = (const uint8_t *)key;
	c.key.len = (uint32_t)strlen(key);
	c.value.p = (const uint8_t *)value;
	c.value.len = (uint32_t)strlen(value);
	rt_propose(r, &c, RT_KIND_WRITE, key, strlen(key), NULL, 0, false);
}

static void test_refused_before_the_log_is_not_proposed(void **state)
{
	(void)state;
	put("k", "v"); /* no leader yet: raft_propose refuses */
	assert_int_equal(fx.outcomes, 1);
	assert_int_equal(fx.last.end, RT_NOT_PROPOSED);
	assert_int_equal(fx.last.why, RT_WHY_NO_LEADER);
}

static void test_applied_with_its_result(void **state)
{
	(void)state;
	become_leader();
	put("k", "v1");
	assert_int_equal(fx.outcomes, 0);
	settle(true);
	assert_int_equal(fx.outcomes, 1);
	assert_int_equal(fx.last.end, RT_APPLIED);
	assert_true(fx.last.index > 0);
	rt_read(r, "k", 1, NULL, 0);
	settle(true);
	assert_int_equal(fx.outcomes, 2);
	assert_int_equal(fx.last.end, RT_APPLIED);
	assert_true(fx.last_found);
	assert_string_equal(fx.last_value, "v1");
}

static void test_proposed_then_deadline_is_unknown(void **state)
{
	(void)state;
	become_leader();
	put("k", "v2");
	settle(false); /* its write never becomes durable: it cannot commit */
	fx.now += 499;
	rt_expire(r);
	assert_int_equal(fx.outcomes, 0);
	fx.now += 1;
	rt_expire(r);
	assert_int_equal(fx.outcomes, 1);
	assert_int_equal(fx.last.end, RT_UNKNOWN); /* it may still commit */
	assert_int_equal(fx.last.why, RT_WHY_TIMEOUT);
	/* and it does: the answer was right not to be a failure */
	fx.write_in_flight = false;
	rt_write_done(r, 0, NULL);
	settle(true);
	rt_read(r, "k", 1, NULL, 0);
	settle(true);
	assert_true(fx.last_found);
	assert_string_equal(fx.last_value, "v2");
}

static void test_stop_ends_proposed_as_unknown_and_reads_as_not_done(void **state)
{
	(void)state;
	become_leader();
	put("k", "v3");
	settle(false);
	rt_stop(r);
	assert_int_equal(fx.outcomes, 1);
	assert_int_equal(fx.last.end, RT_UNKNOWN);
	assert_int_equal(fx.last.why, RT_WHY_STOPPING);
	rt_read(r, "k", 1, NULL, 0); /* after the stop: refused at once */
	assert_int_equal(fx.outcomes, 2);
	assert_int_equal(fx.last.end, RT_NOT_PROPOSED);
}

static void test_paused_write_completion_waits_for_resume(void **state)
{
	(void)state;
	become_leader();
	put("k", "v4");
	settle(false);
	assert_true(fx.write_in_flight);
	rt_set_paused(r, true);
	raft_status before, after;
	raft_get_status(rt_raft(r), &before);
	fx.write_in_flight = false;
	rt_write_done(r, 0, NULL); /* the disk finishes while paused */
	settle(false);
	raft_get_status(rt_raft(r), &after);
	/* nothing moved: the core was not told (no commit), no answer */
	assert_int_equal(after.commit, before.commit);
	assert_int_equal(fx.outcomes, 0);
	rt_set_paused(r, false);
	settle(true);
	assert_int_equal(fx.outcomes, 1);
	assert_int_equal(fx.last.end, RT_APPLIED);
}

static char *filled(size_t n)
{
	char *v = malloc(n + 1);
	assert_non_null(v);
	memset(v, 'b', n);
	v[n] = '\0';
	return v;
}

/* Admission (issue 15.4): big commands share a budget of their own, so a
 * flood of them is refused before proposing while small writes still go. */
static void test_big_commands_have_their_own_budget(void **state)
{
	(void)state;
	become_leader();
	char *big = filled(100 << 10);
	put("a", big);
	settle(false); /* never durable: it stays unanswered */
	assert_int_equal(fx.outcomes, 0);
	assert_false(rt_admits(r, 100 << 10));
	put("b", big); /* 200 KiB of big commands > 32 KiB */
	assert_int_equal(fx.outcomes, 1);
	assert_int_equal(fx.last.end, RT_NOT_PROPOSED);
	assert_int_equal(fx.last.why, RT_WHY_OVERLOADED);
	assert_true(rt_admits(r, 100));
	put("c", "small"); /* a small write is still proposed */
	assert_int_equal(fx.outcomes, 1);
	free(big);
}

/* Admission by delay: while the oldest waiting request has waited over
 * 100 ms, big commands are refused; small ones are not. */
static void test_big_commands_wait_for_the_queue_to_drain(void **state)
{
	(void)state;
	become_leader();
	put("a", "small");
	settle(false);
	fx.now += 100;
	assert_true(rt_admits(r, 2048));
	fx.now += 1;
	assert_false(rt_admits(r, 2048));
	char *big = filled(2048);
	put("b", big);
	assert_int_equal(fx.outcomes, 1);
	assert_int_equal(fx.last.why, RT_WHY_OVERLOADED);
	put("c", "small");
	assert_int_equal(fx.outcomes, 1);
	/* once the queue drains, big commands are taken again */
	fx.write_in_flight = false;
	rt_write_done(r, 0, NULL);
	settle(true);
	assert_int_equal(fx.outcomes, 3);
	assert_true(rt_admits(r, 2048));
	free(big);
}

/* Admission by the log in memory (rule 4): when snapshots do not keep up,
 * every write is refused (503, not proposed) once the log holds more than
 * snapshot bytes + trailing bytes + max_uncommitted_bytes, instead of the
 * log growing by every byte committed (issue 15.4). */
static void test_writes_refused_while_the_log_is_over_its_bound(void **state)
{
	(void)state;
	become_leader();
	uint64_t limit = 8192 + 4096 + (1u << 20);
	char *v = filled(900); /* small: under 1 KiB */
	int applied = 0;
	for (int i = 0; i < 2000 && raft_log_bytes(rt_raft(r)) <= limit; i++) {
		put("k", v);
		settle(true);
		assert_int_equal(fx.last.end, RT_APPLIED);
		applied++;
	}
	assert_true(applied > 1000);
	assert_true(raft_log_bytes(rt_raft(r)) > limit);
	assert_false(rt_admits(r, 10));
	int before = fx.outcomes;
	put("k", "small");
	assert_int_equal(fx.outcomes, before + 1);
	assert_int_equal(fx.last.end, RT_NOT_PROPOSED);
	assert_int_equal(fx.last.why, RT_WHY_OVERLOADED);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_refused_before_the_log_is_not_proposed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_applied_with_its_result, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proposed_then_deadline_is_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_ends_proposed_as_unknown_and_reads_as_not_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paused_write_completion_waits_for_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_commands_have_their_own_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_commands_wait_for_the_queue_to_drain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writes_refused_while_the_log_is_over_its_bound, setup_snapshots_stuck, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
