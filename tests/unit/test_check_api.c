/*
 * test_check_api.c — check.h as the simulator and workload tool use it:
 * building histories event by event, refused events, results and their
 * descriptions, the time and memory limits, and the writers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "../check/check.h"

static void add(check_history *h, int64_t p, check_type t, check_fn f, const char *key,
		const char *v, const char *v2, int64_t time)
{
	check_event e = { .process = p, .type = t, .f = f, .key = check_cstr(key),
			  .value = check_cstr(v), .value2 = check_cstr(v2), .time = time };
	if (check_history_add(h, &e) != 0)
		fail_msg("refused: %s", check_history_error(h));
}

/* n concurrent writes alternating "x" and "y", then reads of "x" and then
 * "y" after all of them completed: impossible, but with every value written
 * many times no counting rule refutes it early, so the search must try
 * about 2^n subsets of the writes. */
static void add_hard(check_history *h, const char *key, int n, int64_t pid, int64_t t0)
{
	for (int i = 0; i < n; i++)
		add(h, pid + i, CHECK_INVOKE, CHECK_WRITE, key, i % 2 ? "x" : "y", NULL, t0 + i);
	for (int i = 0; i < n; i++)
		add(h, pid + i, CHECK_OK, CHECK_WRITE, key, NULL, NULL, t0 + 1000 + i);
	add(h, pid + n, CHECK_INVOKE, CHECK_READ, key, NULL, NULL, t0 + 2000);
	add(h, pid + n, CHECK_OK, CHECK_READ, key, "x", NULL, t0 + 2001);
	add(h, pid + n, CHECK_INVOKE, CHECK_READ, key, NULL, NULL, t0 + 2002);
	add(h, pid + n, CHECK_OK, CHECK_READ, key, "y", NULL, t0 + 2003);
}

static double now_s(void)
{
	struct timespec ts;
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_refused_event_leaves_history(void **state)
{
	(void)state;
	check_history *h = check_history_new();
	assert_non_null(h);
	add(h, 1, CHECK_INVOKE, CHECK_WRITE, "k", "1", NULL, 10);
	check_event bad = { .process = 2, .type = CHECK_OK, .f = CHECK_WRITE, .key = check_cstr("k"), .time = 20 };
	assert_int_equal(check_history_add(h, &bad), -1);
	assert_string_equal(check_history_error(h), "event 2: ok for process 2 with no outstanding invoke");
	assert_int_equal(check_history_events(h), 1);
	check_event back = { .process = 1, .type = CHECK_OK, .f = CHECK_WRITE, .key = check_cstr("k"), .time = 5 };
	assert_int_equal(check_history_add(h, &back), -1);
	assert_non_null(strstr(check_history_error(h), "time goes backwards"));
	check_event nokey = { .process = 1, .type = CHECK_OK, .f = CHECK_WRITE, .time = 20 };
	assert_int_equal(check_history_add(h, &nokey), -1);
	check_event wrongf = { .process = 9, .type = CHECK_INVOKE, .f = (check_fn)7, .key = check_cstr("k"), .time = 20 };
	assert_int_equal(check_history_add(h, &wrongf), -1);
	check_event latin1 = { .process = 9, .type = CHECK_INVOKE, .f = CHECK_WRITE, .key = check_cstr("k"),
			       .value = check_cstr("caf\xe9"), .time = 20 };
	assert_int_equal(check_history_add(h, &latin1), -1);
	assert_string_equal(check_history_error(h), "event 2: key and values must be UTF-8");
	/* Still usable: the real completion goes in. */
	add(h, 1, CHECK_OK, CHECK_WRITE, "k", NULL, NULL, 20);
	assert_string_equal(check_history_error(h), "");
	assert_int_equal(check_history_events(h), 2);
	assert_int_equal(check_history_check(h, NULL, NULL), CHECK_LINEARIZABLE);
	check_history_free(h);
}

static void test_description_names_key_and_window(void **state)
{
	(void)state;
	check_history *h = check_history_new();
	assert_non_null(h);
	add(h, 1, CHECK_INVOKE, CHECK_WRITE, "good", "1", NULL, 1);
	add(h, 1, CHECK_OK, CHECK_WRITE, "good", NULL, NULL, 2);
	add(h, 2, CHECK_INVOKE, CHECK_WRITE, "bad", "1", NULL, 3);
	add(h, 2, CHECK_OK, CHECK_WRITE, "bad", NULL, NULL, 4);
	add(h, 2, CHECK_INVOKE, CHECK_WRITE, "bad", "2", NULL, 5);
	add(h, 2, CHECK_OK, CHECK_WRITE, "bad", NULL, NULL, 6);
	add(h, 3, CHECK_INVOKE, CHECK_READ, "bad", NULL, NULL, 7);
	add(h, 3, CHECK_OK, CHECK_READ, "bad", "1", NULL, 8);
	check_result r;
	assert_int_equal(check_history_check(h, NULL, &r), CHECK_NOT_LINEARIZABLE);
	assert_int_equal(r.verdict, CHECK_NOT_LINEARIZABLE);
	assert_string_equal(r.key, "bad");
	assert_int_equal(r.keys, 2);
	assert_int_equal(r.ops, 4);
	assert_non_null(strstr(r.description, "not linearizable: key \"bad\""));
	assert_non_null(strstr(r.description, "longest linearizable prefix: 2 operations, leaving the value \"2\""));
	assert_non_null(strstr(r.description, "* line 7..8"));
	assert_non_null(strstr(r.description, "read -> \"1\""));
	check_result_free(&r);
	check_history_free(h);
}

static void test_timeout_gives_up(void **state)
{
	(void)state;
	check_history *h = check_history_new();
	assert_non_null(h);
	add_hard(h, "hard", 24, 100, 0);
	check_options o = { .timeout_s = 0.2 };
	check_result r;
	double t0 = now_s();
	assert_int_equal(check_history_check(h, &o, &r), CHECK_GAVE_UP);
	double took = now_s() - t0;
	assert_true(took < 3.0);
	assert_non_null(strstr(r.description, "gave up: time limit of 0.2 s"));
	assert_null(r.key);
	check_result_free(&r);
	check_history_free(h);
}

static void test_memory_cap_gives_up(void **state)
{
	(void)state;
	check_history *h = check_history_new();
	assert_non_null(h);
	add_hard(h, "hard", 24, 100, 0);
	check_options o = { .timeout_s = 30, .max_memory = 1 << 20 };
	check_result r;
	assert_int_equal(check_history_check(h, &o, &r), CHECK_GAVE_UP);
	assert_non_null(strstr(r.description, "memory limit of 1 MiB"));
	check_result_free(&r);
	check_history_free(h);
}

/* A refutable key next to an explosive one is judged without waiting for
 * the explosive one (keys are searched in rounds of growing budgets). */
static void test_bad_key_found_beside_hard_key(void **state)
{
	(void)state;
	check_history *h = check_history_new();
	assert_non_null(h);
	add_hard(h, "hard", 24, 100, 0);
	add(h, 1, CHECK_INVOKE, CHECK_READ, "easy", NULL, NULL, 5000);
	add(h, 1, CHECK_OK, CHECK_READ, "easy", "ghost", NULL, 5001);
	check_options o = { .timeout_s = 20 };
	check_result r;
	double t0 = now_s();
	assert_int_equal(check_history_check(h, &o, &r), CHECK_NOT_LINEARIZABLE);
	assert_true(now_s() - t0 < 5.0);
	assert_string_equal(r.key, "easy");
	assert_non_null(strstr(r.description, "not checked to the end"));
	check_result_free(&r);
	check_history_free(h);
}

static void test_many_keys(void **state)
{
	(void)state;
	check_history *h = check_history_new();
	assert_non_null(h);
	int64_t t = 0;
	char key[16];
	/* Per key: a write, and a read overlapping it that sees its value. */
	for (int k = 0; k < 100; k++) {
		snprintf(key, sizeof key, "k%d", k);
		add(h, k, CHECK_INVOKE, CHECK_WRITE, key, key, NULL, t++);
		add(h, 1000 + k, CHECK_INVOKE, CHECK_READ, key, NULL, NULL, t++);
		add(h, 1000 + k, CHECK_OK, CHECK_READ, key, key, NULL, t++);
		add(h, k, CHECK_OK, CHECK_WRITE, key, NULL, NULL, t++);
	}
	check_result r;
	assert_int_equal(check_history_check(h, NULL, &r), CHECK_LINEARIZABLE);
	assert_int_equal(r.keys, 100);
	assert_int_equal(r.ops, 200);
	assert_non_null(strstr(r.description, "linearizable: 200 operations on 100 keys"));
	check_result_free(&r);
	check_history_free(h);
}

static void test_empty_and_buffer(void **state)
{
	(void)state;
	check_history *h = check_history_new();
	assert_non_null(h);
	assert_int_equal(check_history_check(h, NULL, NULL), CHECK_LINEARIZABLE);
	check_history_free(h);

	check_result r;
	const char *bad = "{\"process\":1}\n";
	assert_int_equal(check_buffer(bad, strlen(bad), NULL, &r), CHECK_BAD_INPUT);
	assert_int_equal(r.verdict, CHECK_BAD_INPUT);
	assert_string_equal(r.description, "line 1: missing field \"type\"");
	check_result_free(&r);
	const char *good = "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"k\",\"time\":1}\n"
			   "{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"key\":\"k\",\"value\":null,\"time\":2}\n";
	assert_int_equal(check_buffer(good, strlen(good), NULL, &r), CHECK_LINEARIZABLE);
	check_result_free(&r);
	assert_int_equal(check_buffer(good, strlen(good), NULL, NULL), CHECK_LINEARIZABLE);
}

static char *edn_of(check_history *h)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	assert_int_equal(check_history_write_edn(h, mem), 0);
	assert_int_equal(fclose(mem), 0);
	return buf;
}

static void test_edn(void **state)
{
	(void)state;
	check_history *h = check_history_new();
	assert_non_null(h);
	add(h, 1, CHECK_INVOKE, CHECK_READ, "k\"1", NULL, NULL, 1);
	add(h, 1, CHECK_OK, CHECK_READ, "k\"1", NULL, NULL, 2);
	add(h, 1, CHECK_INVOKE, CHECK_CAS, "k\"1", NULL, "a\nb", 3);
	check_event mm = { .process = 1, .type = CHECK_FAIL, .f = CHECK_CAS, .key = check_cstr("k\"1"),
			   .mismatch = true, .time = 4 };
	assert_int_equal(check_history_add(h, &mm), 0);
	add(h, 2, CHECK_INVOKE, CHECK_APPEND, "k\"1", "x", NULL, 5);
	add(h, 2, CHECK_INFO, CHECK_APPEND, "k\"1", NULL, NULL, 6);
	char *edn = edn_of(h);
	const char *want[] = {
		"{:index 0, :time 1, :type :invoke, :process 1, :f :read, :value [\"k\\\"1\" nil]}\n",
		"{:index 1, :time 2, :type :ok, :process 1, :f :read, :value [\"k\\\"1\" :absent]}\n",
		"{:index 2, :time 3, :type :invoke, :process 1, :f :cas, :value [\"k\\\"1\" [:absent \"a\\nb\"]]}\n",
		"{:index 3, :time 4, :type :fail, :process 1, :f :cas, :value [\"k\\\"1\" [:absent \"a\\nb\"]], :error :mismatch}\n",
		"{:index 5, :time 6, :type :info, :process 2, :f :append, :value [\"k\\\"1\" \"x\"]}\n",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(edn, want[i]))
			fail_msg("EDN lacks %s in:\n%s", want[i], edn);
	free(edn);
	check_history_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_event_leaves_history),
		cmocka_unit_test(test_description_names_key_and_window),
		cmocka_unit_test(test_timeout_gives_up),
		cmocka_unit_test(test_memory_cap_gives_up),
		cmocka_unit_test(test_bad_key_found_beside_hard_key),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_empty_and_buffer),
		cmocka_unit_test(test_edn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
