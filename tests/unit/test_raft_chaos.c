/*
 * test_raft_chaos.c — randomized cluster runs (see test_raft_chaos.h) with
 * the production core: every safety check must hold on every seed, and the
 * healed cluster must commit. CHAOS_SEEDS=n runs n seeds (default 60),
 * CHAOS_SEED=s one seed, CHAOS_TRACE=1 prints every step.
 */
#include "test_raft_chaos.h"

static void test_chaos(void **state)
{
	(void)state;
	const char *env = getenv("CHAOS_SEEDS");
	int seeds = env ? atoi(env) : 60;
	const char *one = getenv("CHAOS_SEED");
	if (one != NULL) {
		(void)run_seed((uint64_t)atoll(one), 3000, 0);
		return;
	}
	for (int s = 1; s <= seeds; s++) {
		if (getenv("CHAOS_STATS") != NULL)
			fprintf(stderr, "seed %d\n", s);
		(void)run_seed((uint64_t)s, 3000, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chaos),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
