/*
 * test_runtime_clock.c — rt_clock (node/runtime/rt_clock.c), the one place
 * where a node clock reading becomes Raft ticks: a stall of the loop is not
 * a clock jump (issue 15.4), a clock fault still is.
 *
 * The node is a follower of a 3-voter cluster that has heard nobody: any
 * election timeout it reaches shows as a pre-vote sent to its two peers.
 * Election timeout: 10 ticks of 10 ms, randomized in [10, 20) ticks.
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

#define TICK 10u

static int sends;

static void io_write(void *ud, wal_batch *b, size_t n, bool sync)
{
	(void)ud;
	(void)n;
	(void)sync;
	wal_batch_free(b);
}

static void io_send(void *ud, uint32_t to, uint8_t *frame, size_t len)
{
	(void)ud;
	(void)to;
	(void)len;
	sends++;
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
	(void)ud;
	return 0;
}

static void io_outcome(void *ud, const rt_outcome *o)
{
	(void)ud;
	(void)o;
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

static rt *r;

static int setup(void **state)
{
	(void)state;
	sends = 0;
	static const uint32_t voters[] = {1, 2, 3};
	raft_config c;
	raft_config_defaults(&c);
	c.id = 1;
	c.voters = voters;
	c.n_voters = 3;
	c.seed = 11;
	rt_options o = {.nonce = 1, .request_timeout_ms = 500};
	rt_io io = {
		.ud = NULL, .write = io_write, .send = io_send, .defer = io_defer, .now_ms = io_now,
		.outcome = io_outcome, .kick = io_kick, .fatal = io_fatal,
	};
	r = rt_new(&c, &o, &io);
	if (r == NULL)
		return -1;
	rt_clock_anchor(r, 0, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rt_free(r);
	return 0;
}

static uint8_t role(void)
{
	raft_status st;
	raft_get_status(rt_raft(r), &st);
	return st.role;
}

/* The loop did not run for 5 s, twice (node clock and real time moved
 * together): the messages that arrived meanwhile are still unread, so the
 * ticks owed are dropped and no election timeout fires (as bursts, the two
 * would be 2 x 10 ticks, past any timeout). Calls on time go on ticking. */
static void test_a_stall_fires_no_timeout(void **state)
{
	(void)state;
	rt_clock(r, 5000, 5000, TICK);
	rt_process(r);
	rt_clock(r, 10000, 10000, TICK);
	rt_process(r);
	assert_int_equal(role(), RAFT_FOLLOWER);
	assert_int_equal(sends, 0);
	/* punctual calls after it: the timeout comes within 20 ticks */
	uint64_t t = 10000;
	for (int i = 0; i < 20 && role() == RAFT_FOLLOWER; i++) {
		t += TICK;
		rt_clock(r, t, t, TICK);
		rt_process(r);
	}
	assert_int_equal(role(), RAFT_PRECANDIDATE);
	assert_true(sends >= 2);
}

/* Repeated stalls (each iteration 3 ticks long): one tick per call still
 * comes from real time, so a timeout is late but never lost. */
static void test_repeated_stalls_still_time_out(void **state)
{
	(void)state;
	uint64_t t = 0;
	for (int i = 0; i < 20 && role() == RAFT_FOLLOWER; i++) {
		t += 3 * TICK;
		rt_clock(r, t, t, TICK);
		rt_process(r);
	}
	assert_int_equal(role(), RAFT_PRECANDIDATE);
}

/* 9 punctual ticks: below any election timeout in [10, 20). */
static uint64_t nine_ticks(void)
{
	uint64_t t = 0;
	for (int i = 0; i < 9; i++) {
		t += TICK;
		rt_clock(r, t, t, TICK);
		rt_process(r);
	}
	assert_int_equal(role(), RAFT_FOLLOWER);
	assert_int_equal(sends, 0);
	return t;
}

/* A clock fault: the node clock jumps 5 s while real time moves one tick.
 * That is a jump, delivered at once (one election timeout of ticks, which
 * with the 9 before passes any randomized timeout). */
static void test_a_clock_jump_still_fires(void **state)
{
	(void)state;
	uint64_t t = nine_ticks();
	rt_clock(r, t + 5000 + TICK, t + TICK, TICK);
	rt_process(r);
	assert_int_equal(role(), RAFT_PRECANDIDATE);
	assert_true(sends >= 2);
}

/* A jump during a stall: what the clock moved beyond real time fires. */
static void test_a_jump_inside_a_stall_fires(void **state)
{
	(void)state;
	uint64_t t = nine_ticks();
	rt_clock(r, t + 10000, t + 5000, TICK);
	rt_process(r);
	assert_int_equal(role(), RAFT_PRECANDIDATE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_stall_fires_no_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repeated_stalls_still_time_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_clock_jump_still_fires, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_jump_inside_a_stall_fires, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
