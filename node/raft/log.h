/*
 * log.h — the in-memory Raft log (internal to the core).
 *
 * Entries live in one array with an index offset: entry i sits at
 * ents[head + (i - first)]. The first index can move forward (compaction
 * after a snapshot) without copying on every call: dropped slots at the front
 * are reclaimed by one memmove when they make up half the array, so every
 * operation is O(1) amortized per entry. snap_index/snap_term describe the
 * entry just before the first stored one (0/0 for a log never compacted).
 *
 * Terms never decrease along a log, which lets the conflict hints use binary
 * search instead of scans.
 */
#ifndef RAFTKV_RAFT_LOG_H
#define RAFTKV_RAFT_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "raft.h"

typedef struct raft_log {
	raft_entry *ents;
	size_t head;  /* slot of the first stored entry */
	size_t len;   /* stored entries */
	size_t cap;   /* slots allocated */
	uint64_t snap_index;
	uint64_t snap_term;
	uint64_t bytes; /* data bytes of the stored entries */
} raft_log;

void log_init(raft_log *l);
void log_free(raft_log *l);

static inline uint64_t log_first_index(const raft_log *l) { return l->snap_index + 1; }
static inline uint64_t log_last_index(const raft_log *l) { return l->snap_index + l->len; }

/* The entry at index, or NULL when not stored. */
const raft_entry *log_get(const raft_log *l, uint64_t index);

/* Term of index: true and *term set when known (stored, or the snapshot point). */
bool log_term(const raft_log *l, uint64_t index, uint64_t *term);
uint64_t log_last_term(const raft_log *l);

/* Appends one entry at last+1 with a copy of data. 0 or -1 (ENOMEM). */
int log_append(raft_log *l, uint64_t term, uint8_t type, const void *data, uint32_t len);

/* Removes every entry with index >= index (index > snap_index). */
void log_truncate_from(raft_log *l, uint64_t index);

/* Drops entries up to and including index (which must be stored), moving the
 * snapshot point there. */
void log_compact_to(raft_log *l, uint64_t index);

/* Resets to an empty log whose snapshot point is (index, term). */
void log_reset(raft_log *l, uint64_t index, uint64_t term);

/* Binary searches (terms are non-decreasing along the log):
 * the first stored index whose term is >= term (last+1 if none), and
 * the last index <= upto whose term is <= term (snap_index if none). */
uint64_t log_first_index_with_term_ge(const raft_log *l, uint64_t term);
uint64_t log_last_index_with_term_le(const raft_log *l, uint64_t term, uint64_t upto);

#endif
