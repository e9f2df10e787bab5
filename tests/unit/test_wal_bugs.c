/*
 * test_wal_bugs.c — the planted WAL bugs (node/wal/wal_int.h) are caught by
 * the tests of tests/unit/test_wal_torn.c, and cost nothing when off.
 *
 * The WAL is compiled into this test with -DWAL_PLANTED_BUGS by including
 * its sources (the archive the other tests link is built without it, and
 * the linker takes nothing from it since every symbol is defined here).
 * Keep the list in step with the .c files of node/wal.
 */
#define WAL_PLANTED_BUGS 1
#include "../../node/wal/wal_batch.c"
#include "../../node/wal/wal_open.c"
#include "../../node/wal/wal_record.c"
#include "../../node/wal/wal_replay.c"
#include "../../node/wal/wal_segment.c"
#include "../../node/wal/wal_write.c"

#define WAL_TORN_NO_MAIN
#include "test_wal_torn.c"

/* Bug 1 (open fsyncs only the last segment) is caught; off, it is not there. */
static void test_bug1_caught(void **state)
{
	(void)state;
	char msg[512];
	wal_planted_bug = 1;
	const char *bad = check_open_syncs_every_segment(msg, sizeof msg);
	wal_planted_bug = 0;
	assert_non_null(bad);
	assert_non_null(strstr(bad, "did not fsync segment 1"));
	assert_null(check_open_syncs_every_segment(msg, sizeof msg));
}

/* Bug 2 (any later offset counts as proof of a damaged middle) makes a torn
 * node refuse to start in every variant; off, every variant opens. */
static void test_bug2_caught(void **state)
{
	(void)state;
	char msg[512];
	for (int variant = 0; variant < 3; variant++) {
		wal_planted_bug = 2;
		const char *bad = check_record_shaped_torn(variant, msg, sizeof msg);
		wal_planted_bug = 0;
		if (bad == NULL)
			fail_msg("planted bug 2 not caught by variant %d", variant);
		assert_non_null(strstr(bad, "refused to start"));
		assert_null(check_record_shaped_torn(variant, msg, sizeof msg));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bug1_caught),
		cmocka_unit_test(test_bug2_caught),
		/* with no bug planted, the WAL built this way passes them all */
		cmocka_unit_test(test_open_syncs_every_segment),
		cmocka_unit_test(test_record_shaped_value_in_torn_tail),
		cmocka_unit_test(test_record_shaped_value_whole),
		cmocka_unit_test(test_middle_damage_still_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
