/*
 * api_outcome.c — the one file that maps how a request ended in the runtime
 * (rt_outcome: not proposed, applied with this result, unknown) to what the
 * client hears:
 *
 *   RT_NOT_PROPOSED  503: it definitely had no effect (no leader, busy, out of
 *                    memory, stopping; a read that could not be confirmed or
 *                    timed out: a read never has an effect)
 *   RT_APPLIED       200 (404 for an absent key read, 409 for a cas mismatch)
 *   RT_UNKNOWN       504: it was proposed and may still commit, so never a
 *                    definite failure (timeout, stopping, skipped as a
 *                    possible duplicate); except a read through the log,
 *                    which has no effect either way: 503
 *
 * Requests refused before they reach the runtime (bad input: 400/413) are
 * answered by their handlers; nothing proposed is ever answered 4xx or 503.
 */
#include <string.h>

#include "api.h"
#include "api_reply.h"
#include "json_out.h"

static const char *txn_kind_name(uint8_t k)
{
	switch (k) {
	case KV_TXN_READ: return "r";
	case KV_TXN_WRITE: return "w";
	default: return "append";
	}
}

/* {"ops":[[kind,key,value],...],"index":n} with the reads filled in. */
int api_out_txn(server *s, const kv_command *c, const kv_result *res, uint64_t index)
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

static bool is_read(const rt_outcome *o)
{
	return o->kind == RT_KIND_READ || o->kind == RT_KIND_LOG_READ;
}

static void not_proposed(server *s, http_request *req, const rt_outcome *o)
{
	const char *error = is_read(o) ? "read failed" : "not proposed";
	const char *detail = is_read(o) ? "The read had no effect." : "The command was not proposed.";
	switch (o->why) {
	case RT_WHY_NO_LEADER:
		error = "no leader";
		detail = is_read(o) ? "The read could not be confirmed with a leader; it had no effect."
				    : "No leader is known; the command was not proposed.";
		break;
	case RT_WHY_BUSY:
		error = "busy";
		detail = "Too many proposals are queued; the command was not proposed.";
		break;
	case RT_WHY_OVERLOADED:
		error = "overloaded";
		detail = "Too many bytes are waiting to commit; the command was not proposed. Retry later.";
		break;
	case RT_WHY_NOMEM:
		error = "out of memory";
		detail = is_read(o) ? "The read had no effect." : "The command was not proposed.";
		break;
	case RT_WHY_TIMEOUT:
		error = "timeout";
		detail = is_read(o) ? "The read did not complete in time; it had no effect."
				    : "The command was not proposed.";
		break;
	case RT_WHY_STOPPING:
		error = "shutting down";
		detail = "The node is stopping.";
		break;
	case RT_WHY_REFUSED:
		detail = "The Raft core refused the command.";
		break;
	case RT_WHY_REMOVED:
		error = "removed";
		detail = "This node was removed from the cluster; it serves no requests (this one had no effect): "
			 "send it to a member. " SERVER_REJOIN_HINT ".";
		break;
	case RT_WHY_CATCHING_UP:
		error = "catching up";
		detail = "This node started with an empty data dir and has not caught up with the cluster yet; "
			 "the command was not proposed. Retry, or send it to another node.";
		break;
	default:
		break;
	}
	api_reply_error(s, req, 503, error, detail);
}

static void unknown(server *s, http_request *req, const rt_outcome *o)
{
	/* A read through the log changes nothing: whether or not it applied,
	 * failing it is a definite answer. */
	if (is_read(o)) {
		not_proposed(s, req, o);
		return;
	}
	switch (o->why) {
	case RT_WHY_STOPPING:
		api_reply_error(s, req, 504, "shutting down",
				"The node stopped before the command was seen committed; it may or may not take effect.");
		return;
	case RT_WHY_DUPLICATE:
		api_reply_error(s, req, 504, "timeout",
				"The command was skipped as a possible duplicate; its outcome is unknown.");
		return;
	default:
		api_reply_error(s, req, 504, "timeout",
				"The command was proposed but not seen committed in time; it may or may not take effect.");
	}
}

static void applied(server *s, http_request *req, const rt_outcome *o)
{
	const kv_result *res = o->res;
	if (o->kind == RT_KIND_READ || (o->cmd != NULL && o->cmd->op == KV_OP_READ)) {
		api_out_value(s, o->key, o->klen, res->value.found, res->value.p, res->value.len);
		api_reply_out(s, req, res->value.found ? 200 : 404);
		return;
	}
	if (o->cmd != NULL && o->cmd->op == KV_OP_TXN) {
		/* The unsafe ack_before_commit switch answers a txn before it
		 * applied: its reads come from the local map, as if it had. */
		int rc = o->why == RT_WHY_EARLY_ACK ? api_txn_out_local(s, o->cmd, o->index)
						    : api_out_txn(s, o->cmd, res, o->index);
		if (rc != 0) {
			/* It was (or may be) applied; only the answer could not be built. */
			api_reply_error(s, req, 504, "timeout",
					"The transaction may have been applied but its answer could not be built (out of memory).");
			return;
		}
		api_reply_out(s, req, 200);
		return;
	}
	if (res->status == KV_CAS_MISMATCH) {
		bytebuf *b = &s->out;
		b->len = 0;
		if (json_raw(b, "{\"error\":\"cas mismatch\",\"detail\":\"The current value differs from 'from'.\",\"value\":") != 0 ||
		    (res->value.found ? json_str(b, res->value.p, res->value.len) : json_raw(b, "null")) != 0 ||
		    json_raw(b, "}") != 0)
			b->len = 0;
		api_reply_out(s, req, 409);
		return;
	}
	api_out_index(s, o->key, o->klen, o->index);
	api_reply_out(s, req, 200);
}

void api_on_outcome(void *ud, const rt_outcome *o)
{
	server *s = ud;
	http_request *req = o->ctx;
	switch (o->end) {
	case RT_APPLIED:
		applied(s, req, o);
		break;
	case RT_UNKNOWN:
		unknown(s, req, o);
		break;
	default:
		not_proposed(s, req, o);
		break;
	}
	histogram_observe(&s->metrics.request_seconds, (double)(uv_hrtime() - o->stamp) / 1e9);
}
