/*
 * sim_xfer.c — InstallSnapshot in the simulator. Nodes snapshot and compact
 * (sim_snap.c, the runtime's rt_snapshot.c), so a node that was down or cut
 * off falls behind the leader's first index and is sent a snapshot
 * (node/runtime/rt_xfer.c) in chunks over the lossy, reordering,
 * duplicating network; chunk size and window are the seed's. Some chunks
 * arrive with one byte changed inside a valid frame: the stream's own
 * checksum must refuse them (planted bug 40 skips that check).
 *
 * The invariant: the state machine digest recorded for a snapshot index
 * (sim_snap.c) must be the state of every node that installs a snapshot of
 * that index, and of every node that applies that index: after an install
 * the follower's state machine equals the leader's at that index.
 */
#include "sim_internal.h"

#include "../../node/snapshot/snapshot.h"
#include "../../node/wal/wal_compact.h"
#include "../../node/net/wire_snapshot.h"
#include "../../node/raft/membership.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_xfer_params(sim *s)
{
	s->xfer_rng.s = s->p.seed * 0x8CB92BA72F3D8DD7ull + 13;
	sim_rng *g = &s->xfer_rng;
	static const size_t chunk[] = { 256, 1024, 4096, 16384 };
	s->xfer_chunk = chunk[sim_below(g, 4)];
	s->xfer_window = 1 + sim_below(g, 4);
	/* From the seed, not the generator: every later draw stays as it was. */
	s->xfer_ahead = s->xfer_chunk * (size_t)(1 + s->p.seed % 3);
	s->chunk_flip_p = sim_below(g, 3) == 0 ? 0.01 * (double)(1 + sim_below(g, 5)) : 0;
	/* Half the seeds that snapshot (with pre-vote) keep a short log behind
	 * a snapshot: lagging followers then need one often. Not without
	 * pre-vote: there a follower that must wait for a snapshot times out
	 * and deposes every leader with its higher term, and while it is
	 * amnesiac (its votes dropped, sim_node.c) it can keep doing so
	 * before any transfer ends (seed 689 had no leader after the calm). */
	if (s->snap.every_entries > 0 && s->pre_vote && sim_chance(g, 0.5))
		s->snap.trailing_entries = sim_below(g, 12);
}

/* The state at index, if a snapshot of it was recorded, must be nd's. */
static void check_state(sim *s, sim_node *nd, uint64_t index, const char *when)
{
	if (index >= s->snap_digest_cap || s->snap_digest[index] == 0)
		return;
	if ((sim_kv_digest(rt_kv(nd->rt)) | 1) != s->snap_digest[index])
		sim_fail(s, "InstallSnapshot: node %u's state machine %s index %llu differs from the state a snapshot of that index holds",
			 nd->id, when, (unsigned long long)index);
}

void sim_xfer_applied(sim *s, sim_node *nd, uint64_t index)
{
	check_state(s, nd, index, "after applying");
}

/* A ready that installs a snapshot: the log restarts after it (the runtime
 * swaps the state machine and resets the WAL in this ready). The mirror's
 * entries up to it are what was applied there (committed). */
void sim_xfer_on_ready(sim *s, sim_node *nd, const raft_ready *rd)
{
	if (!rd->install)
		return;
	uint64_t index = rd->install_index;
	/* counted: an install over a log that disagrees with what was
	 * committed (a deposed leader's entries) */
	uint64_t top = nd->log_len < index ? nd->log_len : index;
	for (uint64_t i = 1; i <= top && i <= s->applied_max; i++)
		if (s->applied_term[i] != 0 && nd->log_term[i] != s->applied_term[i]) {
			s->out->installs_conflict++;
			sim_trace(s, "node %u: the snapshot replaces a conflicting log (index %llu)", nd->id,
				  (unsigned long long)i);
			break;
		}
	if (index > s->applied_max) {
		sim_fail(s, "node %u installs a snapshot at %llu, past anything ever applied (%llu)", nd->id,
			 (unsigned long long)index, (unsigned long long)s->applied_max);
		return;
	}
	if (sim_mirror_reserve(nd, index + 1) != 0) {
		sim_fail(s, "out of memory");
		return;
	}
	for (uint64_t i = 1; i <= index; i++) {
		nd->log_term[i] = s->applied_term[i];
		nd->log_hash[i] = s->applied_hash[i];
	}
	nd->log_len = index;
	nd->applied = index;
	/* its command record lacks what the snapshot brought: the dedup
	 * "first copy" check no longer applies to this node */
	nd->cmds_partial = true;
	/* the WAL is reset to this snapshot: no older file covers it */
	nd->snap_only_one = true;
	nd->only_one_index = index;
	/* the configuration in force is the snapshot's (sim_xfer_on_install
	 * puts it first), then the CONF entries that follow it */
	nd->n_confs = 0;
	nd->boot_snap_index = index;
}

void sim_xfer_on_install(sim *s, sim_node *nd, const kv_snap_meta *meta)
{
	uint64_t index = meta->index;
	s->out->installs++;
	sim_trace(s, "node %u installed a snapshot at %llu", nd->id, (unsigned long long)index);
	sim_snap_record(s, nd, index, sim_kv_digest(rt_kv(nd->rt)), "installed it");
	check_state(s, nd, index, "after installing a snapshot at");
	member_conf c;
	if (meta->conf_len == 0 || membership_decode(meta->conf, meta->conf_len, &c) != RAFT_OK)
		return; /* the bootstrap configuration */
	if (nd->n_confs == nd->cap_confs) {
		size_t cap = nd->cap_confs ? nd->cap_confs * 2 : 8;
		sim_conf *t = realloc(nd->confs, cap * sizeof *t);
		if (t == NULL) {
			sim_fail(s, "out of memory");
			return;
		}
		nd->confs = t;
		nd->cap_confs = cap;
	}
	memmove(&nd->confs[1], &nd->confs[0], nd->n_confs * sizeof *nd->confs);
	nd->n_confs++;
	sim_conf *sc = &nd->confs[0];
	memset(sc, 0, sizeof *sc);
	sc->index = index;
	sc->n = c.n;
	for (size_t k = 0; k < c.n; k++) {
		sc->id[k] = c.m[k].id;
		sc->voter[k] = c.m[k].voter;
		sc->inc[k] = c.m[k].incarnation;
	}
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
