/*
 * http_propose.c — turning a client request into a Raft proposal or a read,
 * where the error discipline is decided:
 *
 *   raft_propose refused (no leader, busy)  -> 503, definitely not applied
 *   proposed, answer seen on apply          -> 200 / 409
 *   proposed, no answer by the deadline     -> 504, unknown outcome
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_api.h"
#include "http_reply.h"
#include "utf8.h"

static uint64_t deadline(server *s)
{
	return server_real_ms(s) + s->cfg->request_timeout_ms;
}

int check_key(server *s, http_request *req, const char *key, size_t klen)
{
	if (klen == 0) {
		reply_error(s, req, 400, "bad key", "The key is empty.");
		return -1;
	}
	if (klen > s->cfg->max_key_bytes) {
		reply_error(s, req, 413, "key too large", "The key exceeds --max-key-bytes.");
		return -1;
	}
	if (!utf8_valid(key, klen)) {
		reply_error(s, req, 400, "bad key", "The key is not valid UTF-8.");
		return -1;
	}
	return 0;
}

int check_value(server *s, http_request *req, const char *what, const void *v, size_t len)
{
	char detail[96];
	if (len > s->cfg->max_value_bytes) {
		snprintf(detail, sizeof detail, "The %s exceeds --max-value-bytes.", what);
		reply_error(s, req, 413, "value too large", detail);
		return -1;
	}
	if (!utf8_valid(v, len)) {
		snprintf(detail, sizeof detail, "The %s is not valid UTF-8.", what);
		reply_error(s, req, 400, "bad value", detail);
		return -1;
	}
	return 0;
}

int check_body(server *s, http_request *req)
{
	if (req->body_len <= s->cfg->max_value_bytes)
		return 0;
	reply_error(s, req, 413, "body too large", "The body exceeds --max-value-bytes.");
	return -1;
}

void propose_command(server *s, http_request *req, kv_command *c, uint8_t kind,
		     const char *key, size_t klen)
{
	c->origin = s->cfg->id;
	c->nonce = s->nonce;
	c->req_id = ++s->next_cmd_id;
	uint8_t *data;
	size_t len;
	if (kv_command_encode(c, &data, &len) != 0) {
		reply_error(s, req, 503, "out of memory", "The command could not be encoded; it was not proposed.");
		return;
	}
	pending *p = pending_add(&s->pending, c->req_id, req, kind, key, klen, deadline(s), uv_hrtime());
	if (p == NULL) {
		free(data);
		reply_error(s, req, 503, "out of memory", "The command was not proposed.");
		return;
	}
	uint64_t index = 0;
	int rc = raft_propose(s->raft, data, len, &index);
	free(data);
	if (rc != RAFT_OK) {
		s->metrics.proposals_refused++;
		if (rc == RAFT_ENOLEADER)
			pending_answer_error(s, p, 503, "no leader", "No leader is known; the command was not proposed.");
		else if (rc == RAFT_EBUSY)
			pending_answer_error(s, p, 503, "busy", "Too many proposals are queued; the command was not proposed.");
		else
			pending_answer_error(s, p, 503, "not proposed", "The Raft core refused the command.");
		return;
	}
	p->proposed = true;
	s->metrics.proposals++;
	server_kick(s);
	/* The unsafe ack_before_commit switch: answer a leader's write or txn as
	 * soon as it is in the leader's own log, before any quorum has it (a
	 * txn's reads then come from the local map, as if it had applied). */
	if (index == 0 || !faults_bugs_get(s->faults).ack_before_commit)
		return;
	if (kind == PENDING_WRITE) {
		out_index(s, key, klen, index);
		pending_answer_out(s, p, 200);
	} else if (kind == PENDING_TXN && txn_out_local(s, c, index) == 0) {
		pending_answer_out(s, p, 200);
	}
}

void serve_read(server *s, http_request *req, const char *key, size_t klen, const char *consistency)
{
	if (check_key(s, req, key, klen) != 0)
		return;
	fault_bugs bugs = faults_bugs_get(s->faults);
	bool stale = consistency != NULL && strcmp(consistency, "stale") == 0;
	bool log_read = consistency != NULL && strcmp(consistency, "log") == 0;
	if (consistency != NULL && !stale && !log_read && strcmp(consistency, "linearizable") != 0) {
		reply_error(s, req, 400, "bad consistency", "consistency must be linearizable, log or stale.");
		return;
	}
	if (stale || bugs.stale_reads) {
		s->metrics.reads_stale++;
		reply_local_read(s, req, key, klen);
		return;
	}
	if (log_read) {
		s->metrics.reads_log++;
		kv_command c;
		memset(&c, 0, sizeof c);
		c.op = KV_OP_READ;
		c.key.p = (const uint8_t *)key;
		c.key.len = (uint32_t)klen;
		propose_command(s, req, &c, PENDING_LOG_READ, key, klen);
		return;
	}
	/* The unsafe lease_reads switch: a leader trusting its clock-based
	 * lease serves without confirming leadership. */
	if (bugs.lease_reads && s->role == RAFT_LEADER && raft_lease_valid(s->raft)) {
		s->metrics.reads_lease++;
		reply_local_read(s, req, key, klen);
		return;
	}
	if (s->leader == RAFT_NONE) {
		reply_error(s, req, 503, "no leader", "No leader is known; the read had no effect.");
		return;
	}
	uint64_t id = PENDING_READ_BIT | ++s->next_read_id;
	pending *p = pending_add(&s->pending, id, req, PENDING_READ, key, klen, deadline(s), uv_hrtime());
	if (p == NULL) {
		reply_error(s, req, 503, "out of memory", "The read had no effect.");
		return;
	}
	if (reads_add(s, p) != 0)
		pending_answer_error(s, p, 503, "out of memory", "The read had no effect.");
}
