/*
 * test_raft_log.c — the core's in-memory log (node/raft/log.c) against a
 * model: entries of random sizes (empty, small, over a chunk) appended,
 * compacted from the front, truncated from the back and reset, in random
 * order; after every step each stored entry holds exactly its bytes. The
 * entry copies live in shared chunks; under ASan the bytes between them and
 * of dropped entries are poisoned, so a stray access fails the test there.
 * And the log's byte count (raftkv_log_bytes, the runtime's admission bound)
 * equals the data bytes of the stored entries through every change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../node/common/splitmix.h"
#include "../../node/raft/log.h"

#define MAX_ENTS 4096

typedef struct model {
	uint64_t first, last; /* stored: first..last (empty when last < first) */
	uint32_t len[MAX_ENTS + 1];
	uint64_t seed[MAX_ENTS + 1]; /* the entry's bytes come from this seed */
	uint64_t term[MAX_ENTS + 1];
} model;

static void fill(uint8_t *p, uint32_t len, uint64_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(splitmix64_next(&seed) >> 56);
}

static void check(const raft_log *l, const model *m)
{
	assert_int_equal(log_first_index(l), m->first);
	assert_int_equal(log_last_index(l), m->last);
	static uint8_t want[200000];
	uint64_t bytes = 0;
	for (uint64_t i = m->first; i <= m->last; i++)
		bytes += m->len[i];
	assert_int_equal(l->bytes, bytes);
	for (uint64_t i = m->first; i <= m->last; i++) {
		const raft_entry *e = log_get(l, i);
		assert_non_null(e);
		assert_int_equal(e->index, i);
		assert_int_equal(e->term, m->term[i]);
		assert_int_equal(e->len, m->len[i]);
		if (e->len == 0) {
			assert_null(e->data);
			continue;
		}
		fill(want, e->len, m->seed[i]);
		assert_memory_equal(e->data, want, e->len);
	}
}

static uint32_t draw_len(uint64_t *r)
{
	uint64_t k = splitmix64_next(r) % 100;
	if (k < 5)
		return 0;
	if (k < 8) /* bigger than a chunk: a chunk of its own */
		return (uint32_t)(65536 + splitmix64_next(r) % 100000);
	if (k < 15)
		return (uint32_t)(splitmix64_next(r) % 8000);
	return (uint32_t)(1 + splitmix64_next(r) % 120);
}

static void test_log_random_ops(void **state)
{
	(void)state;
	static uint8_t buf[200000];
	model *m = calloc(1, sizeof *m);
	assert_non_null(m);
	uint64_t r = 0x1092f;
	raft_log l;
	log_init(&l);
	m->first = 1;
	m->last = 0;
	uint64_t term = 1;
	for (int step = 0; step < 20000; step++) {
		uint64_t k = splitmix64_next(&r) % 100;
		if (k < 70 && m->last < MAX_ENTS) {
			uint64_t i = m->last + 1;
			m->len[i] = draw_len(&r);
			m->seed[i] = splitmix64_next(&r);
			m->term[i] = term;
			fill(buf, m->len[i], m->seed[i]);
			assert_int_equal(log_append(&l, term, RAFT_ENTRY_NORMAL, buf, m->len[i]), 0);
			m->last = i;
		} else if (k < 82 && m->last >= m->first) { /* compact a prefix */
			uint64_t to = m->first + splitmix64_next(&r) % (m->last - m->first + 1);
			log_compact_to(&l, to);
			m->first = to + 1;
		} else if (k < 94 && m->last >= m->first) { /* truncate a suffix */
			uint64_t from = m->first + splitmix64_next(&r) % (m->last - m->first + 1);
			log_truncate_from(&l, from);
			m->last = from - 1;
			term++;
		} else if (k < 96) { /* reset to a snapshot point ahead */
			uint64_t at = m->last + splitmix64_next(&r) % 5;
			if (at < MAX_ENTS - 10) {
				log_reset(&l, at, term);
				m->first = at + 1;
				m->last = at;
			}
		} else if (m->last >= MAX_ENTS - 1 || k == 99) { /* start over, freeing all */
			log_free(&l);
			m->first = 1;
			m->last = 0;
		}
		if (step % 97 == 0 || step > 19900)
			check(&l, m);
	}
	check(&l, m);
	log_free(&l);
	free(m);
}

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
		cmocka_unit_test(test_log_random_ops),
		cmocka_unit_test(test_bytes_follow_every_change),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
