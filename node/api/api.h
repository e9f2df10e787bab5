/*
 * api.h — the HTTP API (contract sections 2 and 3), split by concern:
 * api_routes.c picks a handler; api_kv.c (keys, goraft /set /get),
 * api_txn.c, api_admin.c; api_propose.c hands requests to the runtime and
 * api_outcome.c turns how they ended into a status and a body.
 */
#ifndef RAFTKV_API_H
#define RAFTKV_API_H

#include <cjson/cJSON.h>

#include "../kv/kv_command.h"
#include "../server/server_internal.h"

/* The HTTP server's callbacks (api_routes.c). */
void api_on_request(void *ud, http_request *req);
/* The HTTP layer's shed hook: true = refuse this write at its headers (503). */
bool api_shed(void *ud, const char *method, const char *path, uint64_t body_len);
const char *api_common_headers(void *ud, size_t *len);
void api_dispatch_client(server *s, http_request *req);
void api_replay_paused(server *s);

/* /kv/{key}[/cas|/append]; rest = the path after "/kv/". */
void api_kv(server *s, http_request *req, const char *rest);
void api_goraft_set(server *s, http_request *req);
void api_goraft_get(server *s, http_request *req);
void api_txn(server *s, http_request *req);
/* /admin/..., /healthz, /readyz, /metrics. */
void api_admin(server *s, http_request *req);

/* Checks a key: 0 ok, else answers the request (400 or 413) and returns -1. */
int api_check_key(server *s, http_request *req, const char *key, size_t klen);
/* Checks a value: 0 ok, else answers (400 or 413) and returns -1. */
int api_check_value(server *s, http_request *req, const char *what, const void *v, size_t len);
/* Refuses a JSON body over --max-value-bytes: answers 413, returns -1. */
int api_check_body(server *s, http_request *req);

/* Proposes c through the runtime; the answer comes from api_on_outcome.
 * kind is an enum rt_kind; key is copied for the answer. */
void api_propose(server *s, http_request *req, kv_command *c, uint8_t kind,
		 const char *key, size_t klen);
/* GET of one key at a consistency level ("linearizable", "log", "stale";
 * NULL = linearizable). */
void api_read(server *s, http_request *req, const char *key, size_t klen, const char *consistency);

/* Membership (api_members.c): GET/POST /admin/members; the members array
 * of /admin/status (false on ENOMEM); a committed entry was applied (answers
 * the POST of a CONF entry); after each ready step (transport peers follow
 * the configuration, POSTs that can no longer know their outcome get 504);
 * the --cluster peers the transport starts with; shutdown (504 to waits). */
void api_members(server *s, http_request *req);
bool api_members_json(server *s, cJSON *arr);
void api_members_on_applied(void *ud, const raft_entry *e);
void api_members_after_ready(server *s, const raft_status *st);
void api_members_init(server *s);
void api_members_stop(server *s);
void api_members_free(server *s);

/* The runtime's verdict on a request -> its HTTP answer (api_outcome.c). */
void api_on_outcome(void *ud, const rt_outcome *o);

#endif
