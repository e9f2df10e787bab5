/*
 * http_api.h — handlers of the HTTP API (contract sections 2 and 3), split
 * by concern: http_routes.c picks one, http_kv.c (keys, goraft /set /get),
 * http_txn.c, http_admin.c; proposing and reading are in http_propose.c.
 */
#ifndef RAFTKV_HTTP_API_H
#define RAFTKV_HTTP_API_H

#include "../kv/kv_command.h"
#include "server_internal.h"

/* /kv/{key}[/cas|/append]; rest = the path after "/kv/". */
void http_kv(server *s, http_request *req, const char *rest);
void http_goraft_set(server *s, http_request *req);
void http_goraft_get(server *s, http_request *req);
void http_txn(server *s, http_request *req);
/* /admin/..., /healthz, /readyz, /metrics. */
void http_admin(server *s, http_request *req);

/* Checks a key: 0 ok, else answers the request (400 or 413) and returns -1. */
int check_key(server *s, http_request *req, const char *key, size_t klen);
/* Checks a value: 0 ok, else answers (400 or 413) and returns -1. */
int check_value(server *s, http_request *req, const char *what, const void *v, size_t len);

/* Refuses a JSON body over --max-value-bytes: answers 413, returns -1. */
int check_body(server *s, http_request *req);

/* Proposes c (origin, nonce and id are filled in) and arranges the answer.
 * key is copied for the answer. */
void propose_command(server *s, http_request *req, kv_command *c, uint8_t kind,
		     const char *key, size_t klen);

/* GET of one key at a consistency level ("linearizable", "log", "stale";
 * NULL = linearizable). */
void serve_read(server *s, http_request *req, const char *key, size_t klen, const char *consistency);

#endif
