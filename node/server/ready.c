/*
 * ready.c — the "process ready" step, run once after each batch of loop
 * events (uv_check), following the core's caller contract in raft.h:
 *
 *   get_ready -> queue hard state + entries for the WAL -> encode messages,
 *   holding those that vouch for durable state behind that WAL write -> apply
 *   committed entries -> deliver read states -> advance.
 *
 * The WAL write itself starts after the loop over readies, so every ready
 * produced while a write is in flight joins the next write (group commit).
 */
#include <stdbool.h>
#include <stdlib.h>

#include "../net/wire.h"
#include "log.h"
#include "server_internal.h"

/* Encodes rd's messages now (the core's buffers die at advance). Which ones
 * wait for this ready's WAL write is the core's rule (raft_msg_waits_for_disk,
 * raft.h step 3): votes and acknowledgements are returned to be held; the
 * rest, a leader's appends included, go out at once, which takes one or two
 * fsyncs off the critical path of every write and read. A message that
 * cannot be encoded (ENOMEM) is dropped: Raft retransmits. */
static held_frame *encode_msgs(server *s, const raft_ready *rd, size_t *n_out)
{
	*n_out = 0;
	size_t n_held = 0;
	for (size_t i = 0; i < rd->n_msgs; i++)
		n_held += raft_msg_waits_for_disk(rd->msgs[i].type);
	held_frame *frames = NULL;
	if (n_held > 0 && (frames = malloc(n_held * sizeof *frames)) == NULL) {
		s->metrics.msgs_dropped_queue += n_held;
		n_held = 0;
	}
	size_t n = 0;
	for (size_t i = 0; i < rd->n_msgs; i++) {
		bool hold = raft_msg_waits_for_disk(rd->msgs[i].type);
		if (hold && frames == NULL)
			continue;
		uint8_t *data;
		size_t len;
		if (wire_encode(&rd->msgs[i], &data, &len) != 0) {
			s->metrics.msgs_dropped_queue++;
			continue;
		}
		if (!hold) {
			peer_io_send(s, rd->msgs[i].to, data, len);
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

static void note_soft_state(server *s, const raft_ready *rd)
{
	if (!rd->soft_changed)
		return;
	if (rd->role != s->role || rd->leader != s->leader) {
		raft_status st;
		raft_get_status(s->raft, &st);
		if (rd->leader == RAFT_NONE)
			log_info("term %llu: %s, no leader known", (unsigned long long)st.term,
				 raft_role_name(rd->role));
		else
			log_info("term %llu: %s, leader %u", (unsigned long long)st.term,
				 raft_role_name(rd->role), rd->leader);
	}
	s->role = rd->role;
	s->leader = rd->leader;
}

void ready_process(server *s)
{
	if (s->stopping || s->paused)
		return;
	reads_flush(s);
	/* Bounded: each round consumes what the core produced; a core that
	 * kept producing forever would be a bug, not load. */
	for (int round = 0; round < 64 && raft_has_ready(s->raft); round++) {
		raft_ready rd;
		raft_get_ready(s->raft, &rd);
		size_t n_frames;
		held_frame *frames = encode_msgs(s, &rd, &n_frames);
		wal_pipeline_add(s, &rd, frames, n_frames);
		apply_committed(s, rd.committed, rd.n_committed);
		for (size_t i = 0; i < rd.n_reads; i++)
			reads_on_state(s, &rd.reads[i]);
		note_soft_state(s, &rd);
		raft_advance(s->raft, &rd);
	}
	server_refresh_status(s);
	members_after_ready(s);
	reads_on_applied(s);
	wal_pipeline_kick(s);
}
