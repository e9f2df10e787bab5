/*
 * test_server_loop_stall.c — the loop's stall attribution (issue 15.4):
 * which of running, waiting for a CPU and neither took most of a long tick
 * period, and that the samples count the loop thread's own CPU time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <cmocka.h>

#include "../../node/server/loop_stall.h"

static void test_classify(void **state)
{
	(void)state;
	/* a follower-visible stall of 400 ms, three ways */
	assert_int_equal(loop_stall_classify(400, 20, 370), STALL_STARVED);
	assert_int_equal(loop_stall_classify(400, 390, 0), STALL_BUSY);
	assert_int_equal(loop_stall_classify(400, 10, 15), STALL_BLOCKED);
	/* no single part over half: the largest decides */
	assert_int_equal(loop_stall_classify(300, 120, 100), STALL_BUSY);
	assert_int_equal(loop_stall_classify(300, 100, 120), STALL_STARVED);
	assert_int_equal(loop_stall_classify(300, 100, 90), STALL_BLOCKED);
	/* samples a little over the period (clock granularity) do not wrap */
	assert_int_equal(loop_stall_classify(150, 160, 0), STALL_BUSY);
	assert_string_equal(loop_stall_cause_name(STALL_STARVED), "starved");
}

static void test_parse(void **state)
{
	(void)state;
	uint64_t run = 1, wait = 1;
	assert_true(loop_stall_parse("123 456 7\n", &run, &wait));
	assert_true(run == 123 && wait == 456);
	assert_true(loop_stall_parse("18446744073709551615 0 1\n", &run, &wait));
	assert_true(run == UINT64_MAX && wait == 0);
	assert_true(loop_stall_parse("5 6", &run, &wait));
	assert_true(run == 5 && wait == 6);
	assert_true(loop_stall_parse("7 \t 8", &run, &wait));
	assert_true(run == 7 && wait == 8);
	/* refused, and nothing written */
	run = wait = 9;
	assert_false(loop_stall_parse("18446744073709551616 0 1\n", &run, &wait));
	assert_false(loop_stall_parse("12\n", &run, &wait));
	assert_false(loop_stall_parse("12 ", &run, &wait));
	assert_false(loop_stall_parse("12,3", &run, &wait));
	assert_false(loop_stall_parse("-1 2 3", &run, &wait));
	assert_false(loop_stall_parse("x 2 3", &run, &wait));
	assert_false(loop_stall_parse("", &run, &wait));
	assert_true(run == 9 && wait == 9);
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	assert_int_equal(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A stall is counted once, by one cause, only from the threshold up; and
 * the CPU the thread burned between two ticks is in the samples. */
static void test_counts_and_samples(void **state)
{
	(void)state;
	loop_stall ls;
	loop_stall_init(&ls);
	loop_stall_tick(&ls, 1000, 10, 150); /* first sample: nothing to compare */
	assert_true(ls.have);
	uint64_t run0 = ls.run_ns;
	uint64_t c0 = thread_cpu_ns();
	volatile uint64_t x = 0;
	while (thread_cpu_ns() - c0 < 60000000u) /* 60 ms of CPU */
		x++;
	loop_stall_tick(&ls, 1100, 149, 150); /* under the threshold */
	assert_int_equal(ls.counts[STALL_BUSY] + ls.counts[STALL_STARVED] + ls.counts[STALL_BLOCKED], 0);
	assert_true(ls.run_ns - run0 >= 55000000u);
	loop_stall_tick(&ls, 1300, 200, 150);
	assert_int_equal(ls.counts[STALL_BUSY] + ls.counts[STALL_STARVED] + ls.counts[STALL_BLOCKED], 1);
	loop_stall_close(&ls);
	assert_int_equal(ls.fd, -1);
	(void)x;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_counts_and_samples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
