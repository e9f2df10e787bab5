/*
 * test_kv_machine.c — the replicated state machine: the store's map
 * operations, the meaning of each command, txn atomicity and order, and the
 * de-duplication that keeps a twice-delivered command from applying twice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../node/kv/kv_dedup.h"
#include "../../node/kv/kv_machine.h"
#include "../../node/kv/kv_store.h"

static kv_bytes B(const char *s)
{
	kv_bytes b = {(const uint8_t *)s, (uint32_t)strlen(s)};
	return b;
}

/* The stored value of key as a C string, or NULL when absent. */
static const char *get(kv_machine *m, const char *key)
{
	const uint8_t *v;
	size_t n;
	if (!kv_store_get(m->store, (const uint8_t *)key, strlen(key), &v, &n))
		return NULL;
	return (const char *)v;
}

static uint64_t next_id = 1;

static int apply(kv_machine *m, kv_command c, kv_result *res)
{
	c.origin = 1;
	c.nonce = 100;
	c.req_id = next_id++;
	return kv_machine_apply(m, &c, res);
}

static int setup(void **state)
{
	kv_machine *m = malloc(sizeof *m);
	if (m == NULL || kv_machine_init(m) != 0)
		return -1;
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	kv_machine_destroy(*state);
	free(*state);
	return 0;
}

static void test_store_basics_and_growth(void **state)
{
	(void)state;
	kv_store *s = kv_store_new();
	assert_non_null(s);
	char k[32], v[32];
	/* Enough keys to force several doublings of the table. */
	for (int i = 0; i < 20000; i++) {
		snprintf(k, sizeof k, "key-%d", i);
		snprintf(v, sizeof v, "value-%d", i);
		assert_int_equal(kv_store_put(s, (uint8_t *)k, strlen(k), (uint8_t *)v, strlen(v)), 0);
	}
	assert_int_equal(kv_store_count(s), 20000);
	for (int i = 0; i < 20000; i += 7) {
		snprintf(k, sizeof k, "key-%d", i);
		snprintf(v, sizeof v, "value-%d", i);
		const uint8_t *got;
		size_t n;
		assert_true(kv_store_get(s, (uint8_t *)k, strlen(k), &got, &n));
		assert_int_equal(n, strlen(v));
		assert_memory_equal(got, v, n);
	}
	assert_true(kv_store_delete(s, (const uint8_t *)"key-5", 5));
	assert_false(kv_store_delete(s, (const uint8_t *)"key-5", 5));
	assert_int_equal(kv_store_count(s), 19999);
	/* Binary-safe keys: a NUL inside a key is part of it. */
	assert_int_equal(kv_store_put(s, (const uint8_t *)"a\0b", 3, (const uint8_t *)"x", 1), 0);
	const uint8_t *got;
	size_t n;
	assert_false(kv_store_get(s, (const uint8_t *)"a", 1, &got, &n));
	assert_true(kv_store_get(s, (const uint8_t *)"a\0b", 3, &got, &n));
	/* A big value, then a small one: the buffer shrinks back. */
	char *big = calloc(1, 100000);
	memset(big, 'b', 99999);
	assert_int_equal(kv_store_put(s, (const uint8_t *)"big", 3, (uint8_t *)big, 99999), 0);
	assert_int_equal(kv_store_put(s, (const uint8_t *)"big", 3, (const uint8_t *)"s", 1), 0);
	assert_true(kv_store_get(s, (const uint8_t *)"big", 3, &got, &n));
	assert_int_equal(n, 1);
	free(big);
	kv_store_free(s);
}

static void test_put_delete_append(void **state)
{
	kv_machine *m = *state;
	assert_int_equal(apply(m, (kv_command){.op = KV_OP_PUT, .key = B("x"), .value = B("1")}, NULL), 0);
	assert_string_equal(get(m, "x"), "1");
	assert_int_equal(apply(m, (kv_command){.op = KV_OP_PUT, .key = B("x"), .value = B("22")}, NULL), 0);
	assert_string_equal(get(m, "x"), "22");
	assert_int_equal(apply(m, (kv_command){.op = KV_OP_APPEND, .key = B("x"), .value = B("3")}, NULL), 0);
	assert_string_equal(get(m, "x"), "223");
	assert_int_equal(apply(m, (kv_command){.op = KV_OP_APPEND, .key = B("fresh"), .value = B("a ")}, NULL), 0);
	assert_string_equal(get(m, "fresh"), "a ");
	assert_int_equal(apply(m, (kv_command){.op = KV_OP_DELETE, .key = B("x")}, NULL), 0);
	assert_null(get(m, "x"));
	/* Deleting an absent key is not an error. */
	assert_int_equal(apply(m, (kv_command){.op = KV_OP_DELETE, .key = B("x")}, NULL), 0);
	assert_int_equal(apply(m, (kv_command){.op = KV_OP_PUT, .key = B("e"), .value = B("")}, NULL), 0);
	assert_non_null(get(m, "e"));
	assert_string_equal(get(m, "e"), "");
}

static void test_read_command(void **state)
{
	kv_machine *m = *state;
	kv_result r;
	assert_int_equal(apply(m, (kv_command){.op = KV_OP_READ, .key = B("r")}, &r), 0);
	assert_int_equal(r.status, KV_OK);
	assert_false(r.value.found);
	kv_result_release(&r);
	apply(m, (kv_command){.op = KV_OP_PUT, .key = B("r"), .value = B("v")}, NULL);
	assert_int_equal(apply(m, (kv_command){.op = KV_OP_READ, .key = B("r")}, &r), 0);
	assert_true(r.value.found);
	assert_string_equal((char *)r.value.p, "v");
	kv_result_release(&r);
}

static void test_cas(void **state)
{
	kv_machine *m = *state;
	kv_result r;
	/* from absent: only if absent */
	apply(m, (kv_command){.op = KV_OP_CAS, .key = B("c"), .from_present = false, .value = B("1")}, &r);
	assert_int_equal(r.status, KV_OK);
	kv_result_release(&r);
	assert_string_equal(get(m, "c"), "1");
	apply(m, (kv_command){.op = KV_OP_CAS, .key = B("c"), .from_present = false, .value = B("2")}, &r);
	assert_int_equal(r.status, KV_CAS_MISMATCH);
	assert_true(r.value.found);
	assert_string_equal((char *)r.value.p, "1");
	kv_result_release(&r);
	/* matching from */
	apply(m, (kv_command){.op = KV_OP_CAS, .key = B("c"), .from_present = true, .from = B("1"), .value = B("2")}, &r);
	assert_int_equal(r.status, KV_OK);
	kv_result_release(&r);
	assert_string_equal(get(m, "c"), "2");
	/* mismatching from leaves the value */
	apply(m, (kv_command){.op = KV_OP_CAS, .key = B("c"), .from_present = true, .from = B("1"), .value = B("3")}, &r);
	assert_int_equal(r.status, KV_CAS_MISMATCH);
	kv_result_release(&r);
	assert_string_equal(get(m, "c"), "2");
	/* from present on an absent key: mismatch, current null */
	apply(m, (kv_command){.op = KV_OP_CAS, .key = B("none"), .from_present = true, .from = B(""), .value = B("x")}, &r);
	assert_int_equal(r.status, KV_CAS_MISMATCH);
	assert_false(r.value.found);
	kv_result_release(&r);
	assert_null(get(m, "none"));
	/* the empty string is a value, distinct from absent */
	apply(m, (kv_command){.op = KV_OP_PUT, .key = B("em"), .value = B("")}, NULL);
	apply(m, (kv_command){.op = KV_OP_CAS, .key = B("em"), .from_present = true, .from = B(""), .value = B("y")}, &r);
	assert_int_equal(r.status, KV_OK);
	kv_result_release(&r);
	assert_string_equal(get(m, "em"), "y");
}

/* Reads inside a txn see the txn's own earlier writes, and each read keeps
 * the value of its moment even when a later op changes the key. */
static void test_txn_order_and_reads(void **state)
{
	kv_machine *m = *state;
	apply(m, (kv_command){.op = KV_OP_PUT, .key = B("l"), .value = B("a ")}, NULL);
	kv_txn_op ops[] = {
		{KV_TXN_READ, B("l"), B("")},
		{KV_TXN_APPEND, B("l"), B("b ")},
		{KV_TXN_READ, B("l"), B("")},
		{KV_TXN_WRITE, B("t"), B("1")},
		{KV_TXN_READ, B("t"), B("")},
		{KV_TXN_READ, B("absent"), B("")},
	};
	kv_result r;
	assert_int_equal(apply(m, (kv_command){.op = KV_OP_TXN, .n_txn = 6, .txn = ops}, &r), 0);
	assert_int_equal(r.status, KV_OK);
	assert_int_equal(r.n_txn, 6);
	assert_string_equal((char *)r.txn_reads[0].p, "a ");
	assert_string_equal((char *)r.txn_reads[2].p, "a b ");
	assert_string_equal((char *)r.txn_reads[4].p, "1");
	assert_false(r.txn_reads[5].found);
	assert_false(r.txn_reads[1].found); /* non-reads carry nothing */
	kv_result_release(&r);
	assert_string_equal(get(m, "l"), "a b ");
	/* Without a result, a txn still applies. */
	kv_txn_op w[] = {{KV_TXN_WRITE, B("q"), B("z")}};
	assert_int_equal(apply(m, (kv_command){.op = KV_OP_TXN, .n_txn = 1, .txn = w}, NULL), 0);
	assert_string_equal(get(m, "q"), "z");
	/* An empty txn is a valid no-op. */
	assert_int_equal(apply(m, (kv_command){.op = KV_OP_TXN}, &r), 0);
	kv_result_release(&r);
}

/* The same command delivered twice (a duplicated forwarded proposal) appends
 * once; the second copy is reported as a duplicate. */
static void test_duplicate_applies_once(void **state)
{
	kv_machine *m = *state;
	kv_command c = {.op = KV_OP_APPEND, .origin = 2, .nonce = 7, .req_id = 41,
			.key = B("d"), .value = B("x")};
	kv_result r;
	assert_int_equal(kv_machine_apply(m, &c, &r), 0);
	assert_int_equal(r.status, KV_OK);
	kv_result_release(&r);
	assert_int_equal(kv_machine_apply(m, &c, &r), 0);
	assert_int_equal(r.status, KV_DUPLICATE);
	kv_result_release(&r);
	assert_string_equal(get(m, "d"), "x");
	/* Same id from another origin or another boot is a different command. */
	c.origin = 3;
	kv_machine_apply(m, &c, NULL);
	assert_string_equal(get(m, "d"), "xx");
	c.origin = 2;
	c.nonce = 8;
	kv_machine_apply(m, &c, NULL);
	assert_string_equal(get(m, "d"), "xxx");
	/* Out of order within the window is fine: 40 arrives after 41. */
	c.req_id = 40;
	assert_int_equal(kv_machine_apply(m, &c, &r), 0);
	assert_int_equal(r.status, KV_OK);
	kv_result_release(&r);
	assert_string_equal(get(m, "d"), "xxxx");
	/* A late command of the older boot is refused, not applied. */
	c.nonce = 7;
	c.req_id = 1000;
	assert_int_equal(kv_machine_apply(m, &c, &r), 0);
	assert_int_equal(r.status, KV_STALE);
	kv_result_release(&r);
	assert_string_equal(get(m, "d"), "xxxx");
	assert_int_equal(m->skipped_duplicates, 2);
}

static void test_dedup_window(void **state)
{
	(void)state;
	kv_dedup *d = kv_dedup_new();
	assert_non_null(d);
	for (uint64_t id = 1; id <= 10; id += 2)
		assert_int_equal(kv_dedup_check(d, 1, 5, id), KV_DEDUP_NEW);
	for (uint64_t id = 1; id <= 10; id += 2)
		assert_int_equal(kv_dedup_check(d, 1, 5, id), KV_DEDUP_SEEN);
	for (uint64_t id = 2; id <= 10; id += 2)
		assert_int_equal(kv_dedup_check(d, 1, 5, id), KV_DEDUP_NEW);
	/* Jump far ahead: old ids fall out of the window and are refused. */
	uint64_t far = 10 + KV_DEDUP_WINDOW + 5;
	assert_int_equal(kv_dedup_check(d, 1, 5, far), KV_DEDUP_NEW);
	assert_int_equal(kv_dedup_check(d, 1, 5, 3), KV_DEDUP_STALE);
	assert_int_equal(kv_dedup_check(d, 1, 5, 11), KV_DEDUP_STALE);
	/* Just inside the window: new once, then seen. */
	assert_int_equal(kv_dedup_check(d, 1, 5, far - KV_DEDUP_WINDOW + 1), KV_DEDUP_NEW);
	assert_int_equal(kv_dedup_check(d, 1, 5, far - KV_DEDUP_WINDOW + 1), KV_DEDUP_SEEN);
	/* Many origins: the least recently used is evicted, deterministically. */
	for (uint32_t o = 100; o < 100 + KV_DEDUP_MAX_ORIGINS + 3; o++)
		assert_int_equal(kv_dedup_check(d, o, 1, 1), KV_DEDUP_NEW);
	assert_int_equal(kv_dedup_check(d, 100 + KV_DEDUP_MAX_ORIGINS + 2, 1, 1), KV_DEDUP_SEEN);
	kv_dedup_free(d);
}

/* Two replicas fed the same log (duplicates included) end identical. */
static void test_replicas_agree(void **state)
{
	(void)state;
	kv_machine a, b;
	assert_int_equal(kv_machine_init(&a), 0);
	assert_int_equal(kv_machine_init(&b), 0);
	uint64_t x = 12345;
	char key[16], val[16];
	for (int i = 0; i < 5000; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		snprintf(key, sizeof key, "k%d", (int)((x >> 33) % 10));
		snprintf(val, sizeof val, "%d", (int)((x >> 40) % 100));
		kv_command c = {.op = (uint8_t)(1 + (x >> 50) % 4), .origin = (uint32_t)((x >> 20) % 3),
				.nonce = 1, .req_id = (uint64_t)(i / 2 + 1), /* pairs share an id */
				.key = B(key), .value = B(val), .from_present = (x >> 13) & 1, .from = B(val)};
		kv_machine_apply(&a, &c, NULL);
		kv_result r;
		kv_machine_apply(&b, &c, &r);
		kv_result_release(&r);
	}
	assert_int_equal(kv_store_count(a.store), kv_store_count(b.store));
	for (int k = 0; k < 10; k++) {
		snprintf(key, sizeof key, "k%d", k);
		const char *va = get(&a, key), *vb = get(&b, key);
		if (va == NULL || vb == NULL)
			assert_true(va == vb);
		else
			assert_string_equal(va, vb);
	}
	assert_true(a.skipped_duplicates > 0);
	kv_machine_destroy(&a);
	kv_machine_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_basics_and_growth),
		cmocka_unit_test_setup_teardown(test_put_delete_append, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_txn_order_and_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_applies_once, setup, teardown),
		cmocka_unit_test(test_dedup_window),
		cmocka_unit_test(test_replicas_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
