/*
 * wal.h — raftkv's durable log: segment files of checksummed records.
 *
 * Threading: a wal_batch is built on the event-loop thread (it copies what it
 * encodes, so the Raft core may move on at once); wal_write() then runs on one
 * worker thread at a time (libuv's threadpool), so fsync never blocks the loop.
 * Group commit falls out of this: every ready batch produced while one write
 * is in flight is queued and goes to disk together with a single fsync.
 *
 * Records carry either log entries (a record of entries starting at index i
 * replaces every entry >= i: that is how conflicting suffixes are truncated)
 * or the hard state (term, vote, commit). On open, records are replayed in
 * order; a torn or corrupt tail of the last segment is cut; a corrupt record
 * followed by valid data is refused with an error. See node/wal/FORMAT.md.
 */
#ifndef RAFTKV_WAL_H
#define RAFTKV_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../raft/raft.h"

typedef struct wal wal;
typedef struct wal_batch wal_batch;

typedef struct wal_options {
	size_t segment_bytes; /* roll to a new segment past this size (default 64 MiB) */
} wal_options;

typedef struct wal_recovered {
	raft_hard_state hs;
	uint64_t snap_index; /* 0 until snapshots exist */
	uint64_t snap_term;
	raft_entry *entries; /* contiguous from snap_index + 1; owned, free with wal_recovered_free */
	size_t n_entries;
	uint64_t torn_bytes_cut; /* how many bytes of a torn tail were removed (0 = clean) */
} wal_recovered;

/* Opens (creating if needed) the log in dir and replays it into *rec.
 * Returns 0, or -1 with a one-line reason in err (corrupt middle record,
 * unreadable dir, ...). opts may be NULL. */
int wal_open(const char *dir, const wal_options *opts, wal **out,
	     wal_recovered *rec, char *err, size_t errlen);
void wal_recovered_free(wal_recovered *rec);
void wal_close(wal *w);

wal_batch *wal_batch_new(void);
void wal_batch_free(wal_batch *b);
bool wal_batch_empty(const wal_batch *b);
/* Appends an encoded copy; 0 or -1 (ENOMEM / bad input: indexes not
 * contiguous, index 0, data NULL with len > 0, or a start past the end of the
 * entries already in the batch + 1, which replay would refuse as a gap). */
int wal_batch_add_entries(wal_batch *b, const raft_entry *ents, size_t n);
int wal_batch_add_hard_state(wal_batch *b, const raft_hard_state *hs);
/* Moves all records of src to the end of dst (src becomes empty). */
int wal_batch_append(wal_batch *dst, wal_batch *src);
/* Empties the batch, keeping its buffer for reuse. */
void wal_batch_clear(wal_batch *b);
/* Encoded size in bytes (what wal_write will write). */
size_t wal_batch_bytes(const wal_batch *b);

/* Writes the batch and, if do_fsync, fsyncs it (and the directory when a
 * segment was created). 0 or -1 with err. One thread at a time.
 * A batch whose entries start past the log's last index + 1 is refused
 * (nothing written). After a failed write or fsync every later call fails:
 * the node must restart and replay. */
int wal_write(wal *w, const wal_batch *b, bool do_fsync, char *err, size_t errlen);

/* Cuts every byte written since the last successful fsync (the fault layer's
 * crash with lose_unsynced: what fsync guarantees and no more). Safe to call
 * from another thread: it waits for a wal_write in progress. */
int wal_drop_unsynced(wal *w);

/* Bytes written but not yet fsynced (for status/metrics). */
uint64_t wal_unsynced_bytes(const wal *w);

#endif
