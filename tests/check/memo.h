/*
 * memo.h — the set of search configurations already explored: (which
 * operations are linearised, model state). Lowe's optimisation of the WGL
 * algorithm: a configuration seen before leads nowhere new.
 *
 * The linearised set is a bitset over the key's operations, in invoke order.
 * It is stored compressed, because a search mostly linearises operations
 * near the front: only the number of leading all-ones words and the words
 * from there to the last non-zero one are kept. That form is canonical, so
 * equal sets compare equal, and a 100,000-operation key costs a few words per
 * entry rather than 1.5 KiB.
 */
#ifndef RAFTKV_CHECK_MEMO_H
#define RAFTKV_CHECK_MEMO_H

#include <stddef.h>
#include <stdint.h>

typedef struct memo_slot memo_slot;

typedef struct memo {
	memo_slot *slot;
	size_t nslot, count;
	uint64_t *words; /* compressed tails, back to back */
	size_t nwords, capwords;
} memo;

/*
 * Adds the configuration: hash (of set and state), state, the full bitset and
 * its lo (first word not all ones) and hi (last non-zero word + 1; hi <= lo
 * means no tail). 1 added, 0 already there, -1 ENOMEM or would exceed limit
 * bytes.
 */
int memo_add(memo *m, uint64_t hash, uint32_t state, const uint64_t *bits, uint32_t lo,
	     uint32_t hi, size_t limit);
size_t memo_bytes(const memo *m);
void memo_clear(memo *m); /* empties, keeps capacity for the next key */
void memo_free(memo *m);

#endif
