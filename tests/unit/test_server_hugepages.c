/*
 * test_server_hugepages.c — the merge of the heap into huge pages that the
 * node runs on a worker (node/server/hugepages.c): it is switched off by
 * RAFTKV_NO_HUGEPAGES, stops when told, and does merge a heap split into
 * 4 KiB mappings by copy-on-write after a fork (where the kernel can).
 * The figure itself (fork call with and without) is `make bench-snapshot`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../node/server/hugepages.h"

static bool kernel_offers_thp(void)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (f == NULL)
		return false;
	char line[128];
	bool ok = fgets(line, sizeof line, f) != NULL && strstr(line, "[never]") == NULL;
	fclose(f);
	return ok;
}

static long anon_huge_kb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	if (f == NULL)
		return -1;
	char line[256];
	long kb = -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "AnonHugePages:", 14) == 0)
			kb = atol(line + 14);
	fclose(f);
	return kb;
}

static void test_switch(void **state)
{
	(void)state;
	char *saved = getenv("RAFTKV_NO_HUGEPAGES") ? strdup(getenv("RAFTKV_NO_HUGEPAGES")) : NULL;
	assert_int_equal(setenv("RAFTKV_NO_HUGEPAGES", "1", 1), 0);
	assert_false(hugepages_enabled());
	assert_int_equal(setenv("RAFTKV_NO_HUGEPAGES", "", 1), 0); /* empty: unset */
	assert_int_equal(hugepages_enabled(), kernel_offers_thp());
	assert_int_equal(unsetenv("RAFTKV_NO_HUGEPAGES"), 0);
	assert_int_equal(hugepages_enabled(), kernel_offers_thp());
	if (saved != NULL)
		assert_int_equal(setenv("RAFTKV_NO_HUGEPAGES", saved, 1), 0);
	free(saved);
}

static void test_stops(void **state)
{
	(void)state;
	atomic_bool stop;
	atomic_init(&stop, true);
	assert_int_equal(hugepages_collapse(&stop), 0); /* not one step */
}

/* A heap of ~64 MB in small blocks, a fork, writes all over it while the
 * child lives (each splits the huge page it falls in), the child gone:
 * the merge leaves more of it in huge pages than the writes did. Under
 * ASan malloc does not use the program break: nothing to test there. */
static void test_merges_split_heap(void **state)
{
	(void)state;
	if (!kernel_offers_thp())
		skip();
	uintptr_t end0 = hugepages_heap_end();
	enum { N = 400000 };
	char **blk = malloc(N * sizeof *blk);
	assert_non_null(blk);
	for (size_t i = 0; i < N; i++) {
		blk[i] = malloc(150);
		assert_non_null(blk[i]);
		memset(blk[i], 1, 150);
	}
	if (hugepages_heap_end() < end0 + ((uintptr_t)32 << 20)) {
		for (size_t i = 0; i < N; i++)
			free(blk[i]);
		free(blk);
		skip(); /* this malloc keeps small blocks elsewhere */
	}
	atomic_bool stop;
	atomic_init(&stop, false);
	long first = hugepages_collapse(&stop);
	if (first < 0) {
		for (size_t i = 0; i < N; i++)
			free(blk[i]);
		free(blk);
		skip(); /* no MADV_COLLAPSE in this kernel */
	}
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		usleep(200000);
		_exit(0);
	}
	for (size_t i = 0; i < N; i += 64)
		blk[i][0]++;
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	long split = anon_huge_kb();
	long merged = hugepages_collapse(&stop);
	long after = anon_huge_kb();
	print_message("huge pages: %ld kB after the writes, %ld steps merged, %ld kB after\n", split, merged, after);
	assert_true(merged > 0);
	assert_true(after >= split + 16 * 1024);
	for (size_t i = 0; i < N; i++)
		free(blk[i]);
	free(blk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_switch),
		cmocka_unit_test(test_stops),
		cmocka_unit_test(test_merges_split_heap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
