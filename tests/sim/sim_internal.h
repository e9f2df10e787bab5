/* sim_internal.h — the simulator's world: nodes, clients, invariant records. */
#ifndef RAFTKV_SIM_INTERNAL_H
#define RAFTKV_SIM_INTERNAL_H

#include "../../faults/faults.h"
#include "../../node/runtime/rt.h"
#include "queue.h"
#include "sim.h"

#define SIM_OP_TIMEOUT_MS 1500u /* a node's request deadline */

/* A client's one outstanding operation. */
typedef struct sim_op {
	bool active;
	uint64_t seq;    /* per-process sequence number, carried in the entry */
	check_fn f;
	int key;
	char val[32];    /* write value / cas expected ("" + has_val=false = absent) */
	bool has_val;
	char val2[32];   /* cas new value */
	uint32_t node;   /* where it was sent */
	uint64_t epoch;  /* that node's incarnation when sent */
} sim_op;

typedef struct sim_client {
	int64_t process; /* history process id; a fresh one after an info */
	uint64_t seq;
	sim_op op;
	char last_seen[SIM_KEYS][32]; /* a plausible cas expectation per key */
	bool seen_valid[SIM_KEYS];
} sim_client;

/* A configuration as a CONF entry in a node's log states it. */
typedef struct sim_conf {
	uint64_t index;
	size_t n;
	uint32_t id[RAFT_MAX_NODES];
	bool voter[RAFT_MAX_NODES];
	uint64_t inc[RAFT_MAX_NODES];
} sim_conf;

typedef struct sim_node {
	struct sim *s;
	uint32_t id;
	bool up;
	uint64_t epoch;
	rt *rt;                 /* the node's runtime: the same one the real node runs */
	wal *w;
	faults *f;              /* the node's fault filter: partitions go through it */
	char dir[512];
	double rate;            /* clock rate: ticks per simulated 10 ms */
	uint64_t clock_ms;      /* its node clock (what faults_clock_ms gives the node) */
	uint64_t jump_ms;       /* a clock jump to apply at its next tick */
	uint64_t timer_ms;      /* real time as its tick timer sees it: one tick per
				 * EV_TICK, no jumps (a simulated loop never stalls) */
	bool paused;            /* the pause fault holds it: it must do nothing */
	bool write_sync;        /* the write in flight must be fsynced (rd.must_sync) */
	/* disk {"fsync":false}: this incarnation's fsyncs do nothing, so a crash
	 * loses what it acknowledged. It then comes back amnesiac: the network
	 * drops its votes and vote requests (what the contract asks of a node
	 * that lost its disk) until its commit index covers everything it may
	 * have acknowledged and its term is past every term it may have voted
	 * in, with nothing unsynced. */
	bool fsync_lies;
	bool amnesiac;
	uint64_t amnesia_commit, amnesia_term;
	/* what this node's log holds: term and content hash per index (1-based) */
	uint64_t *log_term, *log_hash;
	uint64_t log_len, log_cap;
	uint64_t commit_max;    /* commit index never goes back (per incarnation) */
	uint64_t applied;       /* last index applied (order check) */
	uint8_t role;
	uint64_t fsync_us;      /* this disk's write + fsync latency */
	uint64_t wall_offset_us;/* its wall clock: virtual time + this (steps back at restarts) */
	/* commands applied by this incarnation (hashes, open addressing): dedup
	 * must never skip the first copy of a command */
	uint64_t *cmds;         /* pairs: command hash, index first applied at */
	size_t cmds_n, cmds_cap;
	uint64_t skipped_seen;  /* kv_machine's skipped count at the last apply */
	uint32_t voters[SIM_MAX_NODES]; /* the member list it is started with */
	size_t n_voters;
	/* membership (sim_members.c) */
	bool spare;             /* not in the bootstrap configuration: joins as --join does */
	bool wiped;             /* its disk was lost and it is not a full replica again yet */
	uint64_t incarnation;   /* which life of this id it is (DIR/INCARNATION) */
	sim_conf *confs;        /* the CONF entries of its log, in index order */
	size_t n_confs, cap_confs;
	/* snapshots (sim_io.c): files in snapdir; a write is made in stagedir
	 * and renamed into snapdir when its EV_SNAP_DONE comes (a crash before
	 * leaves a torn temporary file instead) */
	char snapdir[600], stagedir[600];
	bool snap_writing;
	uint64_t snap_w_index, snap_w_term, snap_w_bytes;
	uint64_t damaged_index; /* a snapshot file the simulator damaged (0 = none) */
	bool snap_only_one;     /* the WAL was reset to the newest snapshot */
	uint64_t only_one_index; /* ...that snapshot's index: only a newer one lifts it */
	uint64_t req_seq, req_applied; /* a snapshot request waiting (0 = none) and
	                                * what was applied when it was made */
	uint64_t boot_snap_index; /* the snapshot this incarnation started from */
	bool cmds_partial;      /* cmds lacks what an installed snapshot brought */
} sim_node;

typedef struct sim {
	sim_params p;
	sim_outcome *out;
	sim_rng rng;
	sim_queue q;
	uint64_t now;           /* simulated microseconds */
	uint64_t steps;
	bool faults_on;         /* false in the final calm phase */
	bool failed;
	int n;                  /* nodes, spares included */
	int n_boot;             /* the bootstrap voters: nodes 0 .. n_boot-1 */
	uint32_t voters[SIM_MAX_NODES];
	sim_node nodes[SIM_MAX_NODES];
	double loss, dup;
	uint64_t delay_min, delay_max;
	uint64_t calm_delay_max;   /* the normal network the calm phase returns to */
	size_t max_inflight, max_msg_entries;
	bool pre_vote;
	/* this seed's fault profile (FoundationDB-style "buggify"): chosen by the
	 * seed, it makes rare but legal schedules common */
	bool buggify;
	double leader_crash_p;   /* a new leader crashes before it finishes replicating */
	double win_isolate_p;    /* a new leader is cut off right after it wins */
	double commit_isolate_p; /* a leader is cut off right after its commit moves */
	double slow_msg_p;       /* a message takes a long detour (heavy reordering) */
	uint64_t slow_msg_max;
	double quick_restart_p;  /* a crashed node is back within 10 ms */
	uint64_t think_max;      /* client pause between operations */
	double vote_crash_p;     /* a node crashes right after granting a vote */
	double overwrite_crash_p;/* a node crashes while writing over part of its log */
	double wrong_members_p;  /* a restart is tried with a wrong member list */
	double clock_back_p;     /* a restart finds its wall clock stepped back */
	bool pauses, jumps;      /* pause and clock-jump faults in this seed */
	bool record_values;      /* half the values embed a valid WAL record */
	bool members;            /* membership changes (and spare nodes) in this seed */
	bool wipes;              /* wipes in this seed */
	double wipe_on_commit_p; /* buggify: a follower holding a just-committed entry is
	                          * wiped and the leader crashes (issue 10 item 1) */
	/* lying disks: a separate stream, so seeds without them replay as before */
	sim_rng disk_rng;
	double fsync_lies_p;     /* a (re)started node's fsync lies; one node at a time */
	int lying;               /* the node whose fsync lies or that is amnesiac, -1 none */
	uint64_t max_term;       /* highest term any node has reached */
	/* snapshots: this seed's policy (all zero: none), small WAL segments so
	 * compaction drops some, damage to snapshot files at crashes */
	sim_rng snap_rng;        /* their own stream: seeds without them replay as before */
	snapshot_policy snap;
	size_t segment_bytes;
	double snap_damage_p;
	/* the state digest of every snapshot written, by index: any node's
	 * state at that index, and any restart from it, must match */
	uint64_t *snap_digest;
	uint64_t snap_digest_cap;
	/* InstallSnapshot (sim_xfer.c): chunk size and window, and damage to
	 * chunks on the way (a valid frame with one byte changed) */
	sim_rng xfer_rng;
	size_t xfer_chunk, xfer_window;
	size_t xfer_ahead; /* a receiver's acks run 1-3 chunks ahead of its disk */
	double chunk_flip_p;
	/* invariant records */
	uint32_t *leader_of_term;
	uint64_t terms_cap;
	uint64_t *applied_term, *applied_hash;
	uint64_t applied_cap, applied_max;
	/* clients and their history */
	check_history *h;
	sim_client clients[SIM_MAX_CLIENTS];
	int n_clients;
	int64_t next_process;
	uint64_t value_counter;
} sim;

/* sim_node.c: a node is the runtime over sim_io.c's I/O */
/* Checks the member list, opens the WAL, loads the core. 1 when the start
 * was refused (a member list other than the one the dir was made with). */
int sim_node_start(sim *s, sim_node *nd);
void sim_node_crash(sim *s, sim_node *nd);      /* drop memory, tear the tail */
int sim_node_process_ready(sim *s, sim_node *nd);
void sim_node_fsync(sim *s, sim_node *nd);       /* the write in flight is durable */
void sim_node_free(sim_node *nd);
void sim_node_maybe_lie(sim *s, sim_node *nd);    /* at a new leader: fault "fsync off" */
bool sim_node_vote_dropped(const sim *s, uint32_t from, const uint8_t *frame, size_t len);
void sim_node_check_amnesia(sim *s, sim_node *nd, const raft_status *st);

/* sim_xfer.c: InstallSnapshot */
void sim_xfer_params(sim *s);
void sim_xfer_on_ready(sim *s, sim_node *nd, const raft_ready *rd); /* before its entries */
void sim_xfer_on_install(sim *s, sim_node *nd, const kv_snap_meta *meta);
void sim_xfer_applied(sim *s, sim_node *nd, uint64_t index);
uint8_t *sim_xfer_flip(sim *s, uint8_t *frame, size_t *len);
int sim_mirror_reserve(sim_node *nd, uint64_t n);
/* sim_disk.c: the page cache (fsyncs seen through --wrap); a power cut cuts
 * each WAL segment in dir back to its last fsynced size */
void sim_disk_reset(void);
int sim_disk_power_loss(sim *s, const char *dir);

/* sim_members.c */
int sim_conf_mirror(sim_node *nd, const raft_entry *ents, size_t n);
void sim_check_conf(sim *s, sim_node *nd, const raft_status *st);
void sim_check_wiped(sim *s, sim_node *nd, const raft_status *st);
bool sim_may_lead(sim *s, const sim_node *nd, const raft_status *st);
void sim_node_wipe(sim *s, sim_node *nd);
bool sim_wipe_allowed(sim *s);
void sim_trace_nodes(sim *s);
bool sim_member_change(sim *s, bool want_add);
int sim_keep_incarnation(sim_node *nd, uint64_t inc);

/* sim_io.c: the runtime's I/O table on the event queue and virtual clock */
void sim_io_init(sim_node *nd, rt_io *io);

/* sim_run.c */
void sim_fail(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_trace(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_send(sim *s, uint32_t from, uint32_t to, uint8_t *frame, size_t len);
void sim_push(sim *s, sim_event e);
void sim_applied(sim *s, sim_node *nd, const raft_entry *e);
void sim_outcome_of(sim *s, sim_node *nd, const rt_outcome *o);
void sim_on_ready(sim *s, sim_node *nd, const raft_ready *rd);
void sim_check_leader(sim *s, sim_node *nd);
int sim_mirror_write(sim_node *nd, const raft_entry *ents, size_t n);
int sim_cmds_rebuild(sim_node *nd, size_t cap, uint64_t keep_upto);
int sim_grow_u64(uint64_t **a, uint64_t *cap, uint64_t need, uint64_t fill);

/* sim_snap.c: snapshots of a simulated node */
uint64_t sim_kv_digest(const kv_machine *m);
void sim_snap_record(sim *s, sim_node *nd, uint64_t index, uint64_t digest, const char *when);
void sim_snap_done(sim *s, sim_node *nd);
void sim_snap_crash(sim *s, sim_node *nd);
void sim_snap_request(sim *s, sim_node *nd);
void sim_snap_answered(sim *s, sim_node *nd, uint64_t seq, bool ok, uint64_t index);
int sim_snap_boot(sim *s, sim_node *nd, wal_recovered *rec);

#endif
