/*
 * rt_incarnation.h — which life of its node id a node with an empty data
 * directory is (node/raft/README.md, "Membership", rule 8, and "On the node").
 *
 * The node keeps its incarnation in DIR/INCARNATION. A node that finds no
 * such file and an empty WAL does not know whether it is bootstrapping a
 * brand-new cluster (then it is incarnation 0, a voter of the --cluster
 * configuration) or coming back after its disk was wiped (then it must be a
 * fresh incarnation, which votes for nobody until the leader has replaced its
 * old life). Taking a fresh one by mistake is safe (the leader replaces the
 * member: three changes); taking 0 by mistake is not. So it starts silent
 * (no ticks into the core, nothing stepped) and probes, and takes 0 only on
 * evidence that the cluster is new:
 *
 *   - heard with an empty log at term 0 from a majority of the OTHER
 *     --cluster voters: a pre-vote or vote request with last index 0 and
 *     term <= 1. Self is not counted: its old life may be in the majority
 *     that holds a committed entry. A majority of the n-1 others and any
 *     majority of the n voters always share a node other than self, which
 *     would hold the entry, so (with at most this one disk lost) nothing was
 *     ever committed.
 *   - anything showing a cluster that elected a leader or holds entries (an
 *     append, a heartbeat, a read index, a proposal, any log index, commit
 *     or log term, any term >= 2) means it exists: take a fresh incarnation.
 *
 * This file is the pure decision; rt.c sends the probes and applies it.
 */
#ifndef RAFTKV_RT_INCARNATION_H
#define RAFTKV_RT_INCARNATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../raft/raft.h"

enum inc_verdict { INC_UNDECIDED = 0, INC_NEW_CLUSTER = 1, INC_EXISTS = 2 };

typedef struct inc_probe {
	uint32_t self;
	uint32_t others[RAFT_MAX_NODES]; /* the --cluster voters but self */
	bool heard_empty[RAFT_MAX_NODES];
	size_t n_others;
	uint8_t verdict; /* enum inc_verdict; sticky once decided */
} inc_probe;

/* voters: the --cluster voters (self included or not). */
void inc_probe_init(inc_probe *p, uint32_t self, const uint32_t *voters, size_t n);
/* Feeds one message received while undecided; returns the verdict so far. */
uint8_t inc_probe_observe(inc_probe *p, const raft_msg *m);
/* With no other voter (a one-node cluster) the verdict is "new" at once. */
uint8_t inc_probe_verdict(const inc_probe *p);

/* A fresh incarnation: random, never 0. */
uint64_t inc_fresh(void);

#endif
