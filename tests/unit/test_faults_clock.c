/* test_faults_clock.c — the node clock under bump, skew, freeze, strobe, heal and expiry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../faults/faults.h"

static faults *F;

static int setup(void **state)
{
	(void)state;
	F = faults_new(0, 42);
	return F == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	faults_free(F);
	return 0;
}

static int post(const char *name, const char *body, uint64_t now)
{
	char *resp = NULL;
	int st = faults_admin(F, "POST", name, body, strlen(body), now, &resp);
	assert_non_null(resp);
	free(resp);
	return st;
}

static int del(const char *name, uint64_t now)
{
	char *resp = NULL;
	int st = faults_admin(F, "DELETE", name, "", 0, now, &resp);
	assert_non_null(resp);
	free(resp);
	return st;
}

static void test_no_fault_is_real(void **state)
{
	(void)state;
	assert_int_equal(faults_clock_ms(F, 1000), 1000);
	assert_int_equal(faults_clock_ms(F, 123456), 123456);
}

static void test_bump(void **state)
{
	(void)state;
	assert_int_equal(post("clock", "{\"offset_ms\":5000}", 1000), 200);
	assert_int_equal(faults_clock_ms(F, 1000), 6000);
	assert_int_equal(faults_clock_ms(F, 2000), 7000);
	/* bumps add up */
	assert_int_equal(post("clock", "{\"offset_ms\":-2000}", 2000), 200);
	assert_int_equal(faults_clock_ms(F, 3000), 6000);
	/* never below zero */
	assert_int_equal(post("clock", "{\"offset_ms\":-100000}", 3000), 200);
	assert_int_equal(faults_clock_ms(F, 3000), 0);
}

static void test_skew(void **state)
{
	(void)state;
	assert_int_equal(post("clock", "{\"rate\":2}", 1000), 200);
	assert_int_equal(faults_clock_ms(F, 1000), 1000);
	assert_int_equal(faults_clock_ms(F, 1500), 2000);
	/* a new rate continues from the current reading */
	assert_int_equal(post("clock", "{\"rate\":0.5}", 2000), 200);
	assert_int_equal(faults_clock_ms(F, 2000), 3000);
	assert_int_equal(faults_clock_ms(F, 4000), 4000);
}

static void test_freeze(void **state)
{
	(void)state;
	assert_int_equal(post("clock", "{\"offset_ms\":100}", 1000), 200);
	assert_int_equal(post("clock", "{\"freeze\":true}", 2000), 200);
	assert_int_equal(faults_clock_ms(F, 2000), 2100);
	assert_int_equal(faults_clock_ms(F, 9000), 2100);
	/* thaw: runs again from where it stood */
	assert_int_equal(post("clock", "{\"freeze\":false}", 10000), 200);
	assert_int_equal(faults_clock_ms(F, 10500), 2600);
}

static void test_strobe(void **state)
{
	(void)state;
	assert_int_equal(post("clock", "{\"strobe\":{\"delta_ms\":300,\"period_ms\":100}}", 1000),
			 200);
	assert_int_equal(faults_clock_ms(F, 1000), 1000);
	assert_int_equal(faults_clock_ms(F, 1099), 1099);
	assert_int_equal(faults_clock_ms(F, 1100), 1400);
	assert_int_equal(faults_clock_ms(F, 1199), 1499);
	assert_int_equal(faults_clock_ms(F, 1200), 1200);
	assert_int_equal(faults_clock_ms(F, 1350), 1650);
}

/* Freeze clamps to the exact reading, strobe included, and ends the strobe. */
static void test_freeze_during_strobe(void **state)
{
	(void)state;
	assert_int_equal(post("clock", "{\"strobe\":{\"delta_ms\":-500,\"period_ms\":100}}", 1000),
			 200);
	assert_int_equal(faults_clock_ms(F, 1150), 650);
	assert_int_equal(post("clock", "{\"freeze\":true}", 1150), 200);
	assert_int_equal(faults_clock_ms(F, 1250), 650);
	assert_int_equal(faults_clock_ms(F, 1350), 650);
	char *s = faults_status_json(F, 1350);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"frozen\":true"));
	assert_null(strstr(s, "strobe"));
	free(s);
}

/* A later request without "ms" makes the clock fault permanent; with "ms" it
 * replaces the deadline. */
static void test_ms_replaced(void **state)
{
	(void)state;
	assert_int_equal(post("clock", "{\"offset_ms\":10,\"ms\":100}", 1000), 200);
	assert_int_equal(post("clock", "{\"offset_ms\":10}", 1050), 200);
	assert_int_equal(faults_clock_ms(F, 5000), 5020);
	assert_int_equal(post("clock", "{\"rate\":1,\"ms\":10}", 5000), 200);
	assert_int_equal(faults_clock_ms(F, 5009), 5029);
	assert_int_equal(faults_clock_ms(F, 5010), 5010);
}

static void test_heal(void **state)
{
	(void)state;
	assert_int_equal(post("clock", "{\"offset_ms\":5000,\"rate\":3}", 1000), 200);
	assert_int_equal(faults_clock_ms(F, 2000), 9000);
	assert_int_equal(del("clock", 2000), 200);
	assert_int_equal(faults_clock_ms(F, 2000), 2000);
	/* DELETE /admin/faults heals too */
	assert_int_equal(post("clock", "{\"freeze\":true}", 3000), 200);
	assert_int_equal(faults_clock_ms(F, 4000), 3000);
	assert_int_equal(del("", 4000), 200);
	assert_int_equal(faults_clock_ms(F, 4000), 4000);
}

static void test_ms_expiry(void **state)
{
	(void)state;
	assert_int_equal(post("clock", "{\"offset_ms\":5000,\"ms\":1000}", 1000), 200);
	assert_int_equal(faults_clock_ms(F, 1999), 6999);
	assert_int_equal(faults_clock_ms(F, 2000), 2000);
	assert_int_equal(faults_clock_ms(F, 2500), 2500);
	char *s = faults_status_json(F, 2500);
	assert_non_null(s);
	assert_string_equal(s, "{}");
	free(s);
}

static void test_status(void **state)
{
	(void)state;
	assert_int_equal(post("clock", "{\"offset_ms\":250,\"ms\":1000}", 1000), 200);
	char *s = faults_status_json(F, 1400);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"clock\":{\"offset_ms\":250"));
	assert_non_null(strstr(s, "\"remaining_ms\":600"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_fault_is_real, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skew, setup, teardown),
		cmocka_unit_test_setup_teardown(test_freeze, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strobe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_freeze_during_strobe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ms_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ms_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
