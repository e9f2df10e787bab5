/*
 * tracker.h — the configuration in force and what the leader knows of each
 * member, keyed by node id (see tracker.c).
 */
#ifndef RAFTKV_RAFT_TRACKER_H
#define RAFTKV_RAFT_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "progress.h"
#include "quorum.h"

typedef struct tracker {
	quorum_config conf;
	/* One entry per member (voters, outgoing voters, learners), in the
	 * order of quorum_config_members; this node's own entry included. */
	progress prs[RAFT_MAX_NODES];
	uint8_t votes[RAFT_MAX_NODES]; /* TRACKER_VOTE_* bits, parallel to prs */
	size_t n;
	size_t max_inflight;
} tracker;

void tracker_init(tracker *t, size_t max_inflight);
void tracker_free(tracker *t);

/* Installs configuration c: keeps the progress of every id that stays a
 * member, starts new members probing at `next`, frees the progress of those
 * that left, and forgets the votes of the current election. Returns RAFT_OK,
 * or RAFT_ENOMEM with the tracker unchanged. */
int tracker_set_config(tracker *t, const quorum_config *c, uint64_t next);

/* The progress of member id; NULL when id is not a member. */
progress *tracker_progress(tracker *t, uint32_t id);
bool tracker_is_member(const tracker *t, uint32_t id);
bool tracker_is_voter(const tracker *t, uint32_t id);

/* ---- votes of the current election (pre-vote or vote) */
void tracker_reset_votes(tracker *t);
void tracker_record_vote(tracker *t, uint32_t id, bool granted);
enum quorum_vote_result tracker_vote_result(const tracker *t);

/* ---- quorum questions, with this node (self) standing in for itself */

/* The highest index a quorum holds: self counts with self_match (its durable
 * index), the others with their acknowledged match. */
uint64_t tracker_committed(const tracker *t, uint32_t self, uint64_t self_match);
/* The highest ReadIndex round a quorum acknowledged; self with self_round. */
uint64_t tracker_read_acked(const tracker *t, uint32_t self, uint64_t self_round);
/* Check-quorum: self and the members heard from since the last round form a
 * quorum. */
bool tracker_quorum_active(const tracker *t, uint32_t self);
void tracker_clear_recent_active(tracker *t);
/* Lease: self and the members whose last answer is younger than `window`
 * ticks at `now` form a quorum. */
bool tracker_quorum_fresh(const tracker *t, uint32_t self, uint64_t now, uint64_t window);
/* This node alone is a quorum (a one-voter cluster): nothing to wait for. */
bool tracker_self_is_quorum(const tracker *t, uint32_t self);

#endif
