/*
 * snapshot_policy.h — when to take a snapshot and how much log to keep
 * behind it. Pure arithmetic, so the node and the simulator decide alike.
 *
 * A snapshot is due once `every_entries` entries or `every_bytes` bytes of
 * entry data have been applied since the last one (0 turns that trigger off).
 * After a snapshot at S is durable, the log (in memory and in the WAL) is
 * compacted up to S - `trailing_entries`: followers lagging by less than that
 * still catch up from the log instead of needing the whole snapshot. The
 * margin is also bounded by `trailing_bytes` of entry data (the runtime asks
 * the core where that is, raft_compact_keeping_bytes): with large entries an
 * entry count alone kept every byte ever written in memory.
 */
#ifndef RAFTKV_SNAPSHOT_POLICY_H
#define RAFTKV_SNAPSHOT_POLICY_H

#include <stdbool.h>
#include <stdint.h>

typedef struct snapshot_policy {
	uint64_t every_entries;    /* default 100000 */
	uint64_t every_bytes;      /* default 64 MiB */
	uint64_t trailing_entries; /* default 10000 */
	uint64_t trailing_bytes;   /* default 16 MiB; 0 = no byte bound */
} snapshot_policy;

void snapshot_policy_defaults(snapshot_policy *p);

/* Whether a snapshot is due at `applied`, the last one being at snap_index,
 * with bytes_since bytes of entry data applied since. Never due when nothing
 * new was applied. */
bool snapshot_due(const snapshot_policy *p, uint64_t applied, uint64_t snap_index,
		  uint64_t bytes_since);

/* Where to compact the log to once a snapshot at snap_index is durable: 0
 * when nothing should go (the margin covers everything). Never beyond
 * snap_index. */
uint64_t snapshot_compact_to(const snapshot_policy *p, uint64_t snap_index);

#endif
