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

#include <stdlib.h>

#include <cjson/cJSON.h>

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

/* Issue 15.6: /admin/status printed a term of 2^64-2 as 1.8446744073709552e+19. */
static void test_u64_prints_every_digit(void **state)
{
	(void)state;
	cJSON *o = cJSON_CreateObject();
	assert_non_null(o);
	assert_non_null(json_add_u64(o, "term", UINT64_MAX - 1));
	assert_non_null(json_add_u64(o, "zero", 0));
	assert_non_null(json_add_u64(o, "big", (UINT64_C(1) << 53) + 1));
	char *text = cJSON_PrintUnformatted(o);
	assert_non_null(text);
	assert_string_equal(text, "{\"term\":18446744073709551614,\"zero\":0,\"big\":9007199254740993}");
	free(text);
	cJSON_Delete(o);
}

/* Issue 15.5: a body is one JSON value; trailing bytes other than
 * whitespace make it invalid. */
static void test_parse_whole(void **state)
{
	(void)state;
	const char *good[] = { "{\"to\":\"x\"}", " {\"to\":1} \r\n\t", "[1,2]", "null" };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		cJSON *o = json_parse_whole(good[i], strlen(good[i]));
		assert_non_null(o);
		cJSON_Delete(o);
	}
	const char *bad[] = { "{\"from\":null,\"to\":\"x\"}}}]]garbage", "{\"to\":1} x", "{} {}",
			      "{\"to\":", "", " " };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_null(json_parse_whole(bad[i], strlen(bad[i])));
	/* the length is what counts: a NUL after the value is trailing garbage */
	assert_null(json_parse_whole("{}\0", 3));
	cJSON *o = json_parse_whole("{}\0", 2);
	assert_non_null(o);
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finds_nul_escapes_and_bytes),
		cmocka_unit_test(test_leaves_other_text_alone),
		cmocka_unit_test(test_u64_prints_every_digit),
		cmocka_unit_test(test_parse_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
