/*
 * api_reply.h — answering clients: JSON bodies and the error shape
 * {"error":"short words","detail":"one sentence"}. Which status a request
 * that waited for Raft gets is decided in one place, api_outcome.c.
 */
#ifndef RAFTKV_API_REPLY_H
#define RAFTKV_API_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../server/server_internal.h"

void api_reply_body(server *s, http_request *req, int status, const char *ctype,
		    const void *body, size_t len);
/* Sends s->out (a JSON body built by the caller). */
void api_reply_out(server *s, http_request *req, int status);
void api_reply_error(server *s, http_request *req, int status, const char *error,
		     const char *detail);
/* 503 "not leader" for a request only the leader serves: "Only the leader
 * <action>", naming the leader when one is known. */
void api_reply_not_leader(server *s, http_request *req, const char *action);

/* Bodies written into s->out (reset first). */
void api_out_value(server *s, const void *key, size_t klen, bool found, const void *val, size_t vlen);
void api_out_index(server *s, const void *key, size_t klen, uint64_t index);

/* {"ops":[...],"index":n}: the txn with each read's value from res
 * (api_outcome.c). 0, or -1 out of memory. */
int api_out_txn(server *s, const kv_command *c, const kv_result *res, uint64_t index);

/* api_txn_local.c, for the unsafe bug switches only: whether every op is a
 * read, and the txn's answer built from the local map alone (which it
 * leaves as it is) into s->out. 0, or -1 out of memory. */
bool api_txn_read_only(const kv_command *c);
int api_txn_out_local(server *s, const kv_command *c, uint64_t index);

/* Answers a read from the local state machine. */
void api_reply_local_read(server *s, http_request *req, const char *key, size_t klen);

#endif
