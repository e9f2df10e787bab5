/*
 * test_kv_snapshot.c — the state machine survives a snapshot round trip
 * whole: every key and value (binary, empty), the configuration, and the
 * dedup record, so that a write retried after an install is still refused
 * and later verdicts (including evictions) match a replica that replayed.
 * Damaged streams — every truncation, every single bit flip, trailing bytes,
 * wrong magic/version — are refused, and a refusal restores nothing.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../node/common/crc32c.h"
#include "../../node/kv/kv_machine.h"
#include "../../node/kv/kv_snapshot.h"

typedef struct membuf {
	uint8_t *p;
	size_t len, cap;
	size_t chunks;
	size_t max_chunk;
	size_t fail_after; /* refuse the chunk after this many (0 = never) */
} membuf;

static int mem_sink(void *ctx, const uint8_t *buf, size_t len)
{
	membuf *b = ctx;
	if (b->fail_after && b->chunks == b->fail_after)
		return -1;
	if (b->len + len > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		while (nc < b->len + len)
			nc *= 2;
		uint8_t *n = realloc(b->p, nc);
		if (n == NULL)
			return -1;
		b->p = n;
		b->cap = nc;
	}
	memcpy(b->p + b->len, buf, len);
	b->len += len;
	b->chunks++;
	if (len > b->max_chunk)
		b->max_chunk = len;
	return 0;
}

static kv_bytes B(const char *s)
{
	kv_bytes b = {(const uint8_t *)s, (uint32_t)strlen(s)};
	return b;
}

static int put_as(kv_machine *m, uint32_t origin, uint64_t nonce, uint64_t id, const char *k,
		  const char *v, kv_result *res)
{
	kv_command c = {.op = KV_OP_PUT, .origin = origin, .nonce = nonce, .req_id = id,
			.key = B(k), .value = B(v)};
	return kv_machine_apply(m, &c, res);
}

static kv_snap_meta meta3(uint64_t index, uint64_t term)
{
	kv_snap_meta m = {.index = index, .term = term, .n_voters = 3, .voters = {1, 2, 3}};
	return m;
}

/* A machine with plain, binary, empty and large entries and three origins. */
static void fill(kv_machine *m)
{
	char k[32], v[64];
	for (int i = 0; i < 3000; i++) {
		snprintf(k, sizeof k, "key-%d", i);
		snprintf(v, sizeof v, "value-%d-%0*d", i, i % 40, 0);
		assert_int_equal(put_as(m, 1 + (uint32_t)(i % 3), 7, 1 + (uint64_t)i, k, v, NULL), 0);
	}
	assert_int_equal(kv_store_put(m->store, (const uint8_t *)"a\0b", 3, (const uint8_t *)"\0\1\2", 3), 0);
	assert_int_equal(kv_store_put(m->store, (const uint8_t *)"", 0, (const uint8_t *)"empty key", 9), 0);
	assert_int_equal(kv_store_put(m->store, (const uint8_t *)"empty value", 11, (const uint8_t *)"", 0), 0);
	size_t big = 300000; /* larger than one chunk */
	uint8_t *bv = malloc(big);
	assert_non_null(bv);
	for (size_t i = 0; i < big; i++)
		bv[i] = (uint8_t)(i * 31);
	assert_int_equal(kv_store_put(m->store, (const uint8_t *)"big", 3, bv, big), 0);
	free(bv);
}

static int same_in(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	const kv_store *other = ctx;
	const uint8_t *v;
	size_t n;
	if (!kv_store_get(other, key, klen, &v, &n) || n != vlen || (n && memcmp(v, val, n) != 0))
		return 1;
	return 0;
}

static void assert_same_store(const kv_store *a, const kv_store *b)
{
	assert_int_equal(kv_store_count(a), kv_store_count(b));
	assert_int_equal(kv_store_foreach(a, same_in, (void *)b), 0);
}

static membuf snap_of(const kv_machine *m, const kv_snap_meta *meta)
{
	membuf b = {0};
	char err[200];
	uint64_t bytes = 0;
	assert_int_equal(kv_snapshot_write(m, meta, mem_sink, &b, &bytes, err, sizeof err), 0);
	assert_int_equal(bytes, b.len);
	return b;
}

static void test_round_trip_whole_machine(void **state)
{
	(void)state;
	kv_machine m;
	assert_int_equal(kv_machine_init(&m), 0);
	fill(&m);
	kv_snap_meta meta = meta3(4242, 9);
	membuf b = snap_of(&m, &meta);
	assert_true(b.max_chunk <= KV_SNAP_CHUNK);
	assert_true(b.chunks > 1);

	kv_machine r;
	kv_snap_meta got;
	char err[200];
	assert_int_equal(kv_snapshot_restore_buf(b.p, b.len, &r, &got, err, sizeof err), 0);
	assert_int_equal(got.index, 4242);
	assert_int_equal(got.term, 9);
	assert_int_equal(got.n_voters, 3);
	assert_int_equal(got.voters[0], 1);
	assert_int_equal(got.voters[2], 3);
	assert_int_equal(got.n_outgoing, 0);
	assert_same_store(m.store, r.store);
	assert_same_store(r.store, m.store);

	/* The same stream, fed one byte at a time and in odd chunk sizes. */
	size_t steps[] = {1, 7, 4096, 65537};
	for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
		kv_snap_reader *rd = kv_snap_reader_new();
		assert_non_null(rd);
		for (size_t off = 0; off < b.len; off += steps[s]) {
			size_t n = b.len - off < steps[s] ? b.len - off : steps[s];
			assert_int_equal(kv_snap_reader_feed(rd, b.p + off, n, err, sizeof err), 0);
			if (off >= KV_SNAP_HEADER_BYTES + 200) {
				kv_snap_meta early;
				assert_int_equal(kv_snap_reader_meta(rd, &early), 1);
				assert_int_equal(early.index, 4242);
			}
		}
		kv_machine r2;
		assert_int_equal(kv_snap_reader_finish(rd, &r2, &got, err, sizeof err), 0);
		assert_same_store(m.store, r2.store);
		kv_machine_destroy(&r2);
		kv_snap_reader_free(rd);
	}
	kv_machine_destroy(&r);
	kv_machine_destroy(&m);
	free(b.p);
}

/* The dedup record: what the user relies on is that a write retried after
 * the snapshot is installed is still recognised, and that both replicas keep
 * agreeing on every later verdict. */
static void test_round_trip_keeps_dedup_verdicts(void **state)
{
	(void)state;
	kv_machine m;
	assert_int_equal(kv_machine_init(&m), 0);
	/* Origin 1 has ids 1..10 applied, origin 2 a window slid far up. */
	for (uint64_t id = 1; id <= 10; id++)
		assert_int_equal(put_as(&m, 1, 100, id, "x", "v", NULL), 0);
	assert_int_equal(put_as(&m, 2, 5, 200000, "y", "w", NULL), 0);
	assert_int_equal(put_as(&m, 2, 5, 199990, "y", "w2", NULL), 0);
	kv_snap_meta meta = meta3(12, 2);
	membuf b = snap_of(&m, &meta);
	kv_machine r;
	kv_snap_meta got;
	char err[200];
	assert_int_equal(kv_snapshot_restore_buf(b.p, b.len, &r, &got, err, sizeof err), 0);

	/* A retried write: refused on the restored replica. */
	kv_result res;
	assert_int_equal(put_as(&r, 1, 100, 7, "x", "RETRY", &res), 0);
	assert_int_equal(res.status, KV_DUPLICATE);
	kv_result_release(&res);
	assert_int_equal(put_as(&r, 2, 5, 199990, "y", "RETRY", &res), 0);
	assert_int_equal(res.status, KV_DUPLICATE);
	kv_result_release(&res);
	assert_int_equal(put_as(&r, 1, 99, 11, "x", "OLD BOOT", &res), 0);
	assert_int_equal(res.status, KV_STALE);
	kv_result_release(&res);
	const uint8_t *v;
	size_t n;
	assert_true(kv_store_get(r.store, (const uint8_t *)"x", 1, &v, &n));
	assert_memory_equal(v, "v", 1);

	/* From here both replicas see the same log: every verdict agrees,
	 * including the evictions once more than KV_DEDUP_MAX_ORIGINS origins
	 * appear (eviction order comes from the restored use stamps). */
	for (uint32_t step = 0; step < 400; step++) {
		uint32_t origin = 1 + (step * 7) % (KV_DEDUP_MAX_ORIGINS + 9);
		uint64_t id = 1 + step % 13;
		kv_result a, c;
		assert_int_equal(put_as(&m, origin, 100, id, "z", "1", &a), 0);
		assert_int_equal(put_as(&r, origin, 100, id, "z", "1", &c), 0);
		assert_int_equal(a.status, c.status);
		kv_result_release(&a);
		kv_result_release(&c);
	}
	assert_same_store(m.store, r.store);
	kv_machine_destroy(&r);
	kv_machine_destroy(&m);
	free(b.p);
}

static void test_empty_machine_and_bad_meta(void **state)
{
	(void)state;
	kv_machine m;
	assert_int_equal(kv_machine_init(&m), 0);
	kv_snap_meta meta = {.index = 0, .term = 0, .n_voters = 1, .voters = {5}};
	membuf b = snap_of(&m, &meta);
	kv_machine r;
	kv_snap_meta got;
	char err[200];
	assert_int_equal(kv_snapshot_restore_buf(b.p, b.len, &r, &got, err, sizeof err), 0);
	assert_int_equal(kv_store_count(r.store), 0);
	assert_int_equal(got.voters[0], 5);
	kv_machine_destroy(&r);
	free(b.p);

	membuf none = {0};
	kv_snap_meta bad = {.index = 1, .term = 1, .n_voters = 0};
	assert_int_equal(kv_snapshot_write(&m, &bad, mem_sink, &none, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "voters"));
	bad.n_voters = KV_SNAP_MAX_VOTERS + 1;
	assert_int_equal(kv_snapshot_write(&m, &bad, mem_sink, &none, NULL, err, sizeof err), -1);
	assert_int_equal(none.len, 0);
	kv_machine_destroy(&m);
}

static void test_sink_failure_is_reported(void **state)
{
	(void)state;
	kv_machine m;
	assert_int_equal(kv_machine_init(&m), 0);
	fill(&m);
	kv_snap_meta meta = meta3(3, 1);
	membuf b = {.fail_after = 2};
	char err[200];
	assert_int_equal(kv_snapshot_write(&m, &meta, mem_sink, &b, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "refused"));
	free(b.p);
	kv_machine_destroy(&m);
}

/* Restores buf[0..len); returns 0 only when the whole stream was accepted.
 * On refusal the machine is never handed out (nothing to destroy). */
static int try_restore(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	kv_machine r;
	kv_snap_meta got;
	int rc = kv_snapshot_restore_buf(buf, len, &r, &got, err, errlen);
	if (rc == 0)
		kv_machine_destroy(&r);
	return rc;
}

static kv_machine small_machine(void)
{
	kv_machine m;
	assert_int_equal(kv_machine_init(&m), 0);
	assert_int_equal(put_as(&m, 1, 1, 1, "alpha", "one", NULL), 0);
	assert_int_equal(put_as(&m, 1, 1, 2, "beta", "", NULL), 0);
	assert_int_equal(put_as(&m, 1, 1, 9, "gamma", "three", NULL), 0);
	return m;
}

/* Every offset of the header, the config, the key records and the end, and a
 * sample of the 8 KiB dedup bitmap in between (all alike; valgrind time). */
static bool probe_offset(size_t off, size_t len)
{
	return off < 200 || off + 200 > len || off % 37 == 0;
}

static void test_every_truncation_is_refused(void **state)
{
	(void)state;
	kv_machine m = small_machine();
	kv_snap_meta meta = meta3(77, 4);
	membuf b = snap_of(&m, &meta);
	char err[200];
	for (size_t cut = 0; cut < b.len; cut++) {
		if (!probe_offset(cut, b.len))
			continue;
		err[0] = 0;
		if (try_restore(b.p, cut, err, sizeof err) == 0)
			fail_msg("a snapshot cut to %zu of %zu bytes was accepted", cut, b.len);
		assert_true(strncmp(err, "snapshot: ", 10) == 0);
	}
	assert_non_null(strstr(err, "truncated"));
	assert_int_equal(try_restore(b.p, b.len, err, sizeof err), 0);
	/* Trailing bytes after the end record. */
	uint8_t *longer = malloc(b.len + 1);
	assert_non_null(longer);
	memcpy(longer, b.p, b.len);
	longer[b.len] = 0;
	assert_int_equal(try_restore(longer, b.len + 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "after the end"));
	free(longer);
	free(b.p);
	kv_machine_destroy(&m);
}

static void test_every_bitflip_is_refused(void **state)
{
	(void)state;
	kv_machine m = small_machine();
	kv_snap_meta meta = meta3(77, 4);
	membuf b = snap_of(&m, &meta);
	char err[200];
	uint8_t *copy = malloc(b.len);
	assert_non_null(copy);
	for (size_t off = 0; off < b.len; off++) {
		if (!probe_offset(off, b.len))
			continue;
		int bit = (int)(off % 8); /* one bit per byte keeps valgrind fast */
		memcpy(copy, b.p, b.len);
		copy[off] ^= (uint8_t)(1u << bit);
		if (try_restore(copy, b.len, err, sizeof err) == 0)
			fail_msg("bit %d of byte %zu flipped was accepted", bit, off);
	}
	/* The messages say what is wrong. */
	memcpy(copy, b.p, b.len);
	copy[0] ^= 1;
	assert_int_equal(try_restore(copy, b.len, err, sizeof err), -1);
	assert_non_null(strstr(err, "magic"));
	memcpy(copy, b.p, b.len);
	copy[b.len - 20] ^= 1; /* in the last key record: only the stream checksum can tell */
	assert_int_equal(try_restore(copy, b.len, err, sizeof err), -1);
	free(copy);
	free(b.p);
	kv_machine_destroy(&m);
}

/* A future version, with its header checksum right, is refused by name. */
static void test_unknown_version_is_refused(void **state)
{
	(void)state;
	kv_machine m = small_machine();
	kv_snap_meta meta = meta3(1, 1);
	membuf b = snap_of(&m, &meta);
	b.p[8] = 2;
	/* re-seal the header checksum (CRC-32C of bytes 0..59) */
	uint32_t c = crc32c(0, b.p, 60);
	for (int i = 0; i < 4; i++)
		b.p[60 + i] = (uint8_t)(c >> (8 * i));
	char err[200];
	assert_int_equal(try_restore(b.p, b.len, err, sizeof err), -1);
	assert_non_null(strstr(err, "version 2"));
	free(b.p);
	kv_machine_destroy(&m);
}

/* The core's configuration record rides in the CONFIG record (voters,
 * learners, incarnations, addresses: opaque bytes here) and comes back
 * byte for byte; a stream without one reads as conf_len 0. */
static void test_configuration_bytes_round_trip(void **state)
{
	(void)state;
	kv_machine m;
	assert_int_equal(kv_machine_init(&m), 0);
	kv_snap_meta meta = meta3(77, 3);
	meta.conf_len = 300;
	for (uint32_t i = 0; i < meta.conf_len; i++)
		meta.conf[i] = (uint8_t)(i * 7 + 1);
	membuf b = snap_of(&m, &meta);
	kv_machine r;
	kv_snap_meta got;
	char err[200];
	assert_int_equal(kv_snapshot_restore_buf(b.p, b.len, &r, &got, err, sizeof err), 0);
	assert_int_equal(got.conf_len, 300);
	assert_memory_equal(got.conf, meta.conf, 300);
	assert_int_equal(got.n_voters, 3);
	kv_machine_destroy(&r);
	free(b.p);
	meta.conf_len = 0;
	b = snap_of(&m, &meta);
	got.conf_len = 5;
	assert_int_equal(kv_snapshot_restore_buf(b.p, b.len, &r, &got, err, sizeof err), 0);
	assert_int_equal(got.conf_len, 0);
	kv_machine_destroy(&r);
	free(b.p);
	meta.conf_len = KV_SNAP_CONF_MAX + 1;
	uint64_t bytes;
	membuf none = {0};
	assert_int_equal(kv_snapshot_write(&m, &meta, mem_sink, &none, &bytes, err, sizeof err), -1);
	free(none.p);
	kv_machine_destroy(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_whole_machine),
		cmocka_unit_test(test_round_trip_keeps_dedup_verdicts),
		cmocka_unit_test(test_empty_machine_and_bad_meta),
		cmocka_unit_test(test_sink_failure_is_reported),
		cmocka_unit_test(test_every_truncation_is_refused),
		cmocka_unit_test(test_every_bitflip_is_refused),
		cmocka_unit_test(test_unknown_version_is_refused),
		cmocka_unit_test(test_configuration_bytes_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
