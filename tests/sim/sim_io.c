/*
 * sim_io.c — the runtime's I/O table (node/runtime/rt_io.h) for a simulated
 * node: the libuv node's counterpart on the simulator's event queue and
 * virtual clock. A WAL write goes to the real WAL at once and becomes durable
 * after this disk's latency (an EV_FSYNC); frames go to the simulated
 * network; a delay fault's frame waits for an EV_DEFER. Nothing here reads
 * the wall clock or any other randomness, so a seed replays.
 */
#include <stdlib.h>
#include <string.h>

#include "../../node/snapshot/snapshot_xfer.h"
#include "../../node/wal/wal_compact.h"

#include "sim_internal.h"

#include "../../node/runtime/rt_boot.h"

static void io_write(void *ud, wal_batch *b, size_t n_entries, bool sync)
{
	(void)n_entries;
	sim_node *nd = ud;
	sim *s = nd->s;
	char err[256];
	/* Written now, fsynced when EV_FSYNC comes: a crash in between keeps
	 * only what an earlier fsync made durable. A write that needs no fsync
	 * (commit-only hard states) is done almost at once. */
	int rc = wal_write(nd->w, b, false, err, sizeof err);
	rt_wal_recycle(nd->rt, b);
	if (rc != 0) {
		sim_fail(s, "node %u: WAL write failed: %s", nd->id, err);
		return;
	}
	nd->write_sync = sync;
	sim_push(s, (sim_event){ .at = s->now + (sync ? nd->fsync_us : 10), .kind = EV_FSYNC, .node = nd->id,
				 .arg = nd->epoch });
}

static void io_send(void *ud, uint32_t to, uint8_t *frame, size_t len)
{
	sim_node *nd = ud;
	if (nd->paused)
		sim_fail(nd->s, "node %u sent a frame while paused (a paused node must do nothing)", nd->id);
	if (sim_node_vote_dropped(nd->s, nd->id, frame, len)) {
		free(frame);
		return;
	}
	sim_send(nd->s, nd->id, to, frame, len);
}

static int io_defer(void *ud, uint32_t ms, rt_deferred *d)
{
	sim_node *nd = ud;
	sim *s = nd->s;
	sim_push(s, (sim_event){ .at = s->now + (uint64_t)ms * 1000, .kind = EV_DEFER, .node = nd->id,
				 .arg = nd->epoch, .ptr = d });
	return s->failed ? -1 : 0;
}

static uint64_t io_now_ms(void *ud)
{
	sim_node *nd = ud;
	return nd->s->now / 1000;
}

static void io_outcome(void *ud, const rt_outcome *o)
{
	sim_node *nd = ud;
	sim_outcome_of(nd->s, nd, o);
}

static void io_kick(void *ud)
{
	(void)ud; /* the simulator runs the ready step after every event anyway */
}

static void io_fatal(void *ud, const char *what)
{
	sim_node *nd = ud;
	sim_fail(nd->s, "node %u: %s", nd->id, what);
}

static void io_on_ready(void *ud, const raft_ready *rd)
{
	sim_node *nd = ud;
	if (nd->paused)
		sim_fail(nd->s, "node %u's core was driven while paused", nd->id);
	sim_on_ready(nd->s, nd, rd);
}

static void io_on_applied(void *ud, const raft_entry *e)
{
	sim_node *nd = ud;
	sim_applied(nd->s, nd, e);
}

static int io_keep_incarnation(void *ud, uint64_t inc)
{
	return sim_keep_incarnation(ud, inc);
}

static int io_raise_nonce(void *ud, uint64_t at_least, uint64_t *nonce)
{
	sim_node *nd = ud;
	char err[256];
	if (rt_boot_raise(nd->dir, at_least, nonce, err, sizeof err) != 0) {
		sim_fail(nd->s, "node %u: %s", nd->id, err);
		return -1;
	}
	sim_trace(nd->s, "node %u: boot nonce %llu, taken above the log's", nd->id, (unsigned long long)*nonce);
	return 0;
}

/* The write goes to the staging dir now; it is durable (renamed into the
 * snapshot dir) when its EV_SNAP_DONE comes (sim_snap.c). */
static int io_snapshot_write(void *ud, const kv_machine *m, const kv_snap_meta *meta)
{
	sim_node *nd = ud;
	sim *s = nd->s;
	sim_snap_record(s, nd, meta->index, sim_kv_digest(m), "when it wrote a snapshot");
	char err[300];
	uint64_t bytes = 0;
	if (snapshot_save(nd->stagedir, m, meta, &bytes, err, sizeof err) != 0) {
		sim_fail(s, "node %u: snapshot write failed: %s", nd->id, err);
		return -1;
	}
	nd->snap_writing = true;
	nd->snap_w_index = meta->index;
	nd->snap_w_term = meta->term;
	nd->snap_w_bytes = bytes;
	sim_trace(s, "node %u: writing a snapshot at %llu", nd->id, (unsigned long long)meta->index);
	sim_push(s, (sim_event){ .at = s->now + 1000 + sim_below(&s->snap_rng, 60000), .kind = EV_SNAP_DONE,
				 .node = nd->id, .arg = nd->epoch });
	return 0;
}

static void io_compact(void *ud, uint64_t wal_upto, uint64_t snap_index)
{
	sim_node *nd = ud;
	sim *s = nd->s;
	char err[300];
	wal_compact_result res;
	memset(&res, 0, sizeof res);
	if (wal_upto > 0 && wal_compact(nd->w, wal_upto, &res, err, sizeof err) != 0)
		sim_fail(s, "node %u: WAL compaction failed: %s", nd->id, err);
	else if (snapshot_prune(nd->snapdir, SNAPSHOT_KEEP, err, sizeof err) != 0)
		sim_fail(s, "node %u: snapshot prune failed: %s", nd->id, err);
	sim_trace(s, "node %u: compacted behind snapshot %llu: WAL up to %llu (%zu segments dropped)", nd->id,
		  (unsigned long long)snap_index, (unsigned long long)wal_upto, res.segments_dropped);
	sim_push(s, (sim_event){ .at = s->now + 10, .kind = EV_SNAP_COMPACTED, .node = nd->id, .arg = nd->epoch });
}

/* A received snapshot's disk step runs at its EV_RECV_IO, as on the node's
 * worker: later than the chunks that queued it (a crash in between loses
 * it, the temporary file torn), the final one after this disk's fsync
 * latency. No random draw: the seeds' other choices stay as they were. */
static int io_recv_io(void *ud, struct snap_recv *in)
{
	sim_node *nd = ud;
	sim *s = nd->s;
	sim_push(s, (sim_event){ .at = s->now + (snap_recv_io_final(in) ? nd->fsync_us : 20),
				 .kind = EV_RECV_IO, .node = nd->id, .arg = nd->epoch, .ptr = in });
	return 0;
}

static void io_on_install(void *ud, const kv_snap_meta *meta)
{
	sim_node *nd = ud;
	sim_xfer_on_install(nd->s, nd, meta);
}

static void io_on_snapshot(void *ud, uint64_t seq, bool ok, uint64_t index, const char *err)
{
	(void)err;
	sim_node *nd = ud;
	sim_snap_answered(nd->s, nd, seq, ok, index);
}

void sim_io_init(sim_node *nd, rt_io *io)
{
	*io = (rt_io){
		.ud = nd,
		.write = io_write,
		.send = io_send,
		.defer = io_defer,
		.now_ms = io_now_ms,
		.outcome = io_outcome,
		.kick = io_kick,
		.fatal = io_fatal,
		.on_ready = io_on_ready,
		.on_applied = io_on_applied,
		.on_install = io_on_install,
		.recv_io = io_recv_io,
		.keep_incarnation = io_keep_incarnation,
		.raise_nonce = io_raise_nonce,
	};
	if (nd->s->snap.every_entries > 0 || nd->s->snap.every_bytes > 0) {
		io->snapshot_write = io_snapshot_write;
		io->compact = io_compact;
		io->on_snapshot = io_on_snapshot;
	}
}
