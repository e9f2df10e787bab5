/*
 * rt.h — the runtime: one driver of the Raft core for the node and the
 * simulator (see rt_io.h for the host interface).
 *
 *   host events ──► rt_step_frame / rt_tick / rt_propose / rt_read / rt_write_done
 *                        │
 *   rt_process (the ready step, after each batch of events):
 *     1. hard state + entries → the next WAL batch (group commit)
 *     2. messages encoded; those that vouch for durable state held behind
 *        that write (raft_msg_waits_for_disk), the rest sent at once
 *     3. committed entries applied through kv_machine (with its dedup);
 *        the proposer's waiting request ends
 *     4. read states: batches served once applied >= index
 *     5. raft_advance; then a WAL write starts if none is in flight
 *
 * Files: rt.c (life cycle, requests), rt_ready.c, rt_wal.c, rt_apply.c,
 * rt_reads.c, rt_peer.c, rt_pending.c, rt_clock.c, rt_xfer.c (InstallSnapshot).
 */
#ifndef RAFTKV_RT_H
#define RAFTKV_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../faults/faults.h"
#include "../snapshot/snapshot.h"
#include "../snapshot/snapshot_policy.h"
#include "rt_io.h"

typedef struct rt_options {
	uint64_t nonce;              /* this boot's identity inside commands */
	uint32_t request_timeout_ms; /* deadline of every waiting request */
	size_t max_uncommitted_bytes;/* command bytes proposed and unanswered; past it
	                              * a proposal is refused (0 = no limit) */
	faults *faults;              /* the fault filter (host-owned); NULL = none */
	int planted_bug;             /* runtime bugs (rt_planted.h); honoured only
	                              * in a build with -DRAFT_PLANTED_BUGS */
	bool probe_incarnation;      /* the data dir was empty: start silent and
	                              * decide the incarnation (rt_incarnation.h);
	                              * needs io->keep_incarnation */
	const char *snap_dir;        /* <data-dir>/snapshots (host-owned): the files a
	                              * leader streams, where a follower receives;
	                              * NULL = no InstallSnapshot (rt_xfer.c) */
	size_t snap_chunk;           /* bytes per CHUNK frame (0 = SNAP_XFER_CHUNK) */
	size_t snap_window;          /* chunks unacknowledged (0 = SNAP_XFER_WINDOW) */
	size_t snap_ahead;           /* receiving: acks at most this far beyond the bytes
	                                written (0 = SNAP_RECV_AHEAD) */
	uint64_t fresh_incarnation;  /* the value a new life takes when the probe
	                              * finds the cluster exists; 0 = a random one
	                              * (inc_fresh). The simulator seeds it. */
	snapshot_policy snap;        /* when to snapshot and how much log to keep
	                              * behind it (all zero: only on request) */
} rt_options;

typedef struct rt_stats {
	uint64_t proposals, proposals_refused, reads_linearizable, timeouts;
	uint64_t reforwarded;  /* forwarded commands proposed again to a new leader */
	uint64_t msgs_sent, msgs_received, msgs_dropped_fault, msgs_dropped_queue;
	uint64_t msgs_delayed, msgs_duplicated, bad_frames;
	uint64_t applied_entries, wal_writes, wal_entries;
	uint64_t snapshots_written, snapshots_failed;
	uint64_t snapshot_bytes, snapshot_write_ms; /* of the newest one */
	uint64_t snapshot_wait_ms; /* newest requested one: request to start */
	uint64_t snapshot_compact_refused; /* raft_compact said no (a bug if ever > 0) */
	uint64_t snapshot_installs, snapshot_install_ms; /* received snapshots (transfer) */
	uint64_t snapshot_chunks_sent, snapshot_chunks_received;
	/* InstallSnapshot (rt_xfer.c): transfers opened, ended done and given up
	 * (or could not open: no snapshot file), rewinds to the acked offset;
	 * streams received whole, refused (damaged) */
	uint64_t snap_sends_started, snap_sends_done, snap_sends_failed, snap_rewinds;
	uint64_t snap_received, snap_refused;
} rt_stats;

/* Creates the core (raft_new with rc) and the state machine. NULL on a bad
 * configuration or ENOMEM. io is copied. */
rt *rt_new(const raft_config *rc, const rt_options *o, const rt_io *io);
/* Loads recovered durable state into the core. RAFT_OK or the core's error. */
int rt_load(rt *r, const wal_recovered *rec);
void rt_free(rt *r);

/* Ends every waiting request (RT_UNKNOWN if proposed, else RT_NOT_PROPOSED,
 * why STOPPING) and stops sending. */
void rt_stop(rt *r);
/* Pause: nothing is stepped, ticked, applied or released until resumed. */
void rt_set_paused(rt *r, bool paused);

/* The ready step (see above). Call after every batch of events. */
void rt_process(rt *r);
bool rt_has_work(rt *r);

/* Proposes c (origin, nonce and request id are filled in here). The request
 * ends through io->outcome, possibly before this returns (refused).
 * ack_on_append (the unsafe ack_before_commit switch) ends a leader's write
 * or txn as applied (why RT_WHY_EARLY_ACK) as soon as it is in the leader's
 * own log. */
void rt_propose(rt *r, kv_command *c, uint8_t kind, const char *key, size_t klen,
		void *ctx, uint64_t stamp, bool ack_on_append);
/* Whether admission control would take a command of len bytes now (the
 * same rules as rt_propose's, nothing changed): the HTTP layer asks it at a
 * request's headers, so a body that would be refused is never buffered. */
bool rt_admits(rt *r, size_t len);
/* Boot nonces of a new life. A node whose data dir was lost (or that joins
 * with an empty one) has a restarted boot counter, so its nonce may repeat
 * one an earlier life of its id used, and applying that life's command would
 * answer a new request with it. So a node with an incarnation other than 0
 * and a nonce below RT_NONCE_GENERATION proposes nothing until its
 * configuration lists it and it has applied that far; then it raises its
 * boot counter (io->raise_nonce) to the next multiple of RT_NONCE_GENERATION
 * above every nonce its dedup record holds for its id, which no earlier life
 * reached. Requests meanwhile end "not proposed" (RT_WHY_CATCHING_UP). The
 * rule survives restarts: the counter stays below the mark until raised. */
#define RT_NONCE_GENERATION ((uint64_t)1 << 32)

/* A membership change (single-server: raft_propose_conf), the one way in
 * for POST /admin/members and the simulator's membership faults. RAFT_OK
 * with the entry's index in *index (the change is made once that entry, with
 * the term it was proposed in, is applied: io->on_applied), or the core's
 * refusal (RAFT_ENOLEADER, RAFT_EPENDING, RAFT_ECONF, RAFT_EINVAL): nothing
 * was appended. */
int rt_propose_conf(rt *r, const raft_conf_change *cc, uint64_t *index);
/* A linearizable read of key (ReadIndex, batched). Ends through io->outcome. */
void rt_read(rt *r, const char *key, size_t klen, void *ctx, uint64_t stamp);
/* Ends requests whose deadline (io->now_ms) passed. Not while paused. */
void rt_expire(rt *r);

/* One tick of the core's logical clock. */
void rt_tick(rt *r);
/* Ticks due on a node clock reading (ms), taken at real time real_ms: the
 * ticker's arithmetic. A clock going back re-anchors without ticks; a jump
 * forward delivers at most one election timeout of ticks (one jump); the
 * ticks a stall of real time owes are dropped (see rt_clock.c). */
void rt_clock(rt *r, uint64_t clock_ms, uint64_t real_ms, uint32_t tick_ms);
void rt_clock_anchor(rt *r, uint64_t clock_ms, uint64_t real_ms);

/* A complete frame from peer `from` (the transport cut it, nothing more):
 * filtered, decoded and stepped here. 0, or -1 when the frame does not
 * decode or claims another sender (the transport closes that connection). */
int rt_step_frame(rt *r, uint32_t from, const uint8_t *frame, size_t len);
/* The WAL write handed to io->write finished: rc 0 or -1 with err. */
void rt_write_done(rt *r, int rc, const char *err);
/* The host is done with a batch io->write gave it (in place of
 * wal_batch_free): the runtime fills it again for a later write, which
 * spares an allocation of the batch and its buffer per write. */
void rt_wal_recycle(rt *r, wal_batch *b);
bool rt_write_in_flight(const rt *r);
/* A deferred frame (io->defer) is due. The runtime owns d: a host that
 * will never fire it (shutdown, crash) just forgets it; rt_free frees it. */
void rt_deferred_due(rt *r, rt_deferred *d);

raft *rt_raft(rt *r);
const kv_machine *rt_kv(const rt *r);
uint64_t rt_applied(const rt *r);
size_t rt_pending_count(const rt *r);
const rt_stats *rt_get_stats(const rt *r);
uint64_t rt_nonce(const rt *r);
/* Still deciding its incarnation (silent: no ticks, nothing stepped). */
bool rt_probing(const rt *r);

/* ---- snapshots (rt_snapshot.c) ---- */

/* Boot: loads the newest valid snapshot in snap_dir that the log (rec, from
 * wal_open on w) continues, trims rec to the entries after it, and makes it
 * this runtime's state machine and configuration. A snapshot ahead of the
 * WAL's end (its last entries were lost: a disk whose fsync lied) resets the
 * WAL to it (wal_reset), so the log goes on right after it. Call after rt_new, before
 * rt_load. A damaged newer file is passed over (res->skipped, skipped_why)
 * only when the log covers the gap. 0, or -1 with one line in err naming
 * the file. */
int rt_snapshot_boot(rt *r, const char *snap_dir, wal *w, wal_recovered *rec,
		     snapshot_loaded *res, char *err, size_t errlen);
/* Asks for a snapshot of what is applied now. Returns the number of the
 * snapshot to wait for (io->on_snapshot with that seq), 0 when the newest
 * durable snapshot already holds everything applied (*index = its index),
 * or UINT64_MAX when this host takes no snapshots. */
uint64_t rt_snapshot_request(rt *r, uint64_t *index);
/* The host's answers to io->snapshot_write and io->compact. */
void rt_snapshot_written(rt *r, int rc, uint64_t bytes, const char *err);
void rt_snapshot_compacted(rt *r);
/* The host ran the receiver's disk step it was handed (rt_io.recv_io). */
void rt_xfer_io_done(rt *r);
/* The newest durable snapshot's index (0 = none). */
uint64_t rt_snapshot_index(const rt *r);
/* A snapshot received from the leader was installed (its file durable in
 * the snapshot dir, the state machine swapped): what this node snapshots
 * next, and the configuration it records, follow from it. */
void rt_snapshot_installed(rt *r, const kv_snap_meta *meta);

#endif
