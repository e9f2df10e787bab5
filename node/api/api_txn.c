/*
 * api_txn.c — POST /txn {"ops":[["r","x",null],["append","x","3 "],["w","y","1"]]}.
 *
 * The whole list becomes one log entry, so its ops apply atomically and in
 * order on every replica; the answer (built in apply.c) is the same list
 * with each read's value filled in (null when absent). Read-only txns go
 * through the log too, unless the stale_reads bug switch is on.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_reply.h"
#include "json_out.h"

static int parse_kind(const char *k, uint8_t *out)
{
	if (strcmp(k, "r") == 0)
		*out = KV_TXN_READ;
	else if (strcmp(k, "w") == 0)
		*out = KV_TXN_WRITE;
	else if (strcmp(k, "append") == 0)
		*out = KV_TXN_APPEND;
	else
		return -1;
	return 0;
}

/* Fills op from one ["kind","key",value]; answers and returns -1 if bad. */
static int parse_op(server *s, http_request *req, const cJSON *item, size_t i, kv_txn_op *op)
{
	char detail[128];
	const cJSON *kind = cJSON_GetArrayItem(item, 0);
	const cJSON *key = cJSON_GetArrayItem(item, 1);
	const cJSON *val = cJSON_GetArrayItem(item, 2);
	if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) != 3 || !cJSON_IsString(kind) ||
	    !cJSON_IsString(key) || parse_kind(kind->valuestring, &op->kind) != 0) {
		snprintf(detail, sizeof detail,
			 "op %zu must be [\"r\"|\"w\"|\"append\", key, value-or-null].", i);
		api_reply_error(s, req, 400, "bad txn", detail);
		return -1;
	}
	op->key.p = (const uint8_t *)key->valuestring;
	op->key.len = (uint32_t)strlen(key->valuestring);
	if (api_check_key(s, req, key->valuestring, op->key.len) != 0)
		return -1;
	if (op->kind == KV_TXN_READ) {
		if (!cJSON_IsNull(val)) {
			snprintf(detail, sizeof detail, "op %zu: a read takes null as its value.", i);
			api_reply_error(s, req, 400, "bad txn", detail);
			return -1;
		}
		return 0;
	}
	if (!cJSON_IsString(val)) {
		snprintf(detail, sizeof detail, "op %zu: a write or append needs a string value.", i);
		api_reply_error(s, req, 400, "bad txn", detail);
		return -1;
	}
	op->value.p = (const uint8_t *)val->valuestring;
	op->value.len = (uint32_t)strlen(val->valuestring);
	return api_check_value(s, req, "value", op->value.p, op->value.len);
}

void api_txn(server *s, http_request *req)
{
	if (strcmp(req->method, "POST") != 0) {
		api_reply_error(s, req, 405, "method not allowed", "/txn accepts POST.");
		return;
	}
	if (api_check_body(s, req) != 0)
		return;
	if (json_has_nul_escape(req->body, req->body_len)) {
		api_reply_error(s, req, 400, "bad value",
			    "NUL characters (\\u0000) are not accepted in JSON bodies; PUT the raw bytes instead.");
		return;
	}
	cJSON *o = json_parse_whole(req->body, req->body_len);
	const cJSON *ops = cJSON_GetObjectItemCaseSensitive(o, "ops");
	if (!cJSON_IsObject(o) || !cJSON_IsArray(ops)) {
		cJSON_Delete(o);
		api_reply_error(s, req, 400, "bad json", "The body must be {\"ops\":[[kind,key,value],...]}.");
		return;
	}
	int n = cJSON_GetArraySize(ops);
	if (n < 0 || (unsigned)n > KV_MAX_TXN_OPS) {
		cJSON_Delete(o);
		api_reply_error(s, req, 413, "txn too large", "The transaction has too many ops.");
		return;
	}
	kv_txn_op *list = n > 0 ? calloc((size_t)n, sizeof *list) : NULL;
	if (n > 0 && list == NULL) {
		cJSON_Delete(o);
		api_reply_error(s, req, 503, "out of memory", "The transaction was not proposed.");
		return;
	}
	size_t i = 0;
	const cJSON *item;
	cJSON_ArrayForEach(item, ops) {
		if (parse_op(s, req, item, i, &list[i]) != 0)
			goto out;
		i++;
	}
	kv_command c;
	memset(&c, 0, sizeof c);
	c.op = KV_OP_TXN;
	c.n_txn = (uint32_t)n;
	c.txn = list;
	/* The unsafe stale_reads switch serves a read-only txn from the local
	 * map, as it serves GET /kv (the safe path puts every txn in the log). */
	if (faults_bugs_get(s->faults).stale_reads && api_txn_read_only(&c)) {
		s->metrics.reads_stale++;
		if (api_txn_out_local(s, &c, s->applied) == 0)
			api_reply_out(s, req, 200);
		else
			api_reply_error(s, req, 503, "out of memory", "The read-only transaction had no effect.");
		goto out;
	}
	api_propose(s, req, &c, RT_KIND_TXN, "", 0);
out:
	free(list);
	cJSON_Delete(o);
}
