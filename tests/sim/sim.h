/*
 * sim.h — deterministic simulation of a raftkv cluster in one process.
 *
 * Several real Raft cores (node/raft) and real durable logs (node/wal, on a
 * RAM-backed temp dir) are driven by one seeded PRNG: message delivery with
 * delay, loss, duplication and reordering; partitions that come and go; a
 * clock rate per node; crashes that keep only what was fsynced plus a torn
 * final write; on a quarter of the seeds, a disk whose fsync lies (then a
 * crash loses what the node acknowledged; it comes back amnesiac and the
 * network drops its vote traffic until it has rejoined: sim_node.c);
 * a page cache under the WAL, so a power cut loses what no fsync covered,
 * even what an earlier, killed process wrote (sim_disk.c); client writes,
 * cas and ReadIndex reads, whose values on some seeds embed a valid WAL
 * record (a torn write then holds record-shaped bytes). After every event the
 * safety invariants of the Raft paper are checked; at the end the client
 * history goes to the linearizability checker (tests/check). Half the seeds
 * "buggify" (FoundationDB-style): leaders are cut off right after they win or
 * their commit moves, messages take long detours, batches are tiny and
 * clients busy, which makes rare legal schedules such as the paper's Figure 8
 * common. A seed replays exactly: nothing here reads the wall clock or any
 * other randomness.
 */
#ifndef RAFTKV_SIM_H
#define RAFTKV_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../node/raft/raft.h"
#include "../../node/common/splitmix.h"
#include "../../node/wal/wal.h"
#include "../check/check.h"

#define SIM_MAX_NODES 7 /* up to 5 bootstrap voters and 2 spares */
#define SIM_KEYS 3
#define SIM_MAX_CLIENTS 6

/* The WAL's planted bugs (node/wal/wal_int.h) under the simulator's numbers:
 * 41 = WAL bug 1 (open fsyncs only the last segment), 42 = WAL bug 2 (the
 * torn-tail check takes a valid record at any later offset as proof of
 * damage in the middle). */
#define SIM_BUG_WAL_SYNC_LAST_ONLY 41
#define SIM_BUG_WAL_ANY_OFFSET 42

typedef struct sim_params {
	uint64_t seed;
	int n_nodes;          /* 3..5; 0 = chosen by the seed */
	uint64_t duration_us; /* simulated time to run */
	int planted_bug;      /* 0 = none; see raft_config.planted_bug */
	bool trace;           /* print every event */
	const char *tmp_root; /* where node data dirs go */
} sim_params;

typedef struct sim_outcome {
	bool ok;
	uint64_t steps;
	char what[4096]; /* the violated invariant, when !ok */
	uint64_t ops_ok, ops_fail, ops_info, reads_ok, elections, crashes, wipes, conf_changes;
	uint64_t snapshots, snapshot_boots; /* written; restarts from one */
} sim_outcome;

/* Runs one seed. Returns 0 when the run completed (ok or not), -1 when the
 * simulator itself could not run (I/O error on the temp dir, ENOMEM). */
int sim_run(const sim_params *p, sim_outcome *out);

/* splitmix64: tiny, fast, and good enough for choosing events. */
typedef struct sim_rng {
	uint64_t s;
} sim_rng;

static inline uint64_t sim_rand(sim_rng *r)
{
	return splitmix64_next(&r->s);
}
/* uniform in [0, n) (n > 0) */
static inline uint64_t sim_below(sim_rng *r, uint64_t n)
{
	return sim_rand(r) % n;
}
/* true with probability p */
static inline bool sim_chance(sim_rng *r, double p)
{
	return splitmix64_unit(&r->s) < p;
}

#endif
