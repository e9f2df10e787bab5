/*
 * quorum.c — majority arithmetic for a single voter set (Raft §5.2, §5.3).
 * Kept apart so the commit rule and the ReadIndex confirmation share it.
 */
#include "core.h"

uint64_t quorum_value(uint64_t *vals, size_t n)
{
	/* n <= RAFT_MAX_NODES: insertion sort, descending. */
	for (size_t i = 1; i < n; i++) {
		uint64_t v = vals[i];
		size_t j = i;
		while (j > 0 && vals[j - 1] < v) {
			vals[j] = vals[j - 1];
			j--;
		}
		vals[j] = v;
	}
	/* The quorum_size(n)-th largest value is reached by a majority. */
	return vals[quorum_size(n) - 1];
}
