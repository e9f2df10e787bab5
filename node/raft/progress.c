/*
 * progress.c — the leader's view of each follower and its flow control
 * (Raft §5.3 nextIndex/matchIndex; probe/replicate states as in etcd's design).
 *
 * PROBE: the leader does not know where the follower's log matches, so it
 * sends one APPEND and waits for the answer (or the next heartbeat response).
 * REPLICATE: the follower is known to match up to `match`; the leader streams
 * APPENDs, advancing `next` optimistically, with at most max_inflight of them
 * unacknowledged so a slow follower cannot make it queue without bound.
 */
#include <stdlib.h>
#include <string.h>

#include "progress.h"

int progress_init(progress *p, uint32_t id, size_t max_inflight)
{
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->infl = calloc(max_inflight, sizeof(uint64_t));
	if (p->infl == NULL)
		return -1;
	p->infl_cap = max_inflight;
	return 0;
}

void progress_free(progress *p)
{
	free(p->infl);
	p->infl = NULL;
}

/* Fresh state for a new leader term: nothing known about the follower. */
void progress_reset(progress *p, uint64_t next)
{
	p->match = 0;
	p->recent_active = false;
	p->heard = false;
	p->last_heard = 0;
	p->read_acked = 0;
	p->sent_commit = 0;
	progress_become_probe(p, next);
}

void progress_become_probe(progress *p, uint64_t next)
{
	p->state = PROGRESS_PROBE;
	p->probe_sent = false;
	p->next = next;
	p->infl_head = p->infl_len = 0;
}

void progress_become_replicate(progress *p)
{
	p->state = PROGRESS_REPLICATE;
	p->probe_sent = false;
	p->next = p->match + 1;
	p->infl_head = p->infl_len = 0;
}

bool progress_infl_full(const progress *p)
{
	return p->infl_len == p->infl_cap;
}

void progress_infl_add(progress *p, uint64_t last)
{
	if (progress_infl_full(p))
		return; /* callers check; keep the ring consistent anyway */
	p->infl[(p->infl_head + p->infl_len) % p->infl_cap] = last;
	p->infl_len++;
}

/* An acknowledgement up to index frees every APPEND that ended at or before it. */
void progress_infl_free_to(progress *p, uint64_t index)
{
	while (p->infl_len > 0 && p->infl[p->infl_head] <= index) {
		p->infl_head = (p->infl_head + 1) % p->infl_cap;
		p->infl_len--;
	}
}

/* A heartbeat answer while the window is full: assume one APPEND was lost, so
 * the pipeline cannot stall forever on messages the network dropped. */
void progress_infl_free_first(progress *p)
{
	if (p->infl_len == 0)
		return;
	p->infl_head = (p->infl_head + 1) % p->infl_cap;
	p->infl_len--;
}
