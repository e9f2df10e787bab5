/*
 * fuzz_history.c — the checker's history parser (tests/check/parse.c) on
 * hostile JSON Lines: it either accepts the lines or refuses one with a
 * message, never crashes.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../check/check.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_history *h = check_history_new();
	if (h == NULL)
		return 0;
	if (check_history_parse(h, (const char *)data, size) != 0)
		FUZZ_CHECK(check_history_error(h) != NULL);
	check_history_free(h);
	return 0;
}
