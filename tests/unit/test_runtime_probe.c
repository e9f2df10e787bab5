/*
 * test_runtime_probe.c — a node with an empty data dir stays silent while it
 * decides its incarnation (node/runtime/rt_incarnation.h), whichever way its
 * time arrives: rt_tick, or rt_clock (the node's ticker and the simulator).
 *
 * Found by the simulator (seed 390 of `make sim` once it wiped nodes and
 * started them empty): rt_clock ticked the core itself while the runtime was
 * still probing, so with pre-vote off an empty node campaigned (term 1, a
 * vote for itself in its hard state) before it knew which life it was; the
 * probe's verdict then found a core that had spoken, raft_set_incarnation
 * refused, and the node stopped with a fatal error. Kept as the simulator's
 * planted bug 13 (node/runtime/rt_planted.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../node/net/wire.h"
#include "../../node/runtime/rt.h"

typedef struct fixture {
	uint64_t now;
	int fatals;
	char fatal[256];
	bool kept;
	uint64_t incarnation;
	int sent;
} fixture;

static void io_write(void *ud, wal_batch *b, size_t n, bool sync)
{
	(void)ud;
	(void)n;
	(void)sync;
	wal_batch_free(b);
}

static void io_send(void *ud, uint32_t to, uint8_t *frame, size_t len)
{
	(void)to;
	(void)len;
	((fixture *)ud)->sent++;
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
	(void)ud;
	(void)o;
}

static void io_kick(void *ud)
{
	(void)ud;
}

static void io_fatal(void *ud, const char *what)
{
	fixture *f = ud;
	f->fatals++;
	snprintf(f->fatal, sizeof f->fatal, "%s", what);
}

static int io_keep(void *ud, uint64_t inc)
{
	fixture *f = ud;
	f->kept = true;
	f->incarnation = inc;
	return 0;
}

static int io_raise(void *ud, uint64_t at_least, uint64_t *nonce)
{
	(void)ud;
	*nonce = at_least;
	return 0;
}

static fixture fx;
static rt *r;
static const uint32_t voters[] = {1, 2, 3};

static int setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof fx);
	fx.now = 1000;
	raft_config c;
	raft_config_defaults(&c);
	c.id = 1;
	c.voters = voters;
	c.n_voters = 3;
	c.election_ticks = 10;
	c.heartbeat_ticks = 2;
	c.pre_vote = false; /* a campaign then bumps the term at once */
	c.seed = 7;
	rt_options o = {.nonce = 1, .request_timeout_ms = 500, .probe_incarnation = true,
			.fresh_incarnation = 77};
	rt_io io = {
		.ud = &fx, .write = io_write, .send = io_send, .defer = io_defer, .now_ms = io_now,
		.outcome = io_outcome, .kick = io_kick, .fatal = io_fatal, .keep_incarnation = io_keep,
		.raise_nonce = io_raise,
	};
	r = rt_new(&c, &o, &io);
	return r != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	rt_free(r);
	return 0;
}

/* What an empty member of a new cluster sends: a pre-vote at term 1, no log. */
static void hear_empty(uint32_t from)
{
	raft_msg m;
	memset(&m, 0, sizeof m);
	m.type = RAFT_MSG_PREVOTE;
	m.from = from;
	m.to = 1;
	m.term = 1;
	uint8_t *frame;
	size_t len;
	assert_int_equal(wire_encode(&m, &frame, &len), 0);
	assert_int_equal(rt_step_frame(r, from, frame, len), 0);
	free(frame);
	rt_process(r);
}

static void assert_silent_core(void)
{
	raft_status st;
	raft_get_status(rt_raft(r), &st);
	assert_int_equal(st.term, 0);
	assert_int_equal(st.vote, RAFT_NONE);
	assert_int_equal(st.role, RAFT_FOLLOWER);
}

/* Five election timeouts of node clock, 10 ms ticks, in steps as the
 * ticker reads it: the core is not ticked, probes go out instead. */
static void test_clock_does_not_tick_a_probing_core(void **state)
{
	(void)state;
	rt_clock_anchor(r, 0, 0);
	for (uint64_t ms = 10; ms <= 500; ms += 10) {
		fx.now += 10;
		rt_clock(r, ms, ms, 10);
		rt_process(r);
	}
	assert_true(rt_probing(r));
	assert_silent_core();
	assert_true(fx.sent > 0); /* it probed */
	hear_empty(2);
	hear_empty(3);
	assert_false(rt_probing(r));
	assert_int_equal(fx.fatals, 0);
	assert_true(fx.kept);
	assert_int_equal(fx.incarnation, 0);
	assert_int_equal(raft_get_incarnation(rt_raft(r)), 0);
}

/* A jump of the node clock while probing is still no tick of the core. */
static void test_clock_jump_while_probing(void **state)
{
	(void)state;
	rt_clock_anchor(r, 0, 0);
	for (uint64_t k = 1; k <= 5; k++) {
		rt_clock(r, 100000 * k, 10 * k, 10); /* a clock fault: real time moves a tick */
		rt_process(r);
	}
	assert_true(rt_probing(r));
	assert_silent_core();
}

/* rt_tick (the other way in) was already silent: kept so both stay so. */
static void test_tick_does_not_tick_a_probing_core(void **state)
{
	(void)state;
	for (int i = 0; i < 50; i++) {
		rt_tick(r);
		rt_process(r);
	}
	assert_true(rt_probing(r));
	assert_silent_core();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clock_does_not_tick_a_probing_core, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_jump_while_probing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tick_does_not_tick_a_probing_core, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
