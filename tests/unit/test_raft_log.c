/*
 * test_raft_log.c — the in-memory log's byte count (node/raft/log.c), which
 * /metrics reports as raftkv_log_bytes and the runtime's admission bounds:
 * it must equal the data bytes of the stored entries through appends,
 * truncations, compactions and resets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../node/raft/log.h"

static uint64_t sum(const raft_log *l)
{
	uint64_t s = 0;
	for (uint64_t i = log_first_index(l); i <= log_last_index(l); i++)
		s += log_get(l, i)->len;
	return s;
}

static void test_bytes_follow_every_change(void **state)
{
	(void)state;
	raft_log l;
	log_init(&l);
	uint8_t data[300];
	memset(data, 'd', sizeof data);
	for (uint32_t i = 1; i <= 200; i++)
		assert_int_equal(log_append(&l, 1 + i / 50, 0, data, i % 300), 0);
	assert_int_equal(l.bytes, sum(&l));
	assert_int_equal(l.bytes, 200u * 201u / 2u);
	log_truncate_from(&l, 151);
	assert_int_equal(log_last_index(&l), 150);
	assert_int_equal(l.bytes, sum(&l));
	log_compact_to(&l, 40);
	assert_int_equal(l.bytes, sum(&l));
	assert_int_equal(l.bytes, 150u * 151u / 2u - 40u * 41u / 2u);
	/* appends after compaction (slots reclaimed at the front) */
	for (uint32_t i = 0; i < 500; i++)
		assert_int_equal(log_append(&l, 9, 0, data, 7), 0);
	log_compact_to(&l, 400);
	assert_int_equal(l.bytes, sum(&l));
	assert_int_equal(log_append(&l, 9, 0, NULL, 0), 0); /* an empty entry */
	assert_int_equal(l.bytes, sum(&l));
	log_reset(&l, 1000, 9);
	assert_int_equal(l.bytes, 0);
	assert_int_equal(log_append(&l, 9, 0, data, 5), 0);
	assert_int_equal(l.bytes, 5);
	log_free(&l);
	assert_int_equal(l.bytes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_follow_every_change),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
