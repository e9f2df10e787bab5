/*
 * outbox.c — messages and read states collected for the next ready.
 *
 * The arrays are reused from ready to ready. APPEND messages do not copy
 * entries: they remember the index range and are pointed into the log only
 * at raft_get_ready, when the log can no longer move until raft_advance.
 * Running out of memory drops a message, which Raft tolerates like any loss
 * on the network.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

static int outbox_grow(raft *r)
{
	size_t ncap = r->cap_msgs ? r->cap_msgs * 2 : 32;
	raft_msg *m = realloc(r->msgs, ncap * sizeof(*m));
	if (m == NULL)
		return -1;
	r->msgs = m;
	outbox_meta *mm = realloc(r->msg_meta, ncap * sizeof(*mm));
	if (mm == NULL)
		return -1;
	r->msg_meta = mm;
	r->cap_msgs = ncap;
	return 0;
}

raft_msg *outbox_push(raft *r, uint8_t type, uint32_t to)
{
	if (r->n_msgs == r->cap_msgs && outbox_grow(r) != 0) {
		r->enomem_drops++;
		return NULL;
	}
	raft_msg *m = &r->msgs[r->n_msgs];
	memset(m, 0, sizeof(*m));
	memset(&r->msg_meta[r->n_msgs], 0, sizeof(outbox_meta));
	m->type = type;
	m->from = r->cfg.id;
	m->to = to;
	m->term = r->term;
	m->incarnation = r->cfg.incarnation;
	r->n_msgs++;
	return m;
}

int outbox_push_read(raft *r, uint64_t ctx, uint64_t index)
{
	if (r->n_reads == r->cap_reads) {
		size_t ncap = r->cap_reads ? r->cap_reads * 2 : 64;
		raft_read_state *n = realloc(r->reads, ncap * sizeof(*n));
		if (n == NULL)
			return -1;
		r->reads = n;
		r->cap_reads = ncap;
	}
	r->reads[r->n_reads].ctx = ctx;
	r->reads[r->n_reads].index = index;
	r->n_reads++;
	return 0;
}

static void free_owned(raft_entry *ents, size_t n)
{
	if (ents == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(ents[i].data);
	free(ents);
}

/* Points APPEND messages at their entries; drops those whose entries were
 * truncated since they were queued (they belonged to a term this node no
 * longer leads, so losing them is harmless). */
void outbox_resolve(raft *r)
{
	size_t out = 0;
	for (size_t i = 0; i < r->n_msgs; i++) {
		raft_msg *m = &r->msgs[i];
		outbox_meta *mm = &r->msg_meta[i];
		if (m->type == RAFT_MSG_APPEND && m->n_entries > 0) {
			uint64_t last = mm->ent_from + m->n_entries - 1;
			uint64_t t;
			if (!log_term(&r->log, last, &t) || t != mm->ent_last_term ||
			    log_get(&r->log, mm->ent_from) == NULL) {
				continue;
			}
			m->entries = (raft_entry *)log_get(&r->log, mm->ent_from);
		}
		if (out != i) {
			r->msgs[out] = *m;
			r->msg_meta[out] = *mm;
		}
		out++;
	}
	r->n_msgs = out;
}

void outbox_clear(raft *r)
{
	for (size_t i = 0; i < r->n_msgs; i++)
		free_owned(r->msg_meta[i].owned, r->msgs[i].n_entries);
	r->n_msgs = 0;
	r->n_reads = 0;
}
