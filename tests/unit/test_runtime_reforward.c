/*
 * test_runtime_reforward.c — a follower's forwarded write follows a new
 * leader (node/runtime/rt.c, rt_reforward): forwarded to leader 2, which
 * then dies, the same command (same origin, nonce and request id, so the
 * state machine's de-duplication applies it once) is forwarded to leader 3
 * as soon as 3 is known, instead of waiting for the request's deadline.
 * Node 1 of a 3-voter cluster, on a fixture I/O table that records frames.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../node/kv/kv_command.h"
#include "../../node/net/wire.h"
#include "../../node/runtime/rt.h"

#define MAX_SENT 64

typedef struct sent {
	uint32_t to;
	uint8_t type;
	uint64_t req_id;   /* of a PROPOSE's first command */
	size_t n_entries;
} sent;

typedef struct fixture {
	uint64_t now;
	bool write_in_flight;
	int outcomes;
	sent sent[MAX_SENT];
	size_t n_sent;
} fixture;

static fixture fx;
static rt *r;

static void io_write(void *ud, wal_batch *b, size_t n, bool sync)
{
	(void)n;
	(void)sync;
	wal_batch_free(b);
	((fixture *)ud)->write_in_flight = true;
}

static void io_send(void *ud, uint32_t to, uint8_t *frame, size_t len)
{
	fixture *f = ud;
	raft_msg m;
	const char *why = NULL;
	assert_int_equal(wire_decode(frame, len, &m, &why), 0);
	assert_true(f->n_sent < MAX_SENT);
	sent *s = &f->sent[f->n_sent++];
	s->to = to;
	s->type = m.type;
	s->n_entries = m.n_entries;
	s->req_id = 0;
	if (m.type == RAFT_MSG_PROPOSE && m.n_entries > 0) {
		kv_command c;
		assert_int_equal(kv_command_decode(m.entries[0].data, m.entries[0].len, &c), 0);
		s->req_id = c.req_id;
		kv_command_release(&c);
	}
	wire_msg_free(&m);
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
	(void)o;
	((fixture *)ud)->outcomes++;
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

static void settle(void)
{
	for (int i = 0; i < 20; i++) {
		rt_process(r);
		if (fx.write_in_flight) {
			fx.write_in_flight = false;
			rt_write_done(r, 0, NULL);
		}
	}
}

static int setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof fx);
	fx.now = 1000;
	static const uint32_t voters[] = {1, 2, 3};
	raft_config c;
	raft_config_defaults(&c);
	c.id = 1;
	c.voters = voters;
	c.n_voters = 3;
	c.seed = 7;
	rt_options o = {.nonce = 1, .request_timeout_ms = 5000};
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
	return 0;
}

/* A heartbeat of `from` at `term` reaches node 1: it follows `from`. */
static void heartbeat(uint32_t from, uint64_t term)
{
	raft_msg m;
	memset(&m, 0, sizeof m);
	m.type = RAFT_MSG_HEARTBEAT;
	m.from = from;
	m.to = 1;
	m.term = term;
	uint8_t *frame;
	size_t len;
	assert_int_equal(wire_encode(&m, &frame, &len), 0);
	assert_int_equal(rt_step_frame(r, from, frame, len), 0);
	free(frame);
	settle();
	raft_status st;
	raft_get_status(rt_raft(r), &st);
	assert_int_equal(st.leader, from);
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

/* The PROPOSE frames sent to `to` since index `from`: count, last req id. */
static size_t proposes_to(uint32_t to, size_t from, uint64_t *req_id)
{
	size_t n = 0;
	for (size_t i = from; i < fx.n_sent; i++)
		if (fx.sent[i].type == RAFT_MSG_PROPOSE && fx.sent[i].to == to) {
			n++;
			*req_id = fx.sent[i].req_id;
		}
	return n;
}

static void test_forwarded_write_follows_the_new_leader(void **state)
{
	(void)state;
	heartbeat(2, 1);
	put("k", "v");
	settle();
	uint64_t first = 0, again = 0;
	assert_int_equal(proposes_to(2, 0, &first), 1);
	assert_true(first != 0);
	assert_int_equal(fx.outcomes, 0); /* waiting for the entry to be applied */
	size_t mark = fx.n_sent;
	heartbeat(3, 2); /* 2 is gone: 3 leads in term 2 */
	assert_int_equal(proposes_to(3, mark, &again), 1);
	assert_int_equal(again, first); /* the same command: de-duplicated if both land */
	assert_int_equal(fx.outcomes, 0);
	/* Another heartbeat of the same leader forwards nothing more. */
	mark = fx.n_sent;
	heartbeat(3, 2);
	assert_int_equal(proposes_to(3, mark, &again), 0);
}

static void test_nothing_forwarded_stays_quiet(void **state)
{
	(void)state;
	heartbeat(2, 1);
	heartbeat(3, 2);
	uint64_t id = 0;
	assert_int_equal(proposes_to(2, 0, &id) + proposes_to(3, 0, &id), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_forwarded_write_follows_the_new_leader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_forwarded_stays_quiet, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
