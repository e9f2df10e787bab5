/*
 * fuzz.h — the one entry point every fuzz target defines (libFuzzer's).
 * Built with clang -fsanitize=fuzzer by `make fuzz`, or with gcc and
 * replay_main.c by `make test-fuzz`, which replays the checked-in corpora and
 * saved crashes under ASan+UBSan without needing clang.
 */
#ifndef RAFTKV_FUZZ_H
#define RAFTKV_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A target's assertion: aborts (the fuzzer saves the input as a crash). */
#define FUZZ_CHECK(cond)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                      \
		}                                                                     \
	} while (0)

#endif
