/* checkrun.c — in-process linearizability check (see checkrun.h). */
#include "checkrun.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../check/check.h"

int checkrun(const char *history, double timeout_s, const char **verdict)
{
	FILE *f = fopen(history, "r");
	if (f == NULL) {
		fprintf(stderr, "raftkv-workload: cannot read %s: %s\n", history, strerror(errno));
		*verdict = "history unreadable";
		return 3;
	}
	check_history *h = check_history_new();
	if (h == NULL) {
		fclose(f);
		*verdict = "out of memory";
		return 3;
	}
	int rc = check_history_read_file(h, f);
	(void)fclose(f); /* read-only: nothing can be lost on close */
	if (rc != 0) {
		/* Our own output refused: a bug here, not in the cluster. */
		fprintf(stderr, "raftkv-workload: checker rejected %s: %s\n", history,
			check_history_error(h));
		check_history_free(h);
		*verdict = "history rejected by the checker (bad input)";
		return 3;
	}
	check_options opts = {.timeout_s = timeout_s, .max_memory = 0};
	check_result r;
	memset(&r, 0, sizeof r);
	check_verdict v = check_history_check(h, &opts, &r);
	int code;
	switch (v) {
	case CHECK_LINEARIZABLE:
		*verdict = "linearizable";
		code = 0;
		break;
	case CHECK_NOT_LINEARIZABLE:
		*verdict = "NOT linearizable";
		code = 1;
		break;
	default:
		*verdict = "no verdict (checker gave up)";
		code = 3;
		break;
	}
	if (code != 0 && r.description != NULL)
		printf("%s\n", r.description);
	check_result_free(&r);
	check_history_free(h);
	return code;
}
