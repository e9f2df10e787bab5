/*
 * http_reply.h — answering clients: JSON bodies, the error shape
 * {"error":"short words","detail":"one sentence"}, and completing requests
 * that waited in the pending table.
 *
 * The error discipline lives in the callers and is stated once here:
 * 503 and 4xx only for an operation that definitely did not and will not
 * take effect (refused before raft_propose, or raft_propose said no);
 * 504 for anything proposed whose outcome we cannot vouch for.
 */
#ifndef RAFTKV_HTTP_REPLY_H
#define RAFTKV_HTTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server_internal.h"

void reply_body(server *s, http_request *req, int status, const char *ctype,
		const void *body, size_t len);
/* Sends s->out (a JSON body built by the caller). */
void reply_out(server *s, http_request *req, int status);
void reply_error(server *s, http_request *req, int status, const char *error,
		 const char *detail);

/* Bodies written into s->out (reset first). */
void out_value(server *s, const void *key, size_t klen, bool found, const void *val, size_t vlen);
void out_index(server *s, const void *key, size_t klen, uint64_t index);
/* {"ops":[...],"index":n}: the txn with each read's value from res. */
int out_txn(server *s, const kv_command *c, const kv_result *res, uint64_t index);

/* txn_local.c, for the unsafe bug switches only: whether every op is a read,
 * and the txn's answer built from the local map alone (which it leaves as it
 * is) into s->out. 0, or -1 out of memory. */
bool txn_read_only(const kv_command *c);
int txn_out_local(server *s, const kv_command *c, uint64_t index);

/* Completes a pending request: unlinks it, answers, records latency, frees. */
void pending_answer_out(server *s, pending *p, int status);
void pending_answer_error(server *s, pending *p, int status, const char *error,
			  const char *detail);
/* Answers a read from the local state machine. */
void reply_local_read(server *s, http_request *req, const char *key, size_t klen);

#endif
