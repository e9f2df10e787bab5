/* test_faults_admin.c — the admin API: strict parsing (400s with reasons),
 * routing (404/405), state visible in status, DELETE clearing, bugs, disk,
 * pause and crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../faults/faults.h"

static faults *F;

static int setup(void **state)
{
	(void)state;
	F = faults_new(2, 1);
	return F == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	faults_free(F);
	return 0;
}

/* Runs a request; returns the status and leaves the body in *out (caller frees). */
static int req(const char *method, const char *name, const char *body, char **out)
{
	char *resp = NULL;
	int st = faults_admin(F, method, name, body, body ? strlen(body) : 0, 1000, &resp);
	assert_non_null(resp);
	if (out != NULL)
		*out = resp;
	else
		free(resp);
	return st;
}

static void expect_400(const char *name, const char *body, const char *detail_part)
{
	char *r = NULL;
	int st = req("POST", name, body, &r);
	if (st != 400 || strstr(r, "\"error\":\"bad request\"") == NULL ||
	    strstr(r, detail_part) == NULL)
		fail_msg("POST %s %s -> %d %s (wanted 400 with \"%s\")", name, body, st, r,
			 detail_part);
	free(r);
	/* and nothing changed */
	char *s = faults_status_json(F, 1000);
	assert_non_null(s);
	assert_string_equal(s, "{}");
	free(s);
}

static void test_bad_bodies(void **state)
{
	(void)state;
	expect_400("net", "{", "not valid JSON");
	expect_400("net", "[1]", "JSON object");
	expect_400("net", "{} x", "trailing");
	expect_400("net", "{}", "at least one");
	expect_400("net", "{\"drop_probability\":\"0.5\"}", "drop_probability");
	expect_400("net", "{\"drop_probability\":1.5}", "drop_probability");
	expect_400("net", "{\"delay_ms\":-1}", "delay_ms");
	expect_400("net", "{\"delay_ms\":1.5}", "delay_ms");
	expect_400("net", "{\"drop_to\":[1,-2]}", "drop_to");
	expect_400("net", "{\"drop_to\":1}", "drop_to");
	expect_400("net", "{\"drop_too\":[1]}", "unknown field \\\"drop_too\\\"");
	expect_400("net", "{\"delay_ms\":5,\"ms\":-5}", "ms must be");
	expect_400("partition", "{}", "groups");
	expect_400("partition", "{\"groups\":[[0,1],[1]]}", "node 1 appears twice");
	expect_400("partition", "{\"groups\":[0,1]}", "partition group");
	expect_400("clock", "{}", "clock needs");
	expect_400("clock", "{\"rate\":-1}", "rate");
	expect_400("clock", "{\"rate\":2,\"freeze\":true}", "not both");
	expect_400("clock", "{\"freeze\":1}", "freeze");
	expect_400("clock", "{\"strobe\":{\"delta_ms\":5}}", "period_ms");
	expect_400("clock", "{\"strobe\":{\"delta_ms\":5,\"period_ms\":0}}", "period_ms");
	expect_400("disk", "{}", "disk needs");
	expect_400("disk", "{\"fsync\":\"no\"}", "fsync");
	expect_400("pause", "{\"ms\":\"x\"}", "ms must be");
	expect_400("crash", "{\"lose_unsynced\":\"yes\"}", "lose_unsynced");
	expect_400("crash", "{\"ms\":5}", "unknown field");
	expect_400("bugs", "{\"stale_reads\":1}", "stale_reads");
	expect_400("bugs", "{\"bogus\":true}", "unknown field");
}

static void test_routing(void **state)
{
	(void)state;
	char *r;
	assert_int_equal(req("POST", "flood", "{}", &r), 404);
	assert_non_null(strstr(r, "\"error\":\"not found\""));
	free(r);
	assert_int_equal(req("GET", "net", NULL, &r), 405);
	assert_non_null(strstr(r, "method not allowed"));
	free(r);
	assert_int_equal(req("DELETE", "resume", NULL, NULL), 405);
	assert_int_equal(req("PUT", "", NULL, NULL), 405);
	assert_int_equal(req("PUT", "bugs", "{}", NULL), 405);
	assert_int_equal(req("GET", "", NULL, &r), 200);
	assert_string_equal(r, "{\"faults\":{}}");
	free(r);
}

static void test_state_in_status_and_delete(void **state)
{
	(void)state;
	char *r;
	assert_int_equal(req("POST", "net", "{\"drop_to\":[1],\"delay_ms\":10,\"ms\":3000}", &r),
			 200);
	assert_non_null(strstr(r, "\"net\":{\"drop_to\":[1],\"drop_from\":[]"));
	assert_non_null(strstr(r, "\"remaining_ms\":3000"));
	free(r);
	assert_int_equal(req("POST", "partition", "{\"groups\":[[0,1],[2]]}", NULL), 200);
	assert_int_equal(req("POST", "clock", "{\"rate\":1.5}", NULL), 200);
	assert_int_equal(req("POST", "disk", "{\"fsync\":false,\"delay_ms\":4}", NULL), 200);
	assert_int_equal(req("POST", "pause", "", NULL), 200);

	char *s = faults_status_json(F, 1000);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"partition\":{\"groups\":[[0,1],[2]],\"reachable\":[2]"));
	assert_non_null(strstr(s, "\"clock\":{"));
	assert_non_null(strstr(s, "\"rate\":1.5"));
	assert_non_null(strstr(s, "\"disk\":{\"fsync\":false,\"delay_ms\":4,\"remaining_ms\":null}"));
	assert_non_null(strstr(s, "\"pause\":{\"remaining_ms\":null}"));
	free(s);
	assert_true(faults_paused(F, 1000));
	fault_disk d = faults_disk(F);
	assert_false(d.fsync);
	assert_int_equal(d.delay_ms, 4);

	/* one fault healed by name */
	assert_int_equal(req("DELETE", "net", NULL, &r), 200);
	assert_null(strstr(r, "\"net\""));
	free(r);
	assert_int_equal(req("POST", "resume", NULL, NULL), 200);
	assert_false(faults_paused(F, 1000));

	/* all the rest */
	assert_int_equal(req("DELETE", "", NULL, &r), 200);
	assert_string_equal(r, "{\"faults\":{}}");
	free(r);
	d = faults_disk(F);
	assert_true(d.fsync);
	assert_int_equal(d.delay_ms, 0);
	assert_false(faults_filter_msg(F, FAULT_OUT, 0, 1000).drop);
}

static void test_pause_expiry(void **state)
{
	(void)state;
	assert_int_equal(req("POST", "pause", "{\"ms\":5000}", NULL), 200);
	assert_true(faults_paused(F, 5999));
	assert_false(faults_paused(F, 6000));
}

static void test_disk_expiry_via_clock(void **state)
{
	(void)state;
	assert_int_equal(req("POST", "disk", "{\"delay_ms\":50,\"ms\":100}", NULL), 200);
	assert_int_equal(faults_disk(F).delay_ms, 50);
	(void)faults_clock_ms(F, 1100); /* the node's tick clears what is due */
	assert_int_equal(faults_disk(F).delay_ms, 0);
}

static void test_crash(void **state)
{
	(void)state;
	bool lose = true;
	assert_false(faults_crash_requested(F, &lose));
	assert_false(lose);
	/* 202: accepted, the node dies right after sending this answer */
	assert_int_equal(req("POST", "crash", "{\"lose_unsynced\":true}", NULL), 202);
	assert_true(faults_crash_requested(F, &lose));
	assert_true(lose);
}

static void test_bugs(void **state)
{
	(void)state;
	char *r;
	fault_bugs b = faults_bugs_get(F);
	assert_false(b.stale_reads || b.lease_reads || b.no_fsync || b.ack_before_commit);
	assert_int_equal(req("POST", "bugs", "{\"stale_reads\":true,\"no_fsync\":true}", &r), 200);
	assert_string_equal(r, "{\"bugs\":{\"stale_reads\":true,\"lease_reads\":false,"
			       "\"no_fsync\":true,\"ack_before_commit\":false}}");
	free(r);
	assert_false(faults_disk(F).fsync);
	/* a subset leaves the others alone */
	assert_int_equal(req("POST", "bugs", "{\"lease_reads\":true}", NULL), 200);
	b = faults_bugs_get(F);
	assert_true(b.stale_reads && b.lease_reads && b.no_fsync && !b.ack_before_commit);
	/* DELETE /admin/faults leaves bugs; DELETE /admin/bugs clears them */
	assert_int_equal(req("DELETE", "", NULL, NULL), 200);
	assert_true(faults_bugs_get(F).stale_reads);
	assert_int_equal(req("DELETE", "bugs", NULL, NULL), 200);
	char *s = faults_bugs_json(F);
	assert_non_null(s);
	assert_string_equal(s, "{\"stale_reads\":false,\"lease_reads\":false,"
			       "\"no_fsync\":false,\"ack_before_commit\":false}");
	free(s);
	assert_true(faults_disk(F).fsync);
}

/* Issue 15.6: once the members are known, a partition or net body naming
 * another id is a 400 that changes nothing. */
static void test_unknown_ids_refused(void **state)
{
	(void)state;
	const uint32_t ids[] = { 0, 1, 2 };
	assert_int_equal(faults_set_members(F, ids, 3), 0);
	expect_400("partition", "{\"groups\":[[0,1],[7]]}", "node 7");
	expect_400("partition", "{\"groups\":[[0,1,2,3]]}", "node 3");
	expect_400("net", "{\"drop_to\":[9]}", "node 9");
	expect_400("net", "{\"drop_from\":[1,5]}", "node 5");
	assert_int_equal(req("POST", "partition", "{\"groups\":[[0,1],[2]]}", NULL), 200);
	assert_int_equal(req("POST", "net", "{\"drop_to\":[1]}", NULL), 200);
	assert_int_equal(req("DELETE", "partition", NULL, NULL), 200);
	assert_int_equal(req("DELETE", "net", NULL, NULL), 200);
}

/* DELETE /admin/faults/<kind> heals that kind alone: a combined nemesis
 * ends one fault while the others go on. */
static void test_delete_one_kind_keeps_the_others(void **state)
{
	(void)state;
	static const char *const kinds[] = { "pause", "net", "partition", "clock", "disk" };
	static const char *const bodies[] = { "{}", "{\"drop_to\":[0]}", "{\"groups\":[[0,1],[2]]}",
		"{\"offset_ms\":5000}", "{\"fsync\":false}" };
	const size_t n = sizeof kinds / sizeof kinds[0];
	for (size_t healed = 0; healed < n; healed++) {
		for (size_t i = 0; i < n; i++)
			assert_int_equal(req("POST", kinds[i], bodies[i], NULL), 200);
		char *r = NULL;
		assert_int_equal(req("DELETE", kinds[healed], NULL, &r), 200);
		for (size_t i = 0; i < n; i++) {
			char field[32];
			snprintf(field, sizeof field, "\"%s\":{", kinds[i]);
			bool present = strstr(r, field) != NULL;
			if (present != (i != healed))
				fail_msg("DELETE %s: %s is %s in %s", kinds[healed], kinds[i],
					 present ? "still there" : "gone", r);
		}
		free(r);
		/* and the effects match what status says */
		assert_int_equal(faults_paused(F, 1000), healed != 0);
		assert_int_equal(faults_filter_msg(F, FAULT_OUT, 0, 1000).drop, true);
		assert_int_equal(faults_clock_ms(F, 1000) == 1000, healed == 3);
		assert_int_equal(faults_disk(F).fsync, healed == 4);
		assert_int_equal(req("DELETE", "", NULL, NULL), 200);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unknown_ids_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_bodies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_in_status_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_expiry_via_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_one_kind_keeps_the_others, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bugs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
