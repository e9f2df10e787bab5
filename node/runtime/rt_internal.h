/* rt_internal.h — the runtime's state, shared by its files (see rt.h). */
#ifndef RAFTKV_RT_INTERNAL_H
#define RAFTKV_RT_INTERNAL_H

#include "rt.h"
#include "rt_incarnation.h"
#include "rt_pending.h"
#include "rt_planted.h"
#include "../snapshot/snapshot_xfer.h"

/* One encoded peer message waiting for the disk write it depends on. */
typedef struct held_frame {
	uint32_t to;
	uint8_t *data;
	size_t len;
} held_frame;

/* The durable work of one ready, in order: its frames may leave only after
 * the WAL write carrying this (and every earlier) unit is durable. */
typedef struct wal_unit {
	struct wal_unit *next;
	bool has_entries;
	uint64_t last_index, last_term; /* for raft_persisted */
	held_frame *frames;
	size_t n_frames;
} wal_unit;

typedef struct rt_wal {
	wal_batch *next_batch;          /* accumulating: not yet handed to a write */
	size_t next_entries;
	raft_hard_state queued_hs;      /* the last hard state queued (or loaded) */
	wal_unit *queued, *queued_tail; /* units whose records are in next_batch */
	bool next_must_sync;            /* next_batch holds a must-sync ready */
	bool job_must_sync;             /* the write in flight does: it fsyncs */
	bool busy;                      /* a write is in flight */
	wal_unit *job_units;            /* released when it is durable */
	bool done_while_paused;         /* finished during a pause: release on resume */
	wal_batch *spare;               /* a written batch given back (rt_wal_recycle) */
} rt_wal;

/* A batch of linearizable reads sharing one ReadIndex request. */
typedef struct read_batch {
	struct read_batch *next;
	uint64_t ctx;
	uint64_t index;       /* once the read state arrived */
	uint64_t created_ms;  /* real ms, for garbage collection */
	uint64_t *ids;        /* pending ids of the reads */
	size_t n, cap;
} read_batch;

typedef struct read_queue {
	read_batch *open;               /* collecting reads of this turn */
	read_batch *asked, *asked_tail; /* sent to raft_read_index, no answer yet */
	read_batch *waiting;            /* answered; waiting for applied >= index, by index */
	uint64_t next_ctx;
} read_queue;

/* A frame held by a delay fault until io->defer fires. */
struct rt_deferred {
	struct rt_deferred *prev, *next;
	bool inbound;
	uint32_t peer;
	uint8_t *frame;
	size_t len;
};

enum { RT_SNAP_IDLE = 0, RT_SNAP_WRITING, RT_SNAP_COMPACTING };

/* Snapshot state (rt_snapshot.c). */
typedef struct rt_snap {
	uint64_t index, term;   /* the newest durable snapshot */
	uint64_t prev_index;    /* the one before it: the WAL keeps the log after it */
	uint64_t bytes_since;   /* entry bytes applied since index */
	uint64_t durable;       /* last entry index durable in this node's WAL */
	uint8_t *conf;          /* the CONF entry data in force at the applied index */
	uint32_t conf_len;
	uint32_t boot_voters[KV_SNAP_MAX_VOTERS]; /* without any CONF entry */
	uint32_t n_boot_voters;
	int state;              /* RT_SNAP_* */
	uint64_t w_index, w_term, w_bytes_since, w_started_ms; /* the one being written */
	uint64_t started_seq;   /* snapshots started so far */
	uint64_t wanted_seq;    /* a request waits for this one */
	uint64_t wanted_ms;     /* when the oldest waiting request came */
	uint64_t retry_at_ms;   /* after a failed write: no automatic one before */
} rt_snap;
/* InstallSnapshot (rt_xfer.c): a transfer to one follower. */
typedef struct xfer_out {
	uint32_t to;
	uint64_t term;         /* the leader term it was opened in */
	uint64_t index;        /* the snapshot file's index */
	snap_send *s;
	uint32_t quiet_ticks;  /* ticks since the last ACK that moved it */
	uint32_t retries;      /* silent election timeouts in a row */
} xfer_out;

typedef struct rt_xfer {
	xfer_out out[RAFT_MAX_NODES];
	size_t n_out;
	uint32_t fail[RAFT_MAX_NODES]; /* failures owed to the core after the ready */
	size_t n_fail;
	snap_recv *in;         /* receiving (created on the first chunk) */
	bool in_io;            /* its disk step is begun (on the host's worker) */
	bool in_io_done_paused; /* ... and ended while the node was paused */
	uint64_t in_first_ms;  /* first chunk since the last install (0 = none) */
	bool held;             /* a received machine the core is installing */
	kv_machine held_kv;
	kv_snap_meta held_meta;
} rt_xfer;

struct rt {
	raft *raft;
	uint32_t id;
	uint32_t election_ticks;
	rt_io io;
	rt_options o;
	kv_machine kv;
	pending_table pending;
	read_queue reads;
	rt_wal wal;
	rt_deferred *deferred;
	rt_stats st;
	uint64_t applied;
	uint64_t applied_term;
	rt_snap snap;
	uint64_t next_cmd_id;  /* ids of commands this boot proposes (dedup key) */
	uint64_t next_read_id; /* ids of reads waiting here (never in the log) */
	uint64_t clock_last;   /* node clock ms of the last whole tick */
	uint64_t real_last;    /* real ms at the last rt_clock (stall detection) */
	bool paused, stopping, failed;
	bool probing;          /* deciding the incarnation (rt_incarnation.h) */
	bool nonce_from_log;   /* a new life without its nonce yet (RT_NONCE_GENERATION) */
	uint32_t last_leader;  /* the leader at the end of the last ready step */
	inc_probe probe;
	rt_xfer xfer;
	uint8_t *enc;          /* rt_propose encodes commands here (the core copies them) */
	size_t enc_cap;
};

/* rt.c */
void rt_fail(rt *r, const char *what);
void rt_end(rt *r, pending *p, uint8_t end, uint8_t why, uint64_t index,
	    const kv_command *c, const kv_result *res);

/* After each ready step: forwarded commands still waiting follow a new leader. */
void rt_reforward(rt *r);

/* rt_wal.c */
int rt_wal_init(rt_wal *w);
void rt_wal_destroy(rt_wal *w);
void rt_wal_add(rt *r, const raft_ready *rd, held_frame *frames, size_t n_frames);
void rt_wal_kick(rt *r);
void rt_wal_resume(rt *r);

/* rt_apply.c */
void rt_apply(rt *r, const raft_entry *ents, size_t n);

/* rt_snapshot.c */
void rt_snap_init(rt *r, const raft_config *rc);
void rt_snap_destroy(rt *r);
void rt_snap_on_conf(rt *r, const raft_entry *e);
void rt_snapshot_maybe(rt *r);

/* rt_reads.c */
void reads_init(read_queue *q);
void reads_destroy(read_queue *q);
int reads_add(rt *r, pending *p);
void reads_flush(rt *r);
void reads_on_state(rt *r, const raft_read_state *rs);
void reads_on_applied(rt *r);
void reads_gc(rt *r, uint64_t now_ms);

/* rt.c: the probe decided; apply it */
void rt_incarnation_decided(rt *r);
/* rt.c: one tick: the core's, or a probe round while probing */
void rt_tick_once(rt *r);

/* rt_xfer.c */
void xfer_init(rt *r);
void xfer_destroy(rt *r);
void xfer_request(rt *r, const raft_msg *m);
void xfer_after_ready(rt *r);
void xfer_tick(rt *r);
void xfer_resume(rt *r); /* the node resumed: an answer held while paused */
bool xfer_is_frame(const uint8_t *frame, size_t len);
int xfer_frame(rt *r, uint32_t from, const uint8_t *frame, size_t len);
int xfer_install(rt *r, const raft_ready *rd);

/* rt_peer.c */
void peer_send(rt *r, uint32_t to, uint8_t *frame, size_t len);
void peer_free_deferred(rt *r);

#endif
