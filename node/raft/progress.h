/*
 * progress.h — the leader's view of one member's log (see progress.c).
 */
#ifndef RAFTKV_RAFT_PROGRESS_H
#define RAFTKV_RAFT_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum progress_state {
	PROGRESS_PROBE = 0,     /* next unknown: one APPEND at a time until one is accepted */
	PROGRESS_REPLICATE = 1, /* streaming: next advanced optimistically, up to max_inflight */
	PROGRESS_SNAPSHOT = 2,  /* needs entries we compacted: a snapshot is being sent (snapshot.c) */
};

/* What the leader knows of one member (Raft §5.3 nextIndex/matchIndex, plus
 * flow control), kept by node id in the tracker. The leader's own entry is
 * kept but unused: its durable index stands in for its match. */
typedef struct progress {
	uint32_t id;
	uint64_t match;
	uint64_t next;
	uint8_t state;
	bool probe_sent;     /* PROBE: an APPEND is out, wait for its answer or a heartbeat */
	bool recent_active;  /* heard from since the last check-quorum round */
	bool heard;          /* last_heard is valid */
	uint64_t last_heard; /* r->now when its last response arrived (lease) */
	uint64_t read_acked; /* highest ReadIndex round it acknowledged */
	uint64_t sent_commit;/* commit index carried by the last APPEND sent to it */
	uint64_t pending_snapshot; /* SNAPSHOT: the compaction point the snapshot must reach */
	/* ring of the last index of each APPEND in flight (REPLICATE only) */
	uint64_t *infl;
	size_t infl_head, infl_len, infl_cap;
} progress;

int progress_init(progress *p, uint32_t id, size_t max_inflight);
void progress_free(progress *p);
void progress_reset(progress *p, uint64_t next);
void progress_become_probe(progress *p, uint64_t next);
void progress_become_replicate(progress *p);
bool progress_infl_full(const progress *p);
void progress_infl_add(progress *p, uint64_t last);
void progress_infl_free_to(progress *p, uint64_t index);
void progress_infl_free_first(progress *p);

#endif
