/*
 * kv_snapshot.h — the whole replicated state machine as one byte stream: the
 * KV map, the dedup record (so a retried write is not applied twice after a
 * snapshot is installed) and the cluster configuration, at an applied index
 * and term. The layout is in node/snapshot/FORMAT.md.
 *
 * Both directions stream: the writer hands out chunks of at most
 * KV_SNAP_CHUNK bytes to a callback (a file, a socket, a test buffer), and the
 * reader takes chunks of any size, in order, so neither side ever holds the
 * whole snapshot in memory. The stream is versioned and checksummed (CRC-32C
 * of the header on its own, and of every byte at the end); a reader builds a
 * fresh state machine aside and hands it out only when the last byte checked,
 * so a damaged or cut stream never leaves anything half-restored.
 */
#ifndef RAFTKV_KV_SNAPSHOT_H
#define RAFTKV_KV_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "kv_machine.h"

#define KV_SNAP_VERSION 1u
#define KV_SNAP_MAX_VOTERS 16u   /* = RAFT_MAX_NODES */
#define KV_SNAP_CHUNK (64u << 10) /* the writer's chunk size */
#define KV_SNAP_HEADER_BYTES 64u
#define KV_SNAP_CONF_MAX 4096u   /* bytes of the core's configuration record */

/* What the snapshot is of: the state after applying index (of term), under
 * this configuration. outgoing is the old half of a joint configuration
 * (n_outgoing = 0: raftkv changes one member at a time). conf is the whole
 * configuration as the core states it (the data of the last CONF entry at
 * or before index: voters, learners, incarnations, addresses; encoding in
 * node/raft/membership.h), opaque here; conf_len = 0 when no CONF entry was
 * ever applied (the bootstrap voters are the configuration). */
typedef struct kv_snap_meta {
	uint64_t index;
	uint64_t term;
	uint32_t n_voters;
	uint32_t voters[KV_SNAP_MAX_VOTERS];
	uint32_t n_outgoing;
	uint32_t outgoing[KV_SNAP_MAX_VOTERS];
	uint32_t conf_len;
	uint8_t conf[KV_SNAP_CONF_MAX];
} kv_snap_meta;

/* Receives the next len bytes of the stream; 0, or -1 to abort the write. */
typedef int (*kv_snap_sink_fn)(void *ctx, const uint8_t *buf, size_t len);

/* Writes the state machine m as of meta. The store must not change during
 * the call (run it on a frozen copy: a forked child, or the loop itself).
 * 0, or -1 with a one-line reason in err (sink failure, ENOMEM, bad meta). */
int kv_snapshot_write(const kv_machine *m, const kv_snap_meta *meta, kv_snap_sink_fn sink,
		      void *ctx, uint64_t *bytes_out, char *err, size_t errlen);

typedef struct kv_snap_reader kv_snap_reader;

kv_snap_reader *kv_snap_reader_new(void);
void kv_snap_reader_free(kv_snap_reader *r);

/* Feeds the next len bytes. 0, or -1 with a reason naming the byte offset
 * (bad magic, unknown version, bad header checksum, a record that cannot be
 * there). An error sticks: every later call fails with it. */
int kv_snap_reader_feed(kv_snap_reader *r, const uint8_t *buf, size_t len, char *err,
			size_t errlen);

/* The header, as soon as its checksum held (1), else 0: lets a receiver learn
 * index and term before the rest has arrived. */
int kv_snap_reader_meta(const kv_snap_reader *r, kv_snap_meta *meta);

/* Bytes taken so far. */
uint64_t kv_snap_reader_offset(const kv_snap_reader *r);

/* Ends the stream: 0 when it was whole, its checksum held and its counts add
 * up; then *out (uninitialised on entry) receives the restored machine and
 * *meta what it is of. -1 with a reason otherwise (truncated, checksum
 * mismatch, ...), and *out is untouched. */
int kv_snap_reader_finish(kv_snap_reader *r, kv_machine *out, kv_snap_meta *meta, char *err,
			  size_t errlen);

/* One-shot restore of a whole stream in memory (tests, small snapshots). */
int kv_snapshot_restore_buf(const uint8_t *buf, size_t len, kv_machine *out,
			    kv_snap_meta *meta, char *err, size_t errlen);

#endif
