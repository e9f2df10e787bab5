/*
 * test_kv_command.c — the command encoding inside Raft entries: every op
 * round-trips, and decoding refuses (never crashes on, never over-reads)
 * truncated, padded, mutated and random input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../node/kv/kv_command.h"

static kv_bytes B(const char *s)
{
	kv_bytes b = {(const uint8_t *)s, (uint32_t)strlen(s)};
	return b;
}

static bool same(kv_bytes a, kv_bytes b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* Encodes c, decodes it back, checks the header and returns the decoded copy
 * (the buffer in *buf must be freed after the copy is released). */
static kv_command roundtrip(const kv_command *c, uint8_t **buf)
{
	size_t len;
	assert_int_equal(kv_command_encode(c, buf, &len), 0);
	kv_command d;
	assert_int_equal(kv_command_decode(*buf, len, &d), 0);
	assert_int_equal(d.op, c->op);
	assert_int_equal(d.origin, c->origin);
	assert_true(d.nonce == c->nonce);
	assert_true(d.req_id == c->req_id);
	return d;
}

static void test_simple_ops_roundtrip(void **state)
{
	(void)state;
	const uint8_t ops[] = {KV_OP_PUT, KV_OP_APPEND, KV_OP_DELETE, KV_OP_READ, KV_OP_NOOP};
	for (size_t i = 0; i < sizeof ops; i++) {
		kv_command c = {.op = ops[i], .origin = 7, .nonce = 0x0102030405060708ULL,
				.req_id = UINT64_MAX, .key = B("k\xc3\xa9y"), .value = B("v\0x")};
		uint8_t *buf;
		kv_command d = roundtrip(&c, &buf);
		if (ops[i] != KV_OP_NOOP)
			assert_true(same(d.key, c.key));
		if (ops[i] == KV_OP_PUT || ops[i] == KV_OP_APPEND)
			assert_true(same(d.value, c.value));
		kv_command_release(&d);
		free(buf);
	}
}

static void test_empty_key_and_value(void **state)
{
	(void)state;
	kv_command c = {.op = KV_OP_PUT, .key = B(""), .value = B("")};
	uint8_t *buf;
	kv_command d = roundtrip(&c, &buf);
	assert_int_equal(d.key.len, 0);
	assert_int_equal(d.value.len, 0);
	free(buf);
}

static void test_cas_roundtrip(void **state)
{
	(void)state;
	for (int present = 0; present < 2; present++) {
		kv_command c = {.op = KV_OP_CAS, .origin = 1, .req_id = 9, .key = B("x"),
				.from_present = present, .from = B(present ? "old" : ""), .value = B("new")};
		uint8_t *buf;
		kv_command d = roundtrip(&c, &buf);
		assert_int_equal(d.from_present, present);
		assert_true(same(d.from, c.from));
		assert_true(same(d.value, c.value));
		free(buf);
	}
}

static void test_txn_roundtrip(void **state)
{
	(void)state;
	kv_txn_op ops[3] = {
		{KV_TXN_READ, B("a"), B("")},
		{KV_TXN_APPEND, B("a"), B("1 ")},
		{KV_TXN_WRITE, B("b"), B("2")},
	};
	kv_command c = {.op = KV_OP_TXN, .origin = 2, .req_id = 3, .n_txn = 3, .txn = ops};
	uint8_t *buf;
	kv_command d = roundtrip(&c, &buf);
	assert_int_equal(d.n_txn, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(d.txn[i].kind, ops[i].kind);
		assert_true(same(d.txn[i].key, ops[i].key));
		assert_true(same(d.txn[i].value, ops[i].value));
	}
	kv_command_release(&d);
	free(buf);
}

static void test_unknown_op_refused(void **state)
{
	(void)state;
	kv_command c = {.op = 99};
	uint8_t *buf = NULL;
	size_t len;
	assert_int_equal(kv_command_encode(&c, &buf, &len), -1);
	uint8_t raw[KV_HEADER_BYTES] = {99};
	kv_command d;
	assert_int_equal(kv_command_decode(raw, sizeof raw, &d), -1);
}

/* Every proper prefix and every one-byte extension of a valid encoding is
 * refused: lengths are checked, and trailing bytes are not ignored. */
static void test_truncated_and_padded_refused(void **state)
{
	(void)state;
	kv_txn_op ops[2] = {{KV_TXN_WRITE, B("k"), B("v")}, {KV_TXN_READ, B("k"), B("")}};
	kv_command cs[] = {
		{.op = KV_OP_PUT, .key = B("key"), .value = B("value")},
		{.op = KV_OP_CAS, .key = B("key"), .from_present = true, .from = B("a"), .value = B("b")},
		{.op = KV_OP_TXN, .n_txn = 2, .txn = ops},
	};
	for (size_t k = 0; k < sizeof cs / sizeof cs[0]; k++) {
		uint8_t *buf;
		size_t len;
		assert_int_equal(kv_command_encode(&cs[k], &buf, &len), 0);
		for (size_t n = 0; n < len; n++) {
			/* A copy of exactly n bytes, so ASan sees any over-read. */
			uint8_t *p = malloc(n ? n : 1);
			memcpy(p, buf, n);
			kv_command d;
			assert_int_equal(kv_command_decode(p, n, &d), -1);
			free(p);
		}
		uint8_t *longer = malloc(len + 1);
		memcpy(longer, buf, len);
		longer[len] = 0;
		kv_command d;
		assert_int_equal(kv_command_decode(longer, len + 1, &d), -1);
		free(longer);
		free(buf);
	}
}

/* A huge txn count in a short buffer must not drive a huge allocation. */
static void test_txn_count_bounded_by_input(void **state)
{
	(void)state;
	uint8_t raw[KV_HEADER_BYTES + 4] = {KV_OP_TXN};
	raw[KV_HEADER_BYTES + 0] = 0xff;
	raw[KV_HEADER_BYTES + 1] = 0xff;
	raw[KV_HEADER_BYTES + 2] = 0xff;
	raw[KV_HEADER_BYTES + 3] = 0x7f;
	kv_command d;
	assert_int_equal(kv_command_decode(raw, sizeof raw, &d), -1);
}

static void test_bad_txn_kind_and_cas_flag_refused(void **state)
{
	(void)state;
	kv_txn_op op = {'z', B("k"), B("v")};
	kv_command c = {.op = KV_OP_TXN, .n_txn = 1, .txn = &op};
	uint8_t *buf;
	size_t len;
	assert_int_equal(kv_command_encode(&c, &buf, &len), 0);
	kv_command d;
	assert_int_equal(kv_command_decode(buf, len, &d), -1);
	free(buf);
	kv_command cas = {.op = KV_OP_CAS, .key = B("k"), .from_present = true, .from = B("a"), .value = B("b")};
	assert_int_equal(kv_command_encode(&cas, &buf, &len), 0);
	buf[KV_HEADER_BYTES + 4 + 1] = 2; /* the from_present byte after key "k" */
	assert_int_equal(kv_command_decode(buf, len, &d), -1);
	free(buf);
}

/* Random bytes and random mutations of valid commands: decode either refuses
 * or yields byte strings that lie inside the input. */
static void test_garbage_is_safe(void **state)
{
	(void)state;
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	kv_txn_op ops[2] = {{KV_TXN_APPEND, B("k"), B("vv")}, {KV_TXN_READ, B("j"), B("")}};
	kv_command seed = {.op = KV_OP_TXN, .n_txn = 2, .txn = ops};
	uint8_t *valid;
	size_t vlen;
	assert_int_equal(kv_command_encode(&seed, &valid, &vlen), 0);
	for (int iter = 0; iter < 20000; iter++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size_t n = (iter & 1) ? vlen : (size_t)(x % 64);
		uint8_t *p = malloc(n ? n : 1);
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			p[i] = (iter & 1) ? valid[i] : (uint8_t)x;
		}
		if ((iter & 1) && n > 0)
			p[x % n] ^= (uint8_t)(1u << (x % 8));
		if (n > 0 && !(iter & 1))
			p[0] = (uint8_t)(x % 8); /* mostly valid op codes */
		kv_command d;
		if (kv_command_decode(p, n, &d) == 0) {
			if (d.key.len > 0)
				assert_true(d.key.p >= p && d.key.p + d.key.len <= p + n);
			for (uint32_t i = 0; i < d.n_txn; i++)
				assert_true(d.txn[i].key.len == 0 ||
					    (d.txn[i].key.p >= p && d.txn[i].key.p + d.txn[i].key.len <= p + n));
			kv_command_release(&d);
		}
		free(p);
	}
	free(valid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_ops_roundtrip),
		cmocka_unit_test(test_empty_key_and_value),
		cmocka_unit_test(test_cas_roundtrip),
		cmocka_unit_test(test_txn_roundtrip),
		cmocka_unit_test(test_unknown_op_refused),
		cmocka_unit_test(test_truncated_and_padded_refused),
		cmocka_unit_test(test_txn_count_bounded_by_input),
		cmocka_unit_test(test_bad_txn_kind_and_cas_flag_refused),
		cmocka_unit_test(test_garbage_is_safe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
