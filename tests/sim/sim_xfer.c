/*
 * sim_xfer.c — snapshots in the simulator: nodes snapshot their state
 * machine at random points and compact their log behind it, so a node that
 * was down or cut off falls behind the leader's first index and is sent a
 * snapshot (InstallSnapshot: node/runtime/rt_xfer.c) in small chunks over
 * the lossy, reordering, duplicating network; some chunks arrive with one
 * byte changed inside a valid frame (the stream's own checksum must refuse
 * them). A restart starts from the newest snapshot plus the log after it.
 *
 * The invariant: a state machine digest is recorded for every snapshot
 * index when it is written; every node that applies that index, and every
 * node that installs a snapshot of it, must have exactly that state (KV map
 * and dedup windows): after an install the follower's state machine equals
 * the leader's at that index.
 */
#include "sim_internal.h"

#include "../../node/snapshot/snapshot.h"
#include "../../node/wal/wal_compact.h"
#include "../../node/net/wire_snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_xfer_params(sim *s)
{
	s->xfer_rng.s = s->p.seed * 0xD1B54A32D192ED03ull + 11;
	sim_rng *g = &s->xfer_rng;
	static const uint64_t every[] = { 8, 16, 30, 60, 1000000 };
	s->snap_every = every[sim_below(g, 5)];
	s->snap_trailing = sim_below(g, 3) == 0 ? 0 : sim_below(g, 12);
	static const size_t chunk[] = { 256, 1024, 4096, 16384 };
	s->xfer_chunk = chunk[sim_below(g, 4)];
	s->xfer_window = 1 + sim_below(g, 4);
	s->chunk_flip_p = sim_below(g, 3) == 0 ? 0.01 * (double)(1 + sim_below(g, 5)) : 0;
}

void sim_xfer_free(sim *s)
{
	free(s->xfer_digest);
	s->xfer_digest = NULL;
	s->xfer_digest_cap = 0;
}

typedef struct fnv {
	uint64_t h;
} fnv;

static int fnv_sink(void *ctx, const uint8_t *buf, size_t len)
{
	fnv *f = ctx;
	for (size_t i = 0; i < len; i++)
		f->h = (f->h ^ buf[i]) * 1099511628211ull;
	return 0;
}

/* The state machine's digest: its snapshot stream under a fixed header, so
 * only the map and the dedup windows count. 0 when it cannot be computed. */
static uint64_t digest_of(const kv_machine *m)
{
	kv_snap_meta meta;
	memset(&meta, 0, sizeof meta);
	meta.index = 1;
	meta.term = 1;
	meta.n_voters = 1;
	meta.voters[0] = 1;
	fnv f = { 1469598103934665603ull };
	char err[200];
	if (kv_snapshot_write(m, &meta, fnv_sink, &f, NULL, err, sizeof err) != 0)
		return 0;
	return f.h ? f.h : 1;
}

static int digest_slot(sim *s, uint64_t index)
{
	if (index < s->xfer_digest_cap)
		return 0;
	uint64_t c = s->xfer_digest_cap ? s->xfer_digest_cap : 256;
	while (c <= index)
		c *= 2;
	uint64_t *n = realloc(s->xfer_digest, c * sizeof *n);
	if (!n)
		return -1;
	memset(n + s->xfer_digest_cap, 0, (c - s->xfer_digest_cap) * sizeof *n);
	s->xfer_digest = n;
	s->xfer_digest_cap = c;
	return 0;
}

void sim_xfer_check(sim *s, sim_node *nd, uint64_t index, const char *when)
{
	if (index >= s->xfer_digest_cap || s->xfer_digest[index] == 0)
		return;
	uint64_t d = digest_of(rt_kv(nd->rt));
	if (d != 0 && d != s->xfer_digest[index])
		sim_fail(s, "snapshot invariant: node %u's state machine %s index %llu differs from the one a snapshot of that index holds",
			 nd->id, when, (unsigned long long)index);
}

/* The node's mirror of its log starts after a snapshot at index: the
 * entries up to it are what was applied there (recorded when applied). */
int sim_mirror_base(sim *s, sim_node *nd, uint64_t index)
{
	if (index == 0)
		return 0;
	if (index > s->applied_max) {
		sim_fail(s, "node %u holds a snapshot at %llu, past anything ever applied (%llu)", nd->id,
			 (unsigned long long)index, (unsigned long long)s->applied_max);
		return -1;
	}
	if (sim_mirror_reserve(nd, index + 1) != 0) {
		sim_fail(s, "out of memory");
		return -1;
	}
	for (uint64_t i = 1; i <= index; i++) {
		nd->log_term[i] = s->applied_term[i];
		nd->log_hash[i] = s->applied_hash[i];
	}
	nd->log_len = index;
	nd->applied = index;
	nd->cmds_partial = true;
	return 0;
}

int sim_xfer_boot(sim *s, sim_node *nd, wal_recovered *rec)
{
	kv_machine m;
	snapshot_loaded res;
	char err[700];
	if (snapshot_load(nd->snapdir, rec->snap_index, &m, &res, err, sizeof err) != 0) {
		sim_fail(s, "node %u: %s", nd->id, err);
		return -1;
	}
	if (!res.found) {
		kv_machine_destroy(&m);
		return 0;
	}
	bool reset = false;
	if (wal_fit_snapshot(nd->w, rec, res.meta.index, res.meta.term, &reset, err, sizeof err) != 0) {
		kv_machine_destroy(&m);
		sim_fail(s, "node %u: snapshot at %llu does not fit its log: %s", nd->id,
			 (unsigned long long)res.meta.index, err);
		return -1;
	}
	rt_adopt_machine(nd->rt, &m, res.meta.index);
	nd->xfer_snap_index = res.meta.index;
	sim_trace(s, "node %u boots from its snapshot at %llu%s", nd->id, (unsigned long long)res.meta.index,
		  reset ? " (its log did not reach it: reset)" : "");
	if (sim_mirror_base(s, nd, res.meta.index) != 0)
		return -1;
	sim_xfer_check(s, nd, res.meta.index, "after booting from a snapshot at");
	return 0;
}

void sim_xfer_on_install(sim *s, sim_node *nd, uint64_t index)
{
	s->out->installs++;
	nd->xfer_snap_index = index;
	sim_trace(s, "node %u installed a snapshot at %llu", nd->id, (unsigned long long)index);
	sim_xfer_check(s, nd, index, "after installing a snapshot at");
}

/* Snapshots the node when it applied snap_every entries since its last
 * one and everything it applied is durable in its own WAL; then the core's
 * log and the WAL behind it (minus the trailing margin) go. Written at once
 * (the node's forked writer is measured elsewhere; here only what it leaves
 * on disk matters). */
void sim_xfer_maybe(sim *s, sim_node *nd)
{
	if (!nd->up || nd->paused || s->failed || !nd->rt)
		return;
	uint64_t applied = rt_applied(nd->rt);
	if (applied < nd->xfer_snap_index + s->snap_every || applied > nd->log_len)
		return;
	if (rt_write_in_flight(nd->rt) || wal_unsynced_bytes(nd->w) > 0)
		return;
	kv_snap_meta meta;
	memset(&meta, 0, sizeof meta);
	meta.index = applied;
	meta.term = nd->log_term[applied];
	meta.n_voters = (uint32_t)s->n;
	for (int i = 0; i < s->n; i++)
		meta.voters[i] = (uint32_t)i;
	uint64_t bytes = 0;
	char err[300];
	if (snapshot_save(nd->snapdir, rt_kv(nd->rt), &meta, &bytes, err, sizeof err) != 0) {
		sim_fail(s, "node %u: snapshot at %llu: %s", nd->id, (unsigned long long)applied, err);
		return;
	}
	uint64_t d = digest_of(rt_kv(nd->rt));
	if (digest_slot(s, applied) != 0) {
		sim_fail(s, "out of memory");
		return;
	}
	if (s->xfer_digest[applied] == 0)
		s->xfer_digest[applied] = d;
	else if (s->xfer_digest[applied] != d)
		sim_fail(s, "snapshot invariant: node %u's state machine at index %llu differs from another node's there",
			 nd->id, (unsigned long long)applied);
	uint64_t prev = nd->xfer_snap_index;
	nd->xfer_snap_index = applied;
	s->out->snapshots++;
	uint64_t upto = applied > s->snap_trailing ? applied - s->snap_trailing : 0;
	if (upto > 0 && raft_compact(rt_raft(nd->rt), upto) != RAFT_OK)
		upto = 0;
	/* The WAL keeps everything after the previous snapshot too, as the
	 * node does: either file can be lost and the log still covers it. */
	uint64_t wal_upto = upto < prev ? upto : prev;
	wal_compact_result cr;
	if (wal_upto > 0 && wal_compact(nd->w, wal_upto, &cr, err, sizeof err) != 0)
		sim_fail(s, "node %u: wal_compact to %llu: %s", nd->id, (unsigned long long)wal_upto, err);
	if (snapshot_prune(nd->snapdir, SNAPSHOT_KEEP, err, sizeof err) != 0)
		sim_fail(s, "node %u: snapshot prune: %s", nd->id, err);
	sim_trace(s, "node %u: snapshot at %llu (%llu bytes), log compacted to %llu", nd->id,
		  (unsigned long long)applied, (unsigned long long)bytes, (unsigned long long)upto);
}

/* A CHUNK whose data has one byte changed, in a frame that is valid: what
 * a bad disk read on the leader or a bad middlebox would deliver. The
 * frame is replaced (the old one freed). Other frames pass untouched. */
uint8_t *sim_xfer_flip(sim *s, uint8_t *frame, size_t *len)
{
	if (s->chunk_flip_p <= 0 || *len <= 5 || frame[5] != WIRE_MSG_SNAP_CHUNK ||
	    !sim_chance(&s->xfer_rng, s->chunk_flip_p))
		return frame;
	wire_snap_chunk c;
	const char *why = NULL;
	if (wire_decode_snap_chunk(frame, *len, &c, &why) != 0 || c.len == 0)
		return frame;
	uint8_t *data = malloc(c.len);
	if (!data)
		return frame;
	memcpy(data, c.data, c.len);
	data[sim_below(&s->xfer_rng, c.len)] ^= (uint8_t)(1u << sim_below(&s->xfer_rng, 8));
	c.data = data;
	uint8_t *out;
	size_t olen;
	int rc = wire_encode_snap_chunk(&c, &out, &olen);
	free(data);
	if (rc != 0)
		return frame;
	free(frame);
	*len = olen;
	s->out->chunks_flipped++;
	return out;
}
