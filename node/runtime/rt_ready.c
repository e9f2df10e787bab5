/*
 * rt_ready.c — the ready step, following the core's caller contract (raft.h):
 *
 *   get_ready -> queue hard state + entries for the WAL -> encode messages,
 *   holding those that vouch for durable state behind that WAL write -> apply
 *   committed entries -> deliver read states -> advance.
 *
 * The WAL write itself starts after the loop over readies, so every ready
 * produced while a write is in flight joins the next write (group commit).
 */
#include <stdlib.h>

#include "../net/wire.h"
#include "rt_internal.h"

/* Which messages wait for this ready's write is the core's rule
 * (raft_msg_waits_for_disk, raft.h step 3): votes and acknowledgements are
 * held; the rest, a leader's appends included, go out at once. */
static bool waits_for_disk(rt *r, uint8_t type)
{
	(void)r; /* used only by the planted bug */
	if (RT_PLANTED(r, RT_BUG_VOTE_BEFORE_FSYNC) && type == RAFT_MSG_VOTE_RESP)
		return false;
	return raft_msg_waits_for_disk(type);
}

/* Encodes rd's messages now (the core's buffers die at advance). A message
 * that cannot be encoded (ENOMEM) is dropped: Raft retransmits. Returns the
 * held frames. */
static held_frame *encode_msgs(rt *r, const raft_ready *rd, size_t *n_out)
{
	*n_out = 0;
	size_t n_held = 0;
	for (size_t i = 0; i < rd->n_msgs; i++)
		n_held += rd->msgs[i].type != RAFT_MSG_SNAPSHOT && waits_for_disk(r, rd->msgs[i].type);
	held_frame *frames = NULL;
	if (n_held > 0 && (frames = malloc(n_held * sizeof *frames)) == NULL) {
		r->st.msgs_dropped_queue += n_held;
		n_held = 0;
	}
	size_t n = 0;
	for (size_t i = 0; i < rd->n_msgs; i++) {
		if (rd->msgs[i].type == RAFT_MSG_SNAPSHOT) {
			/* not a frame: the runtime streams a snapshot file */
			rt_snapshot_msg(r, &rd->msgs[i]);
			continue;
		}
		bool hold = waits_for_disk(r, rd->msgs[i].type);
		if (hold && frames == NULL)
			continue;
		uint8_t *data;
		size_t len;
		if (wire_encode(&rd->msgs[i], &data, &len) != 0) {
			r->st.msgs_dropped_queue++;
			continue;
		}
		if (!hold) {
			peer_send(r, rd->msgs[i].to, data, len);
			continue;
		}
		frames[n].to = rd->msgs[i].to;
		frames[n].data = data;
		frames[n].len = len;
		n++;
	}
	*n_out = n;
	return frames;
}

bool rt_has_work(rt *r)
{
	return !r->paused && !r->stopping && !r->failed &&
	       (raft_has_ready(r->raft) || r->reads.open != NULL);
}

void rt_process(rt *r)
{
	if (r->stopping || r->paused || r->failed)
		return;
	reads_flush(r);
	/* Bounded: each round consumes what the core produced; a core that
	 * kept producing forever would be a bug, not load. */
	for (int round = 0; round < 64 && raft_has_ready(r->raft) && !r->failed; round++) {
		raft_ready rd;
		raft_get_ready(r->raft, &rd);
		if (r->io.on_ready != NULL)
			r->io.on_ready(r->io.ud, &rd);
		if (rd.install) {
			/* Nothing steps a received snapshot into the core yet
			 * (README step 4): an install here would be a bug. */
			rt_fail(r, "the core asked to install a snapshot, which this runtime cannot yet");
			break;
		}
		size_t n_frames;
		held_frame *frames = encode_msgs(r, &rd, &n_frames);
		rt_wal_add(r, &rd, frames, n_frames);
		rt_apply(r, rd.committed, rd.n_committed);
		for (size_t i = 0; i < rd.n_reads; i++)
			reads_on_state(r, &rd.reads[i]);
		raft_advance(r->raft, &rd);
	}
	if (r->failed)
		return;
	reads_on_applied(r);
	rt_reforward(r);
	rt_wal_kick(r);
	rt_snapshot_maybe(r);
}
