/* test_faults_filter.c — peer message filtering: targeted drops, partitions,
 * random loss and duplication (plausible rates from a fixed seed), delay bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../faults/faults.h"

static int post(faults *f, const char *name, const char *body, uint64_t now)
{
	char *resp = NULL;
	int st = faults_admin(f, "POST", name, body, strlen(body), now, &resp);
	assert_non_null(resp);
	free(resp);
	return st;
}

static bool dropped(faults *f, enum fault_dir d, uint32_t peer)
{
	return faults_filter_msg(f, d, peer, 1000).drop;
}

static void test_clean(void **state)
{
	(void)state;
	faults *f = faults_new(1, 7);
	assert_non_null(f);
	for (uint32_t p = 0; p < 5; p++) {
		fault_verdict v = faults_filter_msg(f, FAULT_OUT, p, 1000);
		assert_false(v.drop);
		assert_int_equal(v.delay_ms, 0);
		assert_int_equal(v.copies, 1);
	}
	faults_free(f);
}

static void test_drop_to_from(void **state)
{
	(void)state;
	faults *f = faults_new(1, 7);
	assert_non_null(f);
	assert_int_equal(post(f, "net", "{\"drop_to\":[0,2],\"drop_from\":[3]}", 1000), 200);
	assert_true(dropped(f, FAULT_OUT, 0));
	assert_true(dropped(f, FAULT_OUT, 2));
	assert_false(dropped(f, FAULT_OUT, 3));
	assert_false(dropped(f, FAULT_IN, 0));
	assert_true(dropped(f, FAULT_IN, 3));
	assert_false(dropped(f, FAULT_IN, 2));
	faults_free(f);
}

/* The same body on every node: each one cuts exactly the other side. */
static void test_partition_groups(void **state)
{
	(void)state;
	const char *body = "{\"groups\":[[0,1],[2,3,4]]}";
	faults *n[6];
	for (uint32_t i = 0; i < 6; i++) {
		n[i] = faults_new(i, 7);
		assert_non_null(n[i]);
		assert_int_equal(post(n[i], "partition", body, 1000), 200);
	}
	for (uint32_t self = 0; self < 5; self++)
		for (uint32_t peer = 0; peer < 5; peer++) {
			bool same = (self < 2) == (peer < 2);
			assert_int_equal(dropped(n[self], FAULT_OUT, peer), !same);
			assert_int_equal(dropped(n[self], FAULT_IN, peer), !same);
		}
	/* node 5 is in no group: cut off from everyone */
	for (uint32_t peer = 0; peer < 5; peer++)
		assert_true(dropped(n[5], FAULT_OUT, peer));
	for (uint32_t i = 0; i < 6; i++)
		faults_free(n[i]);
}

static void test_partition_heal_and_expiry(void **state)
{
	(void)state;
	faults *f = faults_new(0, 7);
	assert_non_null(f);
	assert_int_equal(post(f, "partition", "{\"groups\":[[0],[1,2]],\"ms\":500}", 1000), 200);
	assert_true(faults_filter_msg(f, FAULT_OUT, 1, 1499).drop);
	assert_false(faults_filter_msg(f, FAULT_OUT, 1, 1500).drop);
	faults_free(f);
}

static void test_probabilities(void **state)
{
	(void)state;
	faults *f = faults_new(0, 12345);
	assert_non_null(f);
	assert_int_equal(post(f, "net", "{\"drop_probability\":0.3,"
				 "\"duplicate_probability\":0.2}", 1000), 200);
	const int n = 20000;
	int drops = 0, dups = 0, kept = 0;
	for (int i = 0; i < n; i++) {
		fault_verdict v = faults_filter_msg(f, FAULT_OUT, 1, 1000);
		if (v.drop) {
			drops++;
			continue;
		}
		kept++;
		if (v.copies == 2)
			dups++;
	}
	/* Binomial: sd about 65 drops and 50 dups; allow 5 sd. */
	assert_in_range(drops, 6000 - 330, 6000 + 330);
	assert_in_range(dups, (int)(kept * 0.2) - 260, (int)(kept * 0.2) + 260);

	/* The same seed replays the same choices. */
	faults *a = faults_new(3, 99), *b = faults_new(3, 99);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(post(a, "net", "{\"drop_probability\":0.5}", 0), 200);
	assert_int_equal(post(b, "net", "{\"drop_probability\":0.5}", 0), 200);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(faults_filter_msg(a, FAULT_IN, 0, 0).drop,
				 faults_filter_msg(b, FAULT_IN, 0, 0).drop);
	faults_free(a);
	faults_free(b);
	faults_free(f);
}

static void test_delay_jitter(void **state)
{
	(void)state;
	faults *f = faults_new(0, 5);
	assert_non_null(f);
	assert_int_equal(post(f, "net", "{\"delay_ms\":100,\"jitter_ms\":20}", 1000), 200);
	uint32_t lo = UINT32_MAX, hi = 0;
	for (int i = 0; i < 5000; i++) {
		fault_verdict v = faults_filter_msg(f, FAULT_OUT, 1, 1000);
		assert_false(v.drop);
		assert_int_equal(v.copies, 1);
		if (v.delay_ms < lo)
			lo = v.delay_ms;
		if (v.delay_ms > hi)
			hi = v.delay_ms;
	}
	assert_int_equal(lo, 100);
	assert_int_equal(hi, 120);
	/* No jitter: exactly the delay. */
	assert_int_equal(post(f, "net", "{\"delay_ms\":7}", 1000), 200);
	assert_int_equal(faults_filter_msg(f, FAULT_IN, 1, 1000).delay_ms, 7);
	faults_free(f);
}

static void test_duplicate_all(void **state)
{
	(void)state;
	faults *f = faults_new(0, 5);
	assert_non_null(f);
	assert_int_equal(post(f, "net", "{\"duplicate_probability\":1}", 1000), 200);
	for (int i = 0; i < 100; i++)
		assert_int_equal(faults_filter_msg(f, FAULT_OUT, 1, 1000).copies, 2);
	faults_free(f);
}

/* A net fault with "ms" heals itself; a new net fault replaces the old one. */
static void test_net_expiry_and_replace(void **state)
{
	(void)state;
	faults *f = faults_new(0, 5);
	assert_non_null(f);
	assert_int_equal(post(f, "net", "{\"drop_to\":[1],\"ms\":300}", 1000), 200);
	assert_true(faults_filter_msg(f, FAULT_OUT, 1, 1299).drop);
	assert_false(faults_filter_msg(f, FAULT_OUT, 1, 1300).drop);
	assert_int_equal(post(f, "net", "{\"drop_to\":[1]}", 2000), 200);
	assert_int_equal(post(f, "net", "{\"drop_from\":[2]}", 2000), 200);
	assert_false(faults_filter_msg(f, FAULT_OUT, 1, 2000).drop);
	assert_true(faults_filter_msg(f, FAULT_IN, 2, 2000).drop);
	/* partition and net together: both apply */
	assert_int_equal(post(f, "partition", "{\"groups\":[[0,2],[1]]}", 2000), 200);
	assert_true(faults_filter_msg(f, FAULT_OUT, 1, 2000).drop);
	assert_true(faults_filter_msg(f, FAULT_IN, 2, 2000).drop);
	assert_false(faults_filter_msg(f, FAULT_OUT, 2, 2000).drop);
	faults_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_drop_to_from),
		cmocka_unit_test(test_partition_groups),
		cmocka_unit_test(test_partition_heal_and_expiry),
		cmocka_unit_test(test_probabilities),
		cmocka_unit_test(test_delay_jitter),
		cmocka_unit_test(test_duplicate_all),
		cmocka_unit_test(test_net_expiry_and_replace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
