/*
 * quorum.h — configurations and the majority rules over them (Raft §5.2,
 * §5.3, §5.4; joint consensus §6 of the Raft paper / §4.3 of the thesis).
 *
 * A configuration is the set of voters, plus, while a membership change is
 * in flight, the outgoing set of voters ("joint": every decision needs a
 * majority of BOTH sets), plus learners (members that receive the log but
 * never count toward any quorum). Every question the core asks of a quorum
 * goes through the three functions below, so a membership change only has
 * to build a new configuration:
 *
 *   quorum_committed  the highest index a quorum has acknowledged
 *                     (commit index; ReadIndex rounds confirmed)
 *   quorum_reached    whether the nodes a predicate accepts form a quorum
 *                     (check-quorum activity, leader lease)
 *   quorum_vote       won / lost / pending for an election or pre-vote
 *
 * Values are asked for by node id through a callback, so callers keep their
 * own bookkeeping (the tracker's progress, the node's own durable index).
 * This file knows nothing of struct raft.
 */
#ifndef RAFTKV_RAFT_QUORUM_H
#define RAFTKV_RAFT_QUORUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft.h"

/* One set of voters, decided by simple majority. Ids are distinct and never
 * RAFT_NONE; the order is the order they were given in (kept for status). */
typedef struct quorum_majority {
	uint32_t ids[RAFT_MAX_NODES];
	size_t n;
} quorum_majority;

typedef struct quorum_config {
	quorum_majority voters;   /* the current (in a joint change: incoming) voters */
	quorum_majority outgoing; /* previous voters while joint; n == 0 otherwise */
	uint32_t learners[RAFT_MAX_NODES];
	size_t n_learners;
} quorum_config;

enum quorum_vote_result {
	QUORUM_PENDING = 0, /* neither outcome is decided yet */
	QUORUM_LOST = 1,    /* a majority (of either set, when joint) said no */
	QUORUM_WON = 2,     /* a majority (of both sets, when joint) said yes */
};

/* What voter `id` has acknowledged (a match index, a read round). */
typedef uint64_t (*quorum_index_fn)(const void *ctx, uint32_t id);
/* Whether voter `id` counts (granted a vote, was recently active...). */
typedef bool (*quorum_pred_fn)(const void *ctx, uint32_t id);

/* Smallest majority of n voters. */
static inline size_t quorum_majority_size(size_t n) { return n / 2 + 1; }

bool quorum_majority_has(const quorum_majority *m, uint32_t id);

/* The largest index acknowledged by a majority of m: the
 * quorum_majority_size(n)-th largest of the values. An empty set imposes no
 * limit (UINT64_MAX), so that in a non-joint configuration the outgoing half
 * drops out of the minimum. */
uint64_t quorum_majority_committed(const quorum_majority *m, quorum_index_fn acked,
				   const void *ctx);

/* For a configuration: the smaller of the two halves' committed indexes. */
uint64_t quorum_committed(const quorum_config *c, quorum_index_fn acked, const void *ctx);

/* True if the ids for which yes() holds include a majority of every voter
 * set of c (an empty set is trivially satisfied). Learners never count. */
bool quorum_reached(const quorum_config *c, quorum_pred_fn yes, const void *ctx);

/*
 * The outcome of a vote. granted() and rejected() tell which voters answered
 * which way (a voter may appear in both if it answered twice, e.g. a
 * duplicated request answered again after its lease ran out: each answer
 * counts on its own side). WON is checked first: once a majority of every set
 * granted, the vote is won whatever else arrived. Otherwise it is LOST as
 * soon as a majority of some set rejected, and PENDING until then (a
 * candidate that can no longer win but has not been rejected by a majority,
 * possible with an even number of voters, waits for its election timeout).
 */
enum quorum_vote_result quorum_vote(const quorum_config *c, quorum_pred_fn granted,
				    quorum_pred_fn rejected, const void *ctx);

/* Membership questions. */
bool quorum_config_is_voter(const quorum_config *c, uint32_t id);
bool quorum_config_is_learner(const quorum_config *c, uint32_t id);
bool quorum_config_is_joint(const quorum_config *c);

/* Builds a configuration and checks it: 1..RAFT_MAX_NODES voters, distinct
 * ids, none RAFT_NONE, a learner is in no voter set, and the union of all
 * members (voters, outgoing, learners) has at most RAFT_MAX_NODES ids.
 * outgoing/learners may be NULL with n 0. Returns RAFT_OK or RAFT_EINVAL. */
int quorum_config_init(quorum_config *c, const uint32_t *voters, size_t n_voters,
		       const uint32_t *outgoing, size_t n_outgoing,
		       const uint32_t *learners, size_t n_learners);

/* Every member once, in order: voters, then outgoing voters not in voters,
 * then learners. Returns the count (<= RAFT_MAX_NODES). */
size_t quorum_config_members(const quorum_config *c, uint32_t out[RAFT_MAX_NODES]);

#endif
