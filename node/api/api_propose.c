/*
 * api_propose.c — input checks, and handing a client request to the runtime
 * as a proposal or a read. How it ends (and so what the client hears) comes
 * back through api_on_outcome (api_outcome.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_reply.h"
#include "utf8.h"

int api_check_key(server *s, http_request *req, const char *key, size_t klen)
{
	if (klen == 0) {
		api_reply_error(s, req, 400, "bad key", "The key is empty.");
		return -1;
	}
	if (klen > s->cfg->max_key_bytes) {
		api_reply_error(s, req, 413, "key too large", "The key exceeds --max-key-bytes.");
		return -1;
	}
	if (!utf8_valid(key, klen)) {
		api_reply_error(s, req, 400, "bad key", "The key is not valid UTF-8.");
		return -1;
	}
	return 0;
}

int api_check_value(server *s, http_request *req, const char *what, const void *v, size_t len)
{
	char detail[96];
	if (len > s->cfg->max_value_bytes) {
		snprintf(detail, sizeof detail, "The %s exceeds --max-value-bytes.", what);
		api_reply_error(s, req, 413, "value too large", detail);
		return -1;
	}
	if (!utf8_valid(v, len)) {
		snprintf(detail, sizeof detail, "The %s is not valid UTF-8.", what);
		api_reply_error(s, req, 400, "bad value", detail);
		return -1;
	}
	return 0;
}

int api_check_body(server *s, http_request *req)
{
	if (req->body_len <= s->cfg->max_value_bytes)
		return 0;
	api_reply_error(s, req, 413, "body too large", "The body exceeds --max-value-bytes.");
	return -1;
}

void api_propose(server *s, http_request *req, kv_command *c, uint8_t kind,
		 const char *key, size_t klen)
{
	/* The unsafe ack_before_commit switch: a leader's write answered as
	 * soon as it is in the leader's own log, before any quorum has it. */
	bool ack = faults_bugs_get(s->faults).ack_before_commit;
	rt_propose(s->rt, c, kind, key, klen, req, uv_hrtime(), ack);
}

void api_read(server *s, http_request *req, const char *key, size_t klen, const char *consistency)
{
	if (api_check_key(s, req, key, klen) != 0)
		return;
	fault_bugs bugs = faults_bugs_get(s->faults);
	bool stale = consistency != NULL && strcmp(consistency, "stale") == 0;
	bool log_read = consistency != NULL && strcmp(consistency, "log") == 0;
	if (consistency != NULL && !stale && !log_read && strcmp(consistency, "linearizable") != 0) {
		api_reply_error(s, req, 400, "bad consistency", "consistency must be linearizable, log or stale.");
		return;
	}
	if (stale || bugs.stale_reads) {
		s->metrics.reads_stale++;
		api_reply_local_read(s, req, key, klen);
		return;
	}
	if (log_read) {
		s->metrics.reads_log++;
		kv_command c;
		memset(&c, 0, sizeof c);
		c.op = KV_OP_READ;
		c.key.p = (const uint8_t *)key;
		c.key.len = (uint32_t)klen;
		api_propose(s, req, &c, RT_KIND_LOG_READ, key, klen);
		return;
	}
	/* The unsafe lease_reads switch: a leader trusting its clock-based
	 * lease serves without confirming leadership. */
	if (bugs.lease_reads && s->role == RAFT_LEADER && raft_lease_valid(rt_raft(s->rt))) {
		s->metrics.reads_lease++;
		api_reply_local_read(s, req, key, klen);
		return;
	}
	/* (a removed node knows no leader either: rt_read says "removed") */
	if (s->leader == RAFT_NONE && !raft_removed(rt_raft(s->rt))) {
		api_reply_error(s, req, 503, "no leader", "No leader is known; the read had no effect.");
		return;
	}
	rt_read(s->rt, key, klen, req, uv_hrtime());
}
