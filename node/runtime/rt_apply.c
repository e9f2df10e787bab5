/*
 * rt_apply.c — committed entries into the state machine (node/kv, with its
 * de-duplication), in log order, and the end of the request that proposed
 * each one, if it waits here.
 *
 * Every replica applies every command; only the node that proposed a command
 * (same node id and same boot nonce) finds a waiting request for it.
 */
#include <stdio.h>

#include "rt_internal.h"

static void apply_one(rt *r, const raft_entry *e)
{
	if (e->type == RAFT_ENTRY_CONF)
		rt_snap_on_conf(r, e);
	if (e->type != RAFT_ENTRY_NORMAL || e->len == 0)
		return;
	kv_command c;
	if (kv_command_decode(e->data, e->len, &c) != 0)
		return; /* every replica sees the same bytes and skips them alike */
	pending *p = NULL;
	if (c.origin == r->id && c.nonce == r->o.nonce)
		p = pending_find(&r->pending, c.req_id);
	kv_result res;
	if (kv_machine_apply(&r->kv, &c, p ? &res : NULL) != 0) {
		char what[128];
		snprintf(what, sizeof what, "out of memory applying entry %llu; stopping rather than diverge",
			 (unsigned long long)e->index);
		kv_command_release(&c);
		rt_fail(r, what);
		return;
	}
	if (p != NULL) {
		if (res.status == KV_DUPLICATE || res.status == KV_STALE)
			/* This copy did nothing, but another copy may have. */
			rt_end(r, p, RT_UNKNOWN, RT_WHY_DUPLICATE, e->index, &c, &res);
		else
			rt_end(r, p, RT_APPLIED, RT_WHY_NONE, e->index, &c, &res);
		kv_result_release(&res);
	}
	kv_command_release(&c);
}

void rt_apply(rt *r, const raft_entry *ents, size_t n)
{
	for (size_t i = 0; i < n && !r->failed; i++) {
		apply_one(r, &ents[i]);
		r->applied = ents[i].index;
		r->applied_term = ents[i].term;
		r->snap.bytes_since += ents[i].len;
		if (r->io.on_applied != NULL)
			r->io.on_applied(r->io.ud, &ents[i]);
	}
	r->st.applied_entries += n;
}
