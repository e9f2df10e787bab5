/*
 * test_server_json.c — json_has_nul_escape, the guard that keeps cJSON from
 * silently cutting a cas or txn string at an embedded NUL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../node/api/json_out.h"

#define HAS(s) json_has_nul_escape(s, sizeof(s) - 1)

static void test_finds_nul_escapes_and_bytes(void **state)
{
	(void)state;
	assert_true(HAS("{\"to\":\"a\\u0000b\"}"));
	assert_true(HAS("\\u0000"));
	assert_true(HAS("{\"k\":\"\\\\\\u0000\"}")); /* an escaped backslash, then \u0000 */
	assert_true(HAS("{\"to\":\"a\0b\"}"));        /* a raw NUL byte */
}

static void test_leaves_other_text_alone(void **state)
{
	(void)state;
	assert_false(HAS(""));
	assert_false(HAS("{\"from\":null,\"to\":\"x\"}"));
	assert_false(HAS("{\"to\":\"\\u0001\\u00e9\\n\"}"));
	assert_false(HAS("{\"to\":\"\\\\u0000\"}")); /* a literal backslash followed by u0000 */
	assert_false(HAS("\\u000"));                 /* cut short */
	assert_false(HAS("\\"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finds_nul_escapes_and_bytes),
		cmocka_unit_test(test_leaves_other_text_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
