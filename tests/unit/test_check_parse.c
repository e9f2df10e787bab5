/*
 * test_check_parse.c — the history reader: malformed input of any shape gets
 * a "line N: why" error and never a crash (run under ASan+UBSan and
 * valgrind), valid input survives a write/parse round trip.
 * CHECK_FUZZ_ITERS sets the number of random mutations (default 4000).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../check/check.h"

static const char seed_history[] =
	"{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"k\",\"value\":\"1\",\"time\":1000}\n"
	"{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"k\",\"value\":null,\"time\":1500}\n"
	"{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"key\":\"k\",\"value\":\"1\",\"time\":2000}\n"
	"{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"key\":\"k\",\"value\":\"1\",\"time\":2500}\n"
	"{\"process\":2,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k\",\"value\":[\"1\",\"2\"],\"time\":3000}\n"
	"{\"process\":2,\"type\":\"fail\",\"f\":\"cas\",\"key\":\"k\",\"value\":[\"1\",\"2\"],\"error\":\"mismatch\",\"time\":3500}\n"
	"{\"process\":3,\"type\":\"invoke\",\"f\":\"append\",\"key\":\"\\u00e9\\n\",\"value\":\"x\\\"y\",\"time\":4000,\"node\":[1,{\"a\":2.5e1}]}\n"
	"{\"process\":3,\"type\":\"info\",\"f\":\"append\",\"key\":\"\\u00e9\\n\",\"value\":\"x\\\"y\",\"time\":4500}\n"
	"{\"process\":4,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k\",\"value\":[null,\"3\"],\"time\":5000}\n";

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state += 0x9e3779b97f4a7c15ULL;
	uint64_t x = rng_state;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* An error must name its line: "line N: reason". */
static void assert_line_error(check_history *h)
{
	const char *err = check_history_error(h);
	assert_non_null(err);
	assert_int_equal(strncmp(err, "line ", 5), 0);
	char *end;
	unsigned long n = strtoul(err + 5, &end, 10);
	assert_true(n >= 1);
	assert_int_equal(strncmp(end, ": ", 2), 0);
	assert_true(strlen(end) > 2);
}

/* A parsed history must check without claiming bad input, and re-parse
 * from its own JSONL output to the same number of events. */
static void assert_round_trip(check_history *h)
{
	check_options o = { .timeout_s = 2 };
	check_result r;
	check_verdict v = check_history_check(h, &o, &r);
	assert_true(v == CHECK_LINEARIZABLE || v == CHECK_NOT_LINEARIZABLE || v == CHECK_GAVE_UP);
	assert_non_null(r.description);
	check_result_free(&r);

	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	assert_int_equal(check_history_write_jsonl(h, mem), 0);
	assert_int_equal(fclose(mem), 0);
	check_history *again = check_history_new();
	assert_non_null(again);
	assert_int_equal(check_history_parse(again, buf, len), 0);
	assert_int_equal(check_history_events(again), check_history_events(h));
	assert_int_equal(check_history_check(again, &o, NULL), v);
	check_history_free(again);
	free(buf);

	FILE *null = fopen("/dev/null", "w");
	assert_non_null(null);
	assert_int_equal(check_history_write_edn(h, null), 0);
	assert_int_equal(fclose(null), 0);
}

static void test_seed_parses(void **state)
{
	(void)state;
	check_history *h = check_history_new();
	assert_non_null(h);
	assert_int_equal(check_history_parse(h, seed_history, strlen(seed_history)), 0);
	assert_int_equal(check_history_events(h), 9);
	assert_string_equal(check_history_error(h), "");
	assert_round_trip(h);
	check_history_free(h);
}

/* Every proper prefix of a line is not a JSON object: error on that line;
 * a cut at a line end leaves a valid (shorter) history. */
static void test_truncations(void **state)
{
	(void)state;
	size_t len = strlen(seed_history);
	for (size_t cut = 0; cut <= len; cut++) {
		check_history *h = check_history_new();
		assert_non_null(h);
		int rc = check_history_parse(h, seed_history, cut);
		bool at_line_end = cut == 0 || cut == len || seed_history[cut - 1] == '\n' || seed_history[cut] == '\n';
		if (at_line_end) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, -1);
			assert_line_error(h);
		}
		check_history_free(h);
	}
}

static void mutate(char *buf, size_t *len, size_t cap)
{
	static const char interesting[] = "{}[]\":,\\-0123456789eE.nultrfas \t\n\x00\x7f\xc3\xa9\xff\xed\xa0\x80";
	int kinds = 1 + (int)(rnd() % 4);
	for (int k = 0; k < kinds && *len > 0; k++) {
		size_t at = rnd() % *len;
		switch (rnd() % 6) {
		case 0: /* flip a bit */
			buf[at] ^= (char)(1u << (rnd() % 8));
			break;
		case 1: /* overwrite with a byte that matters to JSON */
			buf[at] = interesting[rnd() % (sizeof interesting - 1)];
			break;
		case 2: { /* delete a run */
			size_t n = 1 + rnd() % 8;
			if (n > *len - at)
				n = *len - at;
			memmove(buf + at, buf + at + n, *len - at - n);
			*len -= n;
			break;
		}
		case 3: /* insert a byte */
			if (*len < cap) {
				memmove(buf + at + 1, buf + at, *len - at);
				buf[at] = interesting[rnd() % (sizeof interesting - 1)];
				(*len)++;
			}
			break;
		case 4: /* truncate */
			*len = at;
			break;
		case 5: { /* duplicate a span (repeats lines, fields, digits) */
			size_t n = 1 + rnd() % 40;
			if (n > *len - at)
				n = *len - at;
			if (*len + n <= cap) {
				memmove(buf + at + n, buf + at, *len - at);
				(*len) += n;
			}
			break;
		}
		}
	}
}

static void test_fuzz_mutations(void **state)
{
	(void)state;
	const char *env = getenv("CHECK_FUZZ_ITERS");
	long iters = env ? atol(env) : 4000;
	size_t base = strlen(seed_history), cap = base * 2;
	char *buf = malloc(cap);
	assert_non_null(buf);
	rng_state = 42;
	long errors = 0;
	for (long i = 0; i < iters; i++) {
		size_t len = base;
		memcpy(buf, seed_history, base);
		mutate(buf, &len, cap);
		check_history *h = check_history_new();
		assert_non_null(h);
		int rc = check_history_parse(h, buf, len);
		if (rc < 0) {
			assert_int_equal(rc, -1);
			assert_line_error(h);
			errors++;
		} else {
			assert_int_equal(rc, 0);
			assert_round_trip(h);
		}
		check_history_free(h);
	}
	free(buf);
	/* The mutations must mostly break things, or this tests nothing. */
	assert_true(errors > iters / 2);
}

static void expect_error(const char *text, const char *want)
{
	check_history *h = check_history_new();
	assert_non_null(h);
	assert_int_equal(check_history_parse(h, text, strlen(text)), -1);
	const char *err = check_history_error(h);
	if (!strstr(err, want))
		fail_msg("error \"%s\" does not contain \"%s\"", err, want);
	check_history_free(h);
}

#define W1 "{\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"k\",\"value\":\"1\",\"time\":10}\n"

static void test_error_messages(void **state)
{
	(void)state;
	expect_error(W1 "\n\n{\"process\":1,", "line 4: bad JSON");
	expect_error(W1 W1, "line 2: process 1 invokes while its invoke on line 1 is outstanding");
	expect_error("{\"process\":1,\"type\":\"ok\",\"f\":\"write\",\"key\":\"k\",\"value\":\"1\",\"time\":10}",
		     "line 1: ok for process 1 with no outstanding invoke");
	expect_error(W1 "{\"process\":1,\"type\":\"ok\",\"f\":\"write\",\"key\":\"k\",\"time\":9}",
		     "line 2: time goes backwards (9 after 10)");
	expect_error("{\"process\":1.5,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"k\",\"time\":1}",
		     "field \"process\": expected an integer");
	expect_error("{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"k\",\"value\":\"x\",\"time\":1}",
		     "read invoke's value must be null");
	expect_error("{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"k\"}", "missing field \"time\"");
	expect_error("{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"k\",\"time\":1,\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
		     "nested too deep");
	expect_error("{\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"k\",\"value\":\"a\\u0000b\",\"time\":1}\n"
		     "{\"process\":1,\"type\":\"ok\",\"f\":\"write\",\"key\":\"k\",\"value\":\"a\",\"time\":2}",
		     "line 2: write completion's value differs");
}

/* A value may contain any character, NUL included, and survives the trip. */
static void test_nul_in_value(void **state)
{
	(void)state;
	const char *text =
		"{\"process\":1,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"k\",\"value\":\"a\\u0000b\",\"time\":1}\n"
		"{\"process\":1,\"type\":\"ok\",\"f\":\"write\",\"key\":\"k\",\"time\":2}\n"
		"{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"k\",\"time\":3}\n"
		"{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"key\":\"k\",\"value\":\"a\",\"time\":4}\n";
	check_history *h = check_history_new();
	assert_non_null(h);
	assert_int_equal(check_history_parse(h, text, strlen(text)), 0);
	/* "a" is not "a\0b": not linearizable. */
	assert_int_equal(check_history_check(h, NULL, NULL), CHECK_NOT_LINEARIZABLE);
	assert_round_trip(h);
	check_history_free(h);
}

static void test_read_file(void **state)
{
	(void)state;
	FILE *f = tmpfile();
	assert_non_null(f);
	assert_int_equal(fputs(seed_history, f) >= 0, 1);
	assert_int_equal(fputs("{\"process\":9,\"type\":\"inv", f) >= 0, 1);
	rewind(f);
	check_history *h = check_history_new();
	assert_non_null(h);
	assert_int_equal(check_history_read_file(h, f), -1);
	assert_non_null(strstr(check_history_error(h), "line 10: "));
	assert_int_equal(check_history_events(h), 9); /* the good lines stay */
	check_history_free(h);
	assert_int_equal(fclose(f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_parses),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_fuzz_mutations),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_nul_in_value),
		cmocka_unit_test(test_read_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
