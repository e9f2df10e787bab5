/*
 * raft.h — the pure Raft core of raftkv.
 *
 * The core is a deterministic state machine. It owns no sockets, clocks, files
 * or threads: the caller feeds it ticks, peer messages, proposals and read
 * requests, and collects a "ready" batch of work to do (entries and hard state
 * to persist, messages to send, committed entries to apply, read confirmations).
 * The same code runs inside the libuv node (node/server) and inside the
 * deterministic simulator (tests/sim), which is why nothing in here may read
 * time, randomness or the environment: randomness comes from a seeded PRNG in
 * the config.
 *
 * The caller's contract (the order is what makes it safe):
 *
 *   1. raft_get_ready(r, &rd) when raft_has_ready(r).
 *   2. Persist rd.hs (if rd.hs_changed) and rd.entries. Writing entries means:
 *      remove every stored entry with index >= rd.entries[0].index, then append.
 *      The write needs an fsync only when rd.must_sync (the must-sync rule:
 *      a new term, a new vote or new entries). A commit-only change of the
 *      hard state may be written without one: losing it costs nothing, the
 *      leader tells a restarted node the commit index again.
 *   3. Send rd.msgs. Those for which raft_msg_waits_for_disk(type) is true
 *      (votes and entry acknowledgements: they vouch for this node's disk)
 *      may be sent only once every must-sync batch up to and including this
 *      one is durable (nothing to wait for when none is pending: they go at
 *      once); the caller may encode them now and hold them until then. The
 *      others may go at once: heartbeat answers vouch for nothing on disk,
 *      and a leader's appends race its own fsync safely because it counts
 *      itself toward a commit only after raft_persisted (Raft thesis
 *      §10.2.1).
 *   4. Apply rd.committed in order (they are committed by a quorum, so they
 *      may be applied before this node's own fsync of the same batch returns).
 *   5. Deliver rd.reads: a read with context ctx may be served once the local
 *      applied index is >= index.
 *   6. raft_advance(r, &rd). Everything rd points to is valid until here, and
 *      no other raft_* mutator may be called between get_ready and advance.
 *   7. When the write of step 2 is durable, call raft_persisted(r, index, term)
 *      with the last entry of that batch (any later time, batches in order).
 *      Only then does a leader count itself toward the commit quorum.
 *
 * Memory: incoming messages and proposal data are copied; the caller keeps
 * ownership of what it passes in.
 */
#ifndef RAFTKV_RAFT_H
#define RAFTKV_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAFT_NONE 0xffffffffu /* "no node": no vote, no known leader */
#define RAFT_MAX_NODES 16
#define RAFT_ADDR_MAX 200 /* bytes of a member's address string in a CONF entry */

/* Return codes. 0 is success; errors are negative. */
enum {
	RAFT_OK = 0,
	RAFT_ENOLEADER = -1, /* no leader known: the request was NOT proposed */
	RAFT_ENOMEM = -2,
	RAFT_EINVAL = -3,
	RAFT_EBUSY = -4,     /* too many proposals queued: NOT proposed */
	RAFT_ECONF = -5,     /* membership change invalid for the configuration in force
	                        (unknown id, already a member, last voter...): NOT proposed */
	RAFT_EPENDING = -6,  /* another membership change is not committed yet, or this
	                        leader has not committed an entry of its term: NOT proposed */
};

enum raft_role {
	RAFT_FOLLOWER = 0,
	RAFT_PRECANDIDATE = 1,
	RAFT_CANDIDATE = 2,
	RAFT_LEADER = 3,
};

enum raft_entry_type {
	RAFT_ENTRY_NORMAL = 0, /* client command, opaque to the core */
	RAFT_ENTRY_NOOP = 1,   /* appended by every new leader at the start of its term */
	RAFT_ENTRY_CONF = 2,   /* a membership change: the whole configuration after it
	                          (node/raft/membership.h); in force once appended */
};

typedef struct raft_entry {
	uint64_t term;
	uint64_t index;
	uint8_t type;  /* enum raft_entry_type */
	uint32_t len;
	uint8_t *data; /* len bytes; NULL when len == 0 */
} raft_entry;

enum raft_msg_type {
	RAFT_MSG_PREVOTE = 1,        /* index/log_term = candidate's last log; term = term it would use */
	RAFT_MSG_PREVOTE_RESP = 2,   /* reject = not granted */
	RAFT_MSG_VOTE = 3,
	RAFT_MSG_VOTE_RESP = 4,
	RAFT_MSG_APPEND = 5,         /* index/log_term = previous entry; entries; commit */
	RAFT_MSG_APPEND_RESP = 6,    /* !reject: index = last matching index.
	                                reject: index = the rejected prev index,
	                                hint_index/hint_term = conflict hint */
	RAFT_MSG_HEARTBEAT = 7,      /* commit (capped at follower's match); ctx */
	RAFT_MSG_HEARTBEAT_RESP = 8, /* ctx echoed */
	RAFT_MSG_PROPOSE = 9,        /* follower -> leader: forwarded proposals in entries (term/index 0) */
	RAFT_MSG_READ_INDEX = 10,    /* follower -> leader: ctx = follower's read context */
	RAFT_MSG_READ_INDEX_RESP = 11, /* leader -> follower: ctx echoed, index = read index (0 = refused) */
	RAFT_MSG_TIMEOUT_NOW = 12,   /* leader transfer: campaign now, skipping pre-vote */
	RAFT_MSG_SNAPSHOT = 13,      /* leader's core -> its runtime: stream a snapshot at index >= index
	                                (log_term = its term) to `to`; follower's runtime -> its core:
	                                a complete, checked snapshot at (index, log_term) has arrived.
	                                See snapshot.c. Never encoded as a frame itself. */
};

typedef struct raft_msg {
	uint8_t type; /* enum raft_msg_type */
	uint32_t from;
	uint32_t to;
	uint64_t term;
	uint64_t log_term;
	uint64_t index;
	uint64_t commit;
	uint64_t ctx;
	bool reject;
	uint64_t hint_index;
	uint64_t hint_term;
	size_t n_entries;
	raft_entry *entries;
	uint64_t incarnation; /* the sender's raft_config.incarnation (set by the core) */
} raft_msg;

typedef struct raft_hard_state {
	uint64_t term;
	uint32_t vote; /* RAFT_NONE when none */
	uint64_t commit;
} raft_hard_state;

typedef struct raft_read_state {
	uint64_t ctx;   /* what the caller passed to raft_read_index */
	uint64_t index; /* serve once applied >= index; 0 = refused (no leader / lost leadership) */
} raft_read_state;

typedef struct raft_config {
	uint32_t id;                 /* this node */
	const uint32_t *voters;      /* all voting members, including id */
	size_t n_voters;             /* 1..RAFT_MAX_NODES */
	int election_ticks;          /* base election timeout; randomized in [T, 2T) */
	int heartbeat_ticks;         /* leader heartbeat interval, < election_ticks */
	bool pre_vote;               /* run a pre-vote round before bumping the term */
	bool check_quorum;           /* leader steps down without a quorum heard within election_ticks */
	size_t max_inflight;         /* AppendEntries in flight per follower (pipelining bound) */
	size_t max_msg_entries;      /* max entries per AppendEntries (batching bound) */
	size_t max_msg_bytes;        /* max entry payload bytes per AppendEntries */
	size_t max_pending_proposals;/* proposals not yet appended (0 = unlimited) */
	uint64_t seed;               /* seeds the election timeout PRNG; no other randomness.
	                                Should differ on every start of a node (the node: a
	                                random source; the simulator: seed + restart count):
	                                it also keeps ReadIndex batch ids of a restarted node
	                                apart from those of its previous incarnation. */
	uint64_t incarnation;        /* which life of node `id` this is: 0 for a member of the
	                                bootstrap configuration, a fresh value for a node that
	                                starts with an empty disk to join or rejoin a cluster
	                                that already exists. Voting rights belong to (id,
	                                incarnation): see "Membership" in README.md. */
	bool joining;                /* this node need not be a voter of `voters` (it may be
	                                empty): it waits to be added through the log */
	uint64_t promote_distance;   /* the leader promotes an auto-promote learner once its
	                                match is within this many entries of the last index */
	int planted_bug;             /* 0 = none. Honoured only when the core is compiled with
	                                -DRAFT_PLANTED_BUGS (simulator self-tests); see
	                                node/raft/planted_bugs.h for the list. */
} raft_config;

/* Fills c with sane defaults (does not set id/voters/seed). */
void raft_config_defaults(raft_config *c);

typedef struct raft_ready {
	bool hs_changed;
	raft_hard_state hs;
	bool must_sync;            /* the write of step 2 needs an fsync before the
	                              messages that wait for disk: term or vote
	                              changed, or entries to persist */

	const raft_entry *entries; /* to persist (see contract above) */
	size_t n_entries;

	const raft_msg *msgs;      /* to send once the above is durable */
	size_t n_msgs;

	const raft_entry *committed; /* to apply, in index order */
	size_t n_committed;

	const raft_read_state *reads;
	size_t n_reads;

	/* Install the snapshot received at (install_index, install_term): swap
	 * the state machine for it and reset the log storage to that point
	 * (WAL: wal_reset) before persisting anything of this ready. */
	bool install;
	uint64_t install_index;
	uint64_t install_term;

	bool soft_changed;          /* role or leader changed */
	uint8_t role;               /* enum raft_role */
	uint32_t leader;            /* RAFT_NONE when unknown */
} raft_ready;

typedef struct raft_peer_status {
	uint32_t id;
	bool voter;            /* false: a learner */
	uint64_t incarnation;
	uint64_t match;
	uint64_t next;
	bool recent_active;
	bool sending_snapshot; /* progress state SNAPSHOT (snapshot.c) */
} raft_peer_status;

typedef struct raft_status {
	uint32_t id;
	uint8_t role;
	uint64_t term;
	uint32_t vote;
	uint32_t leader;
	uint64_t commit;
	uint64_t applied;      /* highest index handed out in ready.committed */
	uint64_t first_index;  /* first entry still in the log */
	uint64_t last_index;
	uint64_t last_term;
	size_t n_peers;
	raft_peer_status peers[RAFT_MAX_NODES]; /* every member (voters and learners);
	                                           match/next filled on the leader */
	uint8_t membership;    /* enum raft_membership: this node in its configuration */
	uint64_t conf_index;   /* CONF entry in force (0 = the bootstrap configuration) */
	bool conf_pending;     /* conf_index > commit: a change is in flight */
	uint64_t conf_gen;     /* changes whenever a configuration is installed: the members,
	                          their addresses or the tracked peers may then differ (the
	                          same values otherwise; compare, never interpret) */
} raft_status;

enum raft_membership {
	RAFT_MEMBER_VOTER = 0,
	RAFT_MEMBER_LEARNER = 1,
	RAFT_MEMBER_NONE = 2,  /* removed, not yet added, or another incarnation of this id */
};

typedef struct raft raft;

/* Creates a node with an empty log at term 0. NULL on bad config or ENOMEM. */
raft *raft_new(const raft_config *c);
void raft_free(raft *r);

/*
 * Restores durable state after a restart, before any other call.
 * entries are contiguous, starting at index snap_index + 1 (snap_index = 0 and
 * snap_term = 0 for a log that was never compacted). hs.commit is clamped to
 * the last index. Entries are copied. Returns RAFT_OK or RAFT_EINVAL.
 * The state machine lives in memory, so after a load the applied index is
 * snap_index: the entries snap_index+1 .. hs.commit are handed out again in
 * ready.committed for the caller to replay.
 */
int raft_load(raft *r, const raft_hard_state *hs, uint64_t snap_index,
	      uint64_t snap_term, const raft_entry *entries, size_t n);

/* Advances logical time by one tick (election and heartbeat timers). */
void raft_tick(raft *r);

/* Feeds one message received from a peer. Returns RAFT_OK or RAFT_EINVAL for a
 * malformed message (which is ignored). */
int raft_step(raft *r, const raft_msg *m);

/*
 * Proposes a client command. On the leader it is appended (index returned in
 * *index_out). On a follower that knows a leader it is forwarded to the leader
 * in a RAFT_MSG_PROPOSE (*index_out = 0; the outcome is unknown until the entry
 * is seen committed). RAFT_ENOLEADER / RAFT_EBUSY mean definitely not proposed.
 */
int raft_propose(raft *r, const void *data, size_t len, uint64_t *index_out);

/*
 * Asks for a linearizable read point (ReadIndex). The answer appears in
 * ready.reads with the same ctx: on the leader after a heartbeat round
 * confirms leadership (and once an entry of its term is committed), on a
 * follower after the leader answers. RAFT_ENOLEADER if no leader is known.
 */
int raft_read_index(raft *r, uint64_t ctx);

/* True while this node is leader and heard from a quorum within the last
 * election timeout (by its ticks). Used only by the unsafe lease_reads switch. */
bool raft_lease_valid(const raft *r);

/* The leader this node knows of (itself when leader), or RAFT_NONE. */
uint32_t raft_leader(const raft *r);

/*
 * Membership change (single-server, see "Membership" in README.md). Only
 * the leader proposes, one change at a time, after an entry of its own term
 * is committed. ADD_LEARNER adds `id` (incarnation, addr, auto_promote) as a
 * learner; PROMOTE makes a learner a voter; REMOVE takes a member out
 * (next_incarnation != 0: "replaced by that incarnation", which the leader
 * then adds and promotes by itself). The change is in force on each node as
 * soon as the entry is in its log; it is done once the entry is committed
 * (*index_out tells which entry). Returns RAFT_OK, RAFT_ENOLEADER,
 * RAFT_EPENDING, RAFT_ECONF or RAFT_EINVAL (malformed: addr too long...).
 */
enum raft_conf_op { RAFT_CONF_ADD_LEARNER = 1, RAFT_CONF_PROMOTE = 2, RAFT_CONF_REMOVE = 3 };

typedef struct raft_conf_change {
	uint8_t op;             /* enum raft_conf_op */
	uint32_t id;
	uint64_t incarnation;   /* ADD_LEARNER */
	bool auto_promote;      /* ADD_LEARNER */
	uint64_t next_incarnation; /* REMOVE */
	const char *addr;       /* ADD_LEARNER: opaque to the core (NULL = ""), <= RAFT_ADDR_MAX */
} raft_conf_change;

int raft_propose_conf(raft *r, const raft_conf_change *cc, uint64_t *index_out);

/*
 * The configuration as of the snapshot point (the data of the last CONF
 * entry at or before it), for a node restarted from a snapshot or one that
 * compacts its log: call before raft_load. Returns RAFT_OK or RAFT_EINVAL.
 */
int raft_set_snapshot_conf(raft *r, const void *data, size_t len);

/* True when the configuration in force is this node's own removal (it
 * is out, and neither votes nor campaigns): what a removed node's status
 * says. False while it is a member, before it was ever added, and when the
 * removal makes room for this very incarnation (a wiped node's new life). */
bool raft_removed(const raft *r);

/* Member `i` (0 .. n-1) of the configuration in force, for status pages and
 * the caller's address book: false when i is out of range. addr points into
 * the core and is valid until the next mutator call. */
bool raft_member(const raft *r, size_t i, uint32_t *id, bool *voter, uint64_t *incarnation,
		 const char **addr);

/* Leader transfer: asks the leader to hand over to `to`. */
int raft_transfer(raft *r, uint32_t to);

/* Sets this node's incarnation (raft_config.incarnation) while it has never
 * spoken: term 0 and an empty log (a node deciding, after start, whether an
 * empty disk makes it a new cluster's member or a new life of a member; see
 * node/runtime/rt_incarnation.h). RAFT_OK or RAFT_EINVAL. */
int raft_set_incarnation(raft *r, uint64_t incarnation);
uint64_t raft_get_incarnation(const raft *r);

/* Makes a follower campaign at once (tests, bootstrap of a 1-node cluster). */
void raft_campaign(raft *r);

bool raft_has_ready(const raft *r);
void raft_get_ready(raft *r, raft_ready *rd);
void raft_advance(raft *r, const raft_ready *rd);

/* Entries up to (index, term) are durable on this node's disk. */
void raft_persisted(raft *r, uint64_t index, uint64_t term);

/* Snapshots (snapshot.c). raft_compact: a durable snapshot covers the log up
 * to index (<= applied, already handed out in a ready): those entries may
 * leave memory; a follower that needs them gets a snapshot instead.
 * RAFT_OK (also when already compacted that far) or RAFT_EINVAL. */
int raft_compact(raft *r, uint64_t index);
/* Where to compact so that the entries kept up to `upto` hold at most
 * max_bytes of data: the highest index i such that the stored entries
 * (i, upto] exceed nothing of that (0 when every stored entry up to upto
 * fits). The runtime bounds its trailing margin by bytes with it: 10000
 * entries of 1 MiB kept behind every snapshot is 10 GB of memory. */
uint64_t raft_compact_keeping_bytes(const raft *r, uint64_t upto, uint64_t max_bytes);
/* Bytes of entry data the log holds in memory (kept as entries come and go). */
uint64_t raft_log_bytes(const raft *r);
/* The leader's runtime finished streaming a snapshot to `to` (ok) or gave up
 * (!ok: the follower is probed again, and sent a snapshot again if needed). */
void raft_report_snapshot(raft *r, uint32_t to, bool ok);

void raft_get_status(const raft *r, raft_status *st);
/* The same without the peers (n_peers 0): what a host reads after every
 * ready step, where the peers matter only when conf_gen changed. */
void raft_get_status_brief(const raft *r, raft_status *st);

/* True for the message types that state something about this node's disk
 * (VOTE, VOTE_RESP, APPEND_RESP): they wait for every pending must-sync
 * write (rd.must_sync), see steps 2 and 3 above. HEARTBEAT_RESP does not. */
bool raft_msg_waits_for_disk(uint8_t type);

/* Names for logs and metrics. */
const char *raft_role_name(uint8_t role);
const char *raft_msg_type_name(uint8_t type);

#endif
