/*
 * wal_compact.h — compaction of the WAL behind a snapshot, and the reset of
 * a follower's log to an installed snapshot (FORMAT.md, "Compaction").
 *
 * After either, the log's first index is base + 1: wal_open reports the base
 * as wal_recovered.snap_index/snap_term, and the entries that follow it.
 */
#ifndef RAFTKV_WAL_COMPACT_H
#define RAFTKV_WAL_COMPACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wal.h"

typedef struct wal_compact_result {
	size_t segments_dropped;
	uint64_t bytes_freed;
	uint64_t base_index; /* the log now starts after this index (0: unchanged) */
	uint64_t first_seq;  /* first segment kept */
} wal_compact_result;

/* Deletes every segment all of whose entries are <= upto (whole segments
 * only; never the current one nor any not yet fsynced). The caller passes
 * the snapshot index minus the trailing margin it wants to keep for lagging
 * followers; upto must be covered by a durable snapshot. Safe to call from
 * another thread than wal_write (they exclude each other). 0 or -1 with err
 * (nothing is lost: an interrupted compaction is finished by the next open). */
int wal_compact(wal *w, uint64_t upto, wal_compact_result *res, char *err, size_t errlen);

/* Appends a RESET record: from there on the log is empty after (index,
 * term) (a follower installed a snapshot at that point, and whatever its log
 * held is replaced). Entries added after it must start at index + 1; entries
 * before it in the same batch are superseded. Atomic: a crash before the
 * batch is durable leaves the old log. 0, or -1 (ENOMEM, index/term not
 * both zero or both non-zero). */
int wal_batch_add_reset(wal_batch *b, uint64_t index, uint64_t term);

/* The same, alone, written and fsynced at once. 0 or -1 with err. */
int wal_reset(wal *w, uint64_t index, uint64_t term, char *err, size_t errlen);

/* On restart, after loading a snapshot at (index, term): drops the recovered
 * entries up to index, so rec holds what raft_load wants (snap_index =
 * index, entries from index + 1). Fails when the log starts after index (a
 * gap) or holds another term at index. */
int wal_recovered_skip_to(wal_recovered *rec, uint64_t index, uint64_t term, char *err,
			  size_t errlen);

/* On restart, after loading a snapshot at (index, term), for a node that may
 * have installed it: as wal_recovered_skip_to when the log holds that entry;
 * when the log ends before it or holds another term there (a crash after the
 * received snapshot became durable, before its RESET record did), the WAL is
 * reset to the snapshot at once (wal_reset: written and fsynced), rec is
 * emptied to start there, and *reset says so. 0 or -1 with err. */
int wal_fit_snapshot(wal *w, wal_recovered *rec, uint64_t index, uint64_t term, bool *reset,
		     char *err, size_t errlen);

/* ---- internal to node/wal (wal_replay.c) ---- */

#define WAL_BASE_FILE "base"

typedef struct wal_base {
	bool present;
	uint64_t first_seq;
	uint64_t index, term;
} wal_base;

/* Reads <dir>/base (absent: present = false). 0 or -1 with err. */
int wal_base_read(const char *dir, int dirfd, wal_base *b, char *err, size_t errlen);

/* At replay: with a base file, deletes the segments before its first one
 * (an interrupted compaction), removes them from seqs, checks the first
 * remaining one is the base's, and starts rec at the base. 1 when a base
 * applies, 0 without one, -1 with err. */
int wal_base_apply(const char *dir, int dirfd, uint64_t **seqs, size_t *n, wal_recovered *rec,
		   char *err, size_t errlen);

#endif
