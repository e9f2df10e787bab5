/*
 * test_workload_classify.c — the workload tool's answer classification
 * (tests/workload/classify.c, the table in tests/workload/README.md).
 *
 * The rule under test: only an answer that proves a write/cas/append was NOT
 * applied may be `fail`; anything that leaves the outcome open is `info`.
 * A read has no effect, so any read error is `fail`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../workload/classify.h"
#include "../workload/options.h"

static const int writes[] = {F_WRITE, F_CAS, F_APPEND};
#define N_WRITES (sizeof writes / sizeof writes[0])

/* Classifies and checks type and error words (NULL = no error expected). */
static void expect(int f, long status, const char *body, const char *terr, int not_sent,
		   int type, const char *error)
{
	wl_result r;
	assert_int_equal(wl_classify(f, status, body, terr, not_sent, &r), 0);
	if (r.type != type)
		fail_msg("f=%d status=%ld body=%s terr=%s not_sent=%d: got %s, want %s", f, status,
			 body ? body : "(null)", terr ? terr : "(null)", not_sent,
			 wl_outcome_name[r.type], wl_outcome_name[type]);
	if (error == NULL) {
		assert_null(r.error);
	} else {
		assert_non_null(r.error);
		assert_string_equal(r.error, error);
	}
	wl_result_free(&r);
}

static void test_outcome_names(void **state)
{
	(void)state;
	assert_string_equal(wl_outcome_name[OUT_OK], "ok");
	assert_string_equal(wl_outcome_name[OUT_FAIL], "fail");
	assert_string_equal(wl_outcome_name[OUT_INFO], "info");
}

/* 200 with a value: ok with the value; 404 with "value":null: ok, absent. */
static void test_read_ok(void **state)
{
	(void)state;
	wl_result r;
	assert_int_equal(wl_classify(F_READ, 200, "{\"key\":\"k1\",\"value\":\"17 18 \"}", NULL, 0, &r), 0);
	assert_int_equal(r.type, OUT_OK);
	assert_non_null(r.value);
	assert_string_equal(r.value, "17 18 ");
	assert_null(r.error);
	assert_null(r.current);
	assert_false(wl_result_mismatch(&r));
	wl_result_free(&r);

	assert_int_equal(wl_classify(F_READ, 404, "{\"key\":\"k1\",\"value\":null}", NULL, 0, &r), 0);
	assert_int_equal(r.type, OUT_OK);
	assert_null(r.value);
	assert_null(r.error);
	wl_result_free(&r);

	/* an empty string is a value, not absence */
	assert_int_equal(wl_classify(F_READ, 200, "{\"key\":\"k1\",\"value\":\"\"}", NULL, 0, &r), 0);
	assert_int_equal(r.type, OUT_OK);
	assert_non_null(r.value);
	assert_string_equal(r.value, "");
	wl_result_free(&r);
}

/* Any read that did not answer with a KV body is a fail, whatever the status:
 * a read changes nothing, so an unknown outcome does not exist for it. */
static void test_read_errors_fail(void **state)
{
	(void)state;
	/* 404 without the KV body (an unknown path) is not "absent" */
	expect(F_READ, 404, "{\"error\":\"no such route\"}", NULL, 0, OUT_FAIL, "no such route");
	expect(F_READ, 404, "not found", NULL, 0, OUT_FAIL, "http 404");
	/* 404 that carries a value is not "absent" either */
	expect(F_READ, 404, "{\"value\":\"x\"}", NULL, 0, OUT_FAIL, "http 404");
	/* 200 with a body that is not {"value": string|null} */
	expect(F_READ, 200, "garbage", NULL, 0, OUT_FAIL, "bad read body");
	expect(F_READ, 200, "{\"key\":\"k1\"}", NULL, 0, OUT_FAIL, "bad read body");
	expect(F_READ, 200, "{\"value\":17}", NULL, 0, OUT_FAIL, "bad read body");
	expect(F_READ, 200, "", NULL, 0, OUT_FAIL, "bad read body");
	/* statuses that would be info for a write */
	expect(F_READ, 504, "{\"error\":\"timeout\"}", NULL, 0, OUT_FAIL, "timeout");
	expect(F_READ, 500, "", NULL, 0, OUT_FAIL, "http 500");
	expect(F_READ, 502, NULL, NULL, 0, OUT_FAIL, "http 502");
	expect(F_READ, 503, "{\"error\":\"no leader\"}", NULL, 0, OUT_FAIL, "no leader");
	expect(F_READ, 400, "{\"error\":\"bad consistency\"}", NULL, 0, OUT_FAIL, "bad consistency");
	expect(F_READ, 409, "{}", NULL, 0, OUT_FAIL, "http 409");
	/* no answer at all */
	expect(F_READ, 0, NULL, "Operation timed out after 2000 milliseconds", 0, OUT_FAIL, "timeout");
	expect(F_READ, 0, NULL, "Connection reset by peer", 0, OUT_FAIL, "Connection reset by peer");
	expect(F_READ, 0, NULL, NULL, 0, OUT_FAIL, "no response");
	expect(F_READ, 0, NULL, "Couldn't connect to server", 1, OUT_FAIL, "connection refused");
}

/* 2xx is ok for every write kind. */
static void test_write_ok(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_WRITES; i++) {
		expect(writes[i], 200, "{\"index\":12}", NULL, 0, OUT_OK, NULL);
		expect(writes[i], 201, "", NULL, 0, OUT_OK, NULL);
		expect(writes[i], 204, NULL, NULL, 0, OUT_OK, NULL);
	}
}

/* 409 on cas: fail "mismatch", with the value the node reported. */
static void test_cas_mismatch(void **state)
{
	(void)state;
	wl_result r;
	assert_int_equal(wl_classify(F_CAS, 409, "{\"error\":\"cas mismatch\",\"value\":\"7\"}", NULL, 0, &r), 0);
	assert_int_equal(r.type, OUT_FAIL);
	assert_string_equal(r.error, "mismatch");
	assert_true(wl_result_mismatch(&r));
	assert_non_null(r.current);
	assert_true(cJSON_IsString(r.current));
	assert_string_equal(r.current->valuestring, "7");
	assert_null(r.value);
	wl_result_free(&r);
	/* wl_result_free leaves an empty result: freeing again is harmless */
	assert_null(r.error);
	assert_null(r.current);
	wl_result_free(&r);

	/* the key is absent: current is JSON null */
	assert_int_equal(wl_classify(F_CAS, 409, "{\"value\":null}", NULL, 0, &r), 0);
	assert_true(wl_result_mismatch(&r));
	assert_non_null(r.current);
	assert_true(cJSON_IsNull(r.current));
	wl_result_free(&r);

	/* "current" is accepted as the field name too */
	assert_int_equal(wl_classify(F_CAS, 409, "{\"current\":\"x y \"}", NULL, 0, &r), 0);
	assert_true(wl_result_mismatch(&r));
	assert_non_null(r.current);
	assert_string_equal(r.current->valuestring, "x y ");
	wl_result_free(&r);

	/* no usable current value: still a mismatch, just without it */
	const char *bodies[] = {"{\"error\":\"cas mismatch\"}", "{\"value\":5}", "not json", "", NULL};
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		assert_int_equal(wl_classify(F_CAS, 409, bodies[i], NULL, 0, &r), 0);
		assert_int_equal(r.type, OUT_FAIL);
		assert_true(wl_result_mismatch(&r));
		assert_null(r.current);
		wl_result_free(&r);
	}
}

/* 409 on anything but cas is a plain fail, not a mismatch. */
static void test_409_not_cas(void **state)
{
	(void)state;
	wl_result r;
	assert_int_equal(wl_classify(F_WRITE, 409, "{\"value\":\"7\"}", NULL, 0, &r), 0);
	assert_int_equal(r.type, OUT_FAIL);
	assert_false(wl_result_mismatch(&r));
	assert_null(r.current);
	assert_string_equal(r.error, "http 409");
	wl_result_free(&r);
	expect(F_APPEND, 409, "{\"error\":\"conflict\"}", NULL, 0, OUT_FAIL, "conflict");
}

/* 4xx and 503: rejected before proposing, definitely not applied. */
static void test_rejected_fail(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_WRITES; i++) {
		int f = writes[i];
		expect(f, 400, "{\"error\":\"bad json\"}", NULL, 0, OUT_FAIL, "bad json");
		expect(f, 413, "", NULL, 0, OUT_FAIL, "http 413");
		expect(f, 404, "{\"error\":\"no such route\"}", NULL, 0, OUT_FAIL, "no such route");
		expect(f, 405, NULL, NULL, 0, OUT_FAIL, "http 405");
		expect(f, 503, "{\"error\":\"no leader\"}", NULL, 0, OUT_FAIL, "no leader");
		expect(f, 503, "{\"error\":\"\"}", NULL, 0, OUT_FAIL, "http 503");
		wl_result r;
		assert_int_equal(wl_classify(f, 503, "{\"error\":\"no leader\"}", NULL, 0, &r), 0);
		assert_false(wl_result_mismatch(&r));
		wl_result_free(&r);
	}
}

/* 504, 500, any other 5xx, and statuses outside the table: the write may have
 * committed, so the outcome is unknown. */
static void test_unknown_info(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_WRITES; i++) {
		int f = writes[i];
		expect(f, 504, "{\"error\":\"timeout\"}", NULL, 0, OUT_INFO, "timeout");
		expect(f, 504, "", NULL, 0, OUT_INFO, "http 504");
		expect(f, 500, "{\"error\":\"internal\"}", NULL, 0, OUT_INFO, "internal");
		expect(f, 502, NULL, NULL, 0, OUT_INFO, "http 502");
		expect(f, 599, "x", NULL, 0, OUT_INFO, "http 599");
		expect(f, 302, "", NULL, 0, OUT_INFO, "http 302");
	}
}

/* No answer: a connection error or timeout leaves a write's outcome open;
 * a refused fresh connection (not_sent) proves nothing was sent. */
static void test_no_answer(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_WRITES; i++) {
		int f = writes[i];
		expect(f, 0, NULL, "Operation timed out after 2000 milliseconds with 0 bytes received", 0,
		       OUT_INFO, "timeout");
		expect(f, 0, NULL, "Timed out", 0, OUT_INFO, "timeout");
		expect(f, 0, NULL, "Connection reset by peer", 0, OUT_INFO, "Connection reset by peer");
		expect(f, 0, NULL, "Server returned nothing (no headers, no data)", 0, OUT_INFO,
		       "Server returned nothing (no headers, no data)");
		expect(f, 0, NULL, NULL, 0, OUT_INFO, "no response");
		expect(f, 0, NULL, "", 0, OUT_INFO, "no response");
		/* refused on a reused connection proves nothing (README caveat) */
		expect(f, 0, NULL, "Couldn't connect to server", 0, OUT_INFO, "Couldn't connect to server");
		/* refused on a fresh connection: nothing left the client */
		expect(f, 0, NULL, "Couldn't connect to server", 1, OUT_FAIL, "connection refused");
		expect(f, 0, NULL, NULL, 1, OUT_FAIL, "connection refused");
		expect(f, 0, NULL, "Operation timed out", 1, OUT_FAIL, "connection refused");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcome_names),
		cmocka_unit_test(test_read_ok),
		cmocka_unit_test(test_read_errors_fail),
		cmocka_unit_test(test_write_ok),
		cmocka_unit_test(test_cas_mismatch),
		cmocka_unit_test(test_409_not_cas),
		cmocka_unit_test(test_rejected_fail),
		cmocka_unit_test(test_unknown_info),
		cmocka_unit_test(test_no_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
