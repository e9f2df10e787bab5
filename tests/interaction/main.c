/*
 * raftkv-interaction — runs the interaction scripts of tests/interaction
 * (README.md): `raftkv-interaction [--rewrite] FILE...`. Ends with
 * "interaction: N passed, N failed" and exits non-zero if any failed.
 */
#include <stdio.h>
#include <string.h>

#include "script.h"

int main(int argc, char **argv)
{
	bool rewrite = false;
	int passed = 0, failed = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rewrite") == 0) {
			rewrite = true;
			continue;
		}
		int rc = script_run(argv[i], rewrite);
		if (rc == 0) {
			passed++;
			printf("ok   %s%s\n", argv[i], rewrite ? " (rewritten)" : "");
		} else {
			failed++;
			printf("FAIL %s%s\n", argv[i], rc == 2 ? " (unreadable or malformed)" : "");
		}
	}
	if (passed + failed == 0) {
		fprintf(stderr, "usage: raftkv-interaction [--rewrite] FILE...\n");
		return 2;
	}
	printf("interaction: %d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
