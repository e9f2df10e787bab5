/*
 * core.h — the internal state of a raft node and the functions the core's
 * files share. Nothing here is visible to callers of raft.h.
 *
 * Naming: functions are prefixed by the file that defines them
 * (election_*, repl_*, readidx_*, proposal_*, transfer_*, outbox_*,
 * progress_*, quorum_*, tracker_*).
 */
#ifndef RAFTKV_RAFT_CORE_H
#define RAFTKV_RAFT_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"
#include "membership.h"
#include "planted_bugs.h"
#include "raft.h"
#include "ring.h"
#include "tracker.h"

/* ctx of a VOTE sent because of TIMEOUT_NOW: voters then ignore their leader
 * lease, since the current leader itself asked for the election. */
#define RAFT_CTX_TRANSFER 1u
/* A message whose term is further ahead than this is refused (step.c). */
#define RAFT_MAX_TERM_JUMP (UINT64_C(1) << 32)

/* ------------------------------------------------------------------- reads */

typedef struct leader_read {
	uint64_t ctx;
	uint64_t index; /* commit index recorded for it */
	uint64_t seq;   /* heartbeat round that confirms it; 0 = waiting for a commit in this term */
	uint32_t from;  /* requesting node (this node's id for a local read) */
} leader_read;

typedef struct follower_read {
	uint64_t ctx;
	uint64_t batch;     /* READ_INDEX message it went out in; 0 = not sent yet */
	uint64_t sent_tick; /* r->now when that batch was sent */
} follower_read;

/* Extra bookkeeping kept beside every queued message. */
typedef struct outbox_meta {
	uint64_t ent_from;     /* APPEND: index of its first entry (entries resolved at get_ready) */
	uint64_t ent_last_term;/* APPEND: term of its last entry, to detect a truncated log */
	raft_entry *owned;     /* PROPOSE: entries (and their data) owned by the message */
} outbox_meta;

/* One outstanding persistence batch handed out in a ready. */
typedef struct persist_batch {
	uint64_t last_index; /* last entry of the batch, as passed back by raft_persisted */
	uint64_t last_term;
	uint64_t durable;    /* prefix that matches the in-memory log once it is durable */
} persist_batch;

/* -------------------------------------------------------------------- node */

struct raft {
	raft_config cfg;
	tracker trk;  /* configuration, progress by node id, election votes */
	uint64_t prng;

	/* hard state (Figure 2: currentTerm, votedFor) and commitIndex */
	uint64_t term;
	uint32_t vote;
	bool vote_unrecorded; /* planted bug 3 */
	uint64_t commit;

	uint8_t role;
	uint32_t leader;

	raft_log log;
	uint64_t applied;     /* last index handed out in ready.committed */
	uint64_t unsent_from; /* first index not yet handed out in ready.entries */
	uint64_t persisted;   /* durable prefix of the log on this node */
	ring persist_q;       /* of persist_batch, handed out, not yet persisted */

	/* timers (in ticks) */
	uint64_t now;
	int election_elapsed;  /* followers: since the leader was last heard; leader: check-quorum round */
	int heartbeat_elapsed;
	int randomized_timeout;

	/* leader state */
	bool bcast_pending;      /* new entries or commit to send at the next ready */
	uint32_t transfer_to;    /* leader transfer target, RAFT_NONE when none */
	int transfer_elapsed;

	/* ReadIndex */
	ring lreads;             /* of leader_read, in seq order */
	uint64_t read_seq;       /* last heartbeat round started */
	bool read_round_wanted;  /* reads wait for the next round */
	ring freads;             /* of follower_read, in batch order */
	size_t freads_unsent;    /* trailing entries of freads with batch 0 */
	uint64_t fread_batch;    /* last batch number sent */

	/* proposals waiting to be forwarded to the leader */
	raft_entry *fwd;
	size_t n_fwd, cap_fwd;

	/* the ready under construction */
	raft_msg *msgs;
	outbox_meta *msg_meta;
	size_t n_msgs, cap_msgs;
	raft_read_state *reads;
	size_t n_reads, cap_reads;
	raft_hard_state prev_hs;  /* last hard state handed out */
	uint8_t prev_role;
	uint32_t prev_leader;
	bool in_ready;
	uint64_t rd_last_index;   /* last entry handed out by the current ready */
	uint64_t rd_applied;      /* last committed entry handed out by the current ready */
	uint64_t enomem_drops;    /* messages dropped for lack of memory (counted, like network loss) */

	/* membership (membership.c) */
	member_conf base_conf;    /* bootstrap voters, or the snapshot point's configuration */
	member_conf conf;         /* in force: the last CONF entry in the log, else base_conf */
	uint64_t conf_index;      /* that entry (0 = base_conf) */
	uint64_t conf_scanned;    /* log scanned for CONF entries up to here */
	bool conf_rescan;         /* the entry in force was truncated away */
	bool conf_linger;         /* tracker still holds the subject of an uncommitted REMOVE */
	uint64_t conf_gen;        /* counts installs of a configuration (raft_status.conf_gen) */
	uint32_t stranger;        /* leader: a member heard speaking with another incarnation */
	uint64_t stranger_incarnation;
	member_conf conf_scratch, conf_next; /* work space, kept off the stack */

	/* follower: a snapshot to install, handed out in the next ready */
	bool install_pending;
	uint64_t install_index, install_term;
};

/* raft.c */
uint64_t raft_rand(raft *r);
raft_hard_state raft_hard_state_now(const raft *r);
bool raft_committed_in_term(const raft *r);

/* outbox.c: queued messages (dropped, like a lossy network, on ENOMEM) */
raft_msg *outbox_push(raft *r, uint8_t type, uint32_t to);
int outbox_push_read(raft *r, uint64_t ctx, uint64_t index);
void outbox_resolve(raft *r);
void outbox_clear(raft *r);

/* election.c */
void election_reset_timeout(raft *r);
void election_become_follower(raft *r, uint64_t term, uint32_t leader);
void election_become_leader(raft *r);
void election_campaign(raft *r, bool transfer);
void election_recv_vote_req(raft *r, const raft_msg *m);
void election_recv_vote_resp(raft *r, const raft_msg *m, bool force_grant);
void election_set_leader(raft *r, uint32_t leader);
bool election_in_lease(const raft *r);

/* replication.c */
bool repl_send_append(raft *r, progress *p, bool allow_empty);
void repl_send_all(raft *r, progress *p);
void repl_flush(raft *r);
void repl_bcast_heartbeat(raft *r, uint64_t ctx);
int repl_recv_append(raft *r, const raft_msg *m);
void repl_recv_append_resp(raft *r, const raft_msg *m);
void repl_recv_heartbeat(raft *r, const raft_msg *m);
void repl_recv_heartbeat_resp(raft *r, const raft_msg *m);
bool repl_maybe_commit(raft *r);
void repl_on_truncate(raft *r, uint64_t index);

/* read_index.c */
int readidx_leader_add(raft *r, uint32_t from, uint64_t ctx);
void readidx_on_commit(raft *r);
void readidx_on_ack(raft *r);
void readidx_leader_lost(raft *r);
void readidx_on_leader_change(raft *r);
void readidx_recv_req(raft *r, const raft_msg *m);
void readidx_recv_resp(raft *r, const raft_msg *m);
void readidx_flush(raft *r);
void readidx_tick(raft *r);
void readidx_free(raft *r);
void readidx_init_batch(raft *r);

/* proposal.c */
int proposal_append(raft *r, uint8_t type, const void *data, uint32_t len);
void proposal_recv(raft *r, const raft_msg *m);
void proposal_flush(raft *r);
void proposal_free_fwd(raft *r);

/* membership.c */
int membership_init(raft *r);
void membership_on_truncate(raft *r, uint64_t index);
void membership_sync(raft *r);
void membership_reload(raft *r);
bool membership_self_voter(const raft *r);
bool membership_may_campaign(raft *r);
bool membership_may_vote_for(const raft *r, uint32_t candidate);
bool membership_pending(const raft *r);
bool membership_accept_msg(raft *r, const raft_msg *m);
bool membership_leader_removed(const raft *r);
void membership_leader_tick(raft *r);
uint8_t membership_self_state(const raft *r);
/* snapshot.c */
void snapshot_send(raft *r, progress *p);
bool snapshot_on_append_resp(raft *r, progress *p, const raft_msg *m);
void snapshot_recv(raft *r, const raft_msg *m);

/* transfer.c */
void transfer_recv_timeout_now(raft *r, const raft_msg *m);
void transfer_on_progress(raft *r, progress *p);
void transfer_tick(raft *r);

#endif
