/*
 * apply.c — committed entries into the state machine, in log order, and the
 * answers to the clients of this node whose commands they carry.
 *
 * Every replica applies every command; only the node that proposed a command
 * (same node id and same boot nonce) finds a waiting request for it.
 */
#include <string.h>

#include "http_reply.h"
#include "json_out.h"
#include "log.h"
#include "server_internal.h"

static const char *txn_kind_name(uint8_t k)
{
	switch (k) {
	case KV_TXN_READ: return "r";
	case KV_TXN_WRITE: return "w";
	default: return "append";
	}
}

/* {"ops":[[kind,key,value],...],"index":n} with the reads filled in
 * (also used by txn_local.c). */
int out_txn(server *s, const kv_command *c, const kv_result *res, uint64_t index)
{
	bytebuf *b = &s->out;
	b->len = 0;
	if (json_raw(b, "{\"ops\":[") != 0)
		return -1;
	for (uint32_t i = 0; i < c->n_txn; i++) {
		const kv_txn_op *op = &c->txn[i];
		if (json_raw(b, i ? ",[" : "[") != 0 || json_cstr(b, txn_kind_name(op->kind)) != 0 ||
		    json_raw(b, ",") != 0 || json_str(b, op->key.p, op->key.len) != 0 ||
		    json_raw(b, ",") != 0)
			return -1;
		int rc;
		if (op->kind == KV_TXN_READ) {
			const kv_value *v = i < res->n_txn ? &res->txn_reads[i] : NULL;
			rc = (v != NULL && v->found) ? json_str(b, v->p, v->len) : json_raw(b, "null");
		} else {
			rc = json_str(b, op->value.p, op->value.len);
		}
		if (rc != 0 || json_raw(b, "]") != 0)
			return -1;
	}
	if (json_raw(b, "],\"index\":") != 0 || json_u64(b, index) != 0 || json_raw(b, "}") != 0)
		return -1;
	return 0;
}

static void answer(server *s, pending *p, const kv_command *c, const kv_result *res, uint64_t index)
{
	if (res->status == KV_DUPLICATE || res->status == KV_STALE) {
		/* Skipped by de-duplication: this copy did nothing, but we cannot
		 * prove no other copy did. */
		pending_answer_error(s, p, 504, "timeout", "The command was skipped as a possible duplicate; its outcome is unknown.");
		return;
	}
	switch (c->op) {
	case KV_OP_READ:
		out_value(s, p->key, p->klen, res->value.found, res->value.p, res->value.len);
		pending_answer_out(s, p, res->value.found ? 200 : 404);
		return;
	case KV_OP_TXN:
		if (out_txn(s, c, res, index) != 0) {
			/* It was applied; only the answer could not be built. */
			pending_answer_error(s, p, 504, "timeout", "The transaction was applied but its answer could not be built (out of memory).");
			return;
		}
		pending_answer_out(s, p, 200);
		return;
	case KV_OP_CAS:
		if (res->status == KV_CAS_MISMATCH) {
			bytebuf *b = &s->out;
			b->len = 0;
			if (json_raw(b, "{\"error\":\"cas mismatch\",\"detail\":\"The current value differs from 'from'.\",\"value\":") != 0 ||
			    (res->value.found ? json_str(b, res->value.p, res->value.len) : json_raw(b, "null")) != 0 ||
			    json_raw(b, "}") != 0)
				b->len = 0;
			pending_answer_out(s, p, 409);
			return;
		}
		break;
	default:
		break;
	}
	out_index(s, p->key, p->klen, index);
	pending_answer_out(s, p, 200);
}

static void apply_one(server *s, const raft_entry *e)
{
	if (e->type != RAFT_ENTRY_NORMAL || e->len == 0)
		return;
	kv_command c;
	if (kv_command_decode(e->data, e->len, &c) != 0) {
		/* Every replica sees the same bytes and skips them alike. */
		log_info("entry %llu: undecodable command skipped", (unsigned long long)e->index);
		return;
	}
	pending *p = NULL;
	if (c.origin == s->cfg->id && c.nonce == s->nonce)
		p = pending_find(&s->pending, c.req_id);
	kv_result res;
	if (kv_machine_apply(&s->kv, &c, p ? &res : NULL) != 0)
		server_fatal("out of memory applying entry %llu; stopping rather than diverge",
			     (unsigned long long)e->index);
	if (p != NULL) {
		answer(s, p, &c, &res, e->index);
		kv_result_release(&res);
	}
	kv_command_release(&c);
}

void apply_committed(server *s, const raft_entry *ents, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		apply_one(s, &ents[i]);
		s->applied = ents[i].index;
	}
	s->metrics.applied_entries += n;
}
