/*
 * test_runtime_boot.c — the boot nonce is a durable counter (issue 10 item
 * 5): it grows by one per boot whatever the wall clock does, and a damaged
 * counter file stops the start instead of being guessed at. (The failure the
 * old wall-clock nonce caused is shown by the simulator: planted bug 8.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../node/runtime/rt_boot.h"

static char dir[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/raftkv-test-boot-XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *text)
{
	char path[200];
	snprintf(path, sizeof path, "%s/BOOT", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void test_counts_up_from_one(void **state)
{
	(void)state;
	char err[256];
	uint64_t n = 0;
	for (uint64_t want = 1; want <= 5; want++) {
		assert_int_equal(rt_boot_next(dir, &n, err, sizeof err), 0);
		assert_int_equal(n, want);
	}
}

static void test_continues_from_the_stored_count(void **state)
{
	(void)state;
	char err[256];
	uint64_t n = 0;
	write_file("41\n");
	assert_int_equal(rt_boot_next(dir, &n, err, sizeof err), 0);
	assert_int_equal(n, 42);
}

static void test_damaged_counter_is_refused(void **state)
{
	(void)state;
	char err[256];
	uint64_t n = 7;
	const char *bad[] = {"", "x1\n", "12abc", "-3\n", "18446744073709551615\n"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_file(bad[i]);
		err[0] = '\0';
		assert_int_equal(rt_boot_next(dir, &n, err, sizeof err), -1);
		assert_non_null(strstr(err, "damaged"));
		assert_int_equal(n, 7); /* untouched */
	}
}

/* A new life raises its counter above the nonces the log shows for its id
 * (RT_NONCE_GENERATION, node/runtime/rt.h); a raise below the count just
 * counts on, and later boots count on from the raised value. */
static void test_raise_jumps_and_keeps_growing(void **state)
{
	(void)state;
	char err[256];
	uint64_t n = 0;
	assert_int_equal(rt_boot_next(dir, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	uint64_t gen = (uint64_t)1 << 33;
	assert_int_equal(rt_boot_raise(dir, gen, &n, err, sizeof err), 0);
	assert_int_equal(n, gen);
	assert_int_equal(rt_boot_raise(dir, 5, &n, err, sizeof err), 0);
	assert_int_equal(n, gen + 1);
	assert_int_equal(rt_boot_next(dir, &n, err, sizeof err), 0);
	assert_int_equal(n, gen + 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counts_up_from_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_continues_from_the_stored_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_counter_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raise_jumps_and_keeps_growing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
