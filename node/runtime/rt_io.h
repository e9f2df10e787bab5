/*
 * rt_io.h — what the runtime needs from its host, and what it tells it.
 *
 * The runtime (node/runtime) drives the Raft core: the ready step, the order
 * of WAL writes against the messages that vouch for them, apply through
 * node/kv, ReadIndex serving, peer frames and the outcome of every waiting
 * request. It does no I/O itself. A host gives it this table:
 *
 *   - the libuv node (node/server/server_io.c): WAL writes on a worker
 *     thread, frames to the TCP transport, uv timers, uv_now;
 *   - the simulator (tests/sim/sim_io.c): the same calls on its event queue
 *     and virtual clock, so a seed replays.
 *
 * Everything is called on one thread. Model: cowsql raft's raft_io, with a
 * libuv and a fixture implementation (learned from, not copied).
 */
#ifndef RAFTKV_RT_IO_H
#define RAFTKV_RT_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kv/kv_machine.h"
#include "../kv/kv_snapshot.h"
#include "../raft/raft.h"
#include "../wal/wal.h"

struct snap_recv;

typedef struct rt rt;
typedef struct rt_deferred rt_deferred;

/* How a waiting request ended. There are exactly three answers a client can
 * be given, and which one is decided here, in the runtime, once:
 *   RT_NOT_PROPOSED  it definitely had no effect and never will (refused
 *                    before the log, or a read that could not be confirmed);
 *   RT_APPLIED       it took effect (or a read was served) with this result;
 *   RT_UNKNOWN       it was proposed and its fate is not known: it may still
 *                    commit, so no definite failure may be reported. */
enum rt_end { RT_NOT_PROPOSED = 0, RT_APPLIED = 1, RT_UNKNOWN = 2 };

/* Why, for the message the client reads (the status follows from rt_end). */
enum rt_why {
	RT_WHY_NONE = 0,
	RT_WHY_NO_LEADER,   /* no leader known / read index refused */
	RT_WHY_BUSY,        /* the core's proposal queue is full */
	RT_WHY_OVERLOADED,  /* too many command bytes waiting to commit (admission control) */
	RT_WHY_REFUSED,     /* the core refused the command */
	RT_WHY_NOMEM,       /* out of memory before proposing, or building the answer */
	RT_WHY_TIMEOUT,     /* the deadline passed */
	RT_WHY_STOPPING,    /* the node is stopping */
	RT_WHY_DUPLICATE,   /* skipped by de-duplication: another copy may have applied */
	RT_WHY_EARLY_ACK,   /* RT_APPLIED by the unsafe ack_before_commit switch: only
	                     * in the leader's own log, nothing applied yet */
	RT_WHY_CATCHING_UP, /* the node started empty and has not caught up yet, so
	                     * it has no boot nonce of its own (RT_NONCE_GENERATION) */
	RT_WHY_REMOVED,     /* the node's configuration in force removed it */
};

/* Kinds of waiting request. */
enum rt_kind {
	RT_KIND_WRITE = 0,    /* put, delete, cas, append: answered on apply */
	RT_KIND_TXN = 1,
	RT_KIND_LOG_READ = 2, /* a read through the log */
	RT_KIND_READ = 3,     /* linearizable read: ReadIndex, then served once applied */
};

typedef struct rt_outcome {
	void *ctx;          /* what the host passed with the request */
	uint64_t stamp;     /* ditto (e.g. arrival time for a latency histogram) */
	uint8_t end;        /* enum rt_end */
	uint8_t why;        /* enum rt_why */
	uint8_t kind;       /* enum rt_kind */
	const char *key;    /* the request's key (NUL-terminated copy) */
	size_t klen;
	uint64_t index;     /* RT_APPLIED: the entry's index (0 for a ReadIndex read) */
	const kv_command *cmd; /* RT_APPLIED commands: the command applied */
	const kv_result *res;  /* RT_APPLIED: the result; reads: res->value.
	                        * Valid only during the call. */
} rt_outcome;

typedef struct rt_io {
	void *ud;
	/* Writes b to the WAL; b is the host's now (to free, or to give
	 * back with rt_wal_recycle once written). With sync it must be
	 * durable (fsynced) before it is reported done; without, it carries
	 * only commit-only hard states (the must-sync rule, raft.h step 2) and
	 * needs no fsync. At most one write is in flight: the host calls
	 * rt_write_done(rt, rc, err) when it finished (on the runtime's thread,
	 * never from inside write). */
	void (*write)(void *ud, wal_batch *b, size_t n_entries, bool sync);
	/* Sends one encoded frame (wire_encode) to a peer; the frame is the
	 * host's now (free()). Delivery is best effort. */
	void (*send)(void *ud, uint32_t to, uint8_t *frame, size_t len);
	/* Calls rt_deferred_due(rt, d) after ms of real time. 0, or -1 when it
	 * cannot (the frame is then dropped). */
	int (*defer)(void *ud, uint32_t ms, rt_deferred *d);
	/* The real monotonic clock in ms: request deadlines, fault expiry. */
	uint64_t (*now_ms)(void *ud);
	/* A waiting request ended (see rt_outcome). */
	void (*outcome)(void *ud, const rt_outcome *o);
	/* The runtime has work: call rt_process once the current event is done. */
	void (*kick)(void *ud);
	/* Continuing would be unsafe (a failed fsync) or impossible (no memory
	 * in the state machine). The node exits; the simulator records a failure.
	 * The runtime does nothing more after it. */
	void (*fatal)(void *ud, const char *what);
	/* Optional observers (NULL = none): each ready before it is handled, and
	 * each committed entry just after it was applied. */
	void (*on_ready)(void *ud, const raft_ready *rd);
	void (*on_applied)(void *ud, const raft_entry *e);
	/* With rt_options.probe_incarnation: the incarnation was decided; make
	 * it durable before this node speaks. 0, or -1 (the runtime fails). */
	int (*keep_incarnation)(void *ud, uint64_t incarnation);
	/* For a new life (RT_NONCE_GENERATION in rt.h; needed with
	 * probe_incarnation or an incarnation other than 0): raise the durable
	 * boot counter to at least at_least and return the new value in *nonce
	 * (rt_boot_raise). 0, or -1 (the runtime fails). */
	int (*raise_nonce)(void *ud, uint64_t at_least, uint64_t *nonce);

	/* Snapshots (rt_snapshot.c; NULL = this host takes none). */
	/* Writes m as of meta durably (node/snapshot/snapshot.h: temporary
	 * file, fsync, rename, directory fsync) while the node goes on: the
	 * node forks a writer whose copy-on-write image is m as of this call;
	 * the simulator writes at once and reports later. m is valid only
	 * during the call. The host calls rt_snapshot_written(rt, rc, bytes,
	 * err) once it is durable or failed (never from inside this call). 0,
	 * or -1 when it could not start (err logged by the host; retried on a
	 * later apply). */
	int (*snapshot_write)(void *ud, const kv_machine *m, const kv_snap_meta *meta);
	/* A snapshot at snap_index is durable: drop the WAL segments wholly at
	 * or before wal_upto (wal_compact, excluded from WAL writes), then the
	 * snapshot files but the newest two (snapshot_prune). The host calls
	 * rt_snapshot_compacted(rt) when done (never from inside this call);
	 * failures are logged there, not fatal (the next compaction retries). */
	void (*compact)(void *ud, uint64_t wal_upto, uint64_t snap_index);
	/* Observer (NULL = none): snapshot number seq (rt_snapshot_request)
	 * ended: ok with the index it holds, or failed with err. */
	void (*on_snapshot)(void *ud, uint64_t seq, bool ok, uint64_t index, const char *err);
	/* Optional (NULL: run on the runtime's thread): a received snapshot's
	 * disk step (node/snapshot/snapshot_xfer.h: the chunks' bytes written,
	 * and at the end fsync, rename, directory fsync). The host calls
	 * snap_recv_io_run(in) off the runtime's thread (a worker), then
	 * rt_xfer_io_done(rt) on it, never from inside this call; in must not
	 * be freed meanwhile (rt_free waits for nothing). 0, or -1 when it
	 * cannot (the runtime runs the step itself). */
	int (*recv_io)(void *ud, struct snap_recv *in);
	/* Optional observer: a received snapshot replaced the state machine
	 * (rt_kv is now it, at meta->index); its WAL reset is queued. */
	void (*on_install)(void *ud, const kv_snap_meta *meta);
} rt_io;

#endif
