/*
 * api_kv.c — the key routes: GET/PUT/DELETE /kv/{key}, POST /kv/{key}/cas,
 * POST /kv/{key}/append, and goraft's GET /set?key=&value= and /get?key=.
 *
 * A key in a /kv/ path may contain '/' (literally or as %2F): only a last
 * segment of "cas" or "append" names an operation. A key that itself ends in
 * "/cas" or "/append" is reachable through /set and /get, whose keys are
 * query parameters.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_reply.h"
#include "json_out.h"

static void method_not_allowed(server *s, http_request *req, const char *allowed)
{
	char detail[96];
	snprintf(detail, sizeof detail, "This path accepts %s.", allowed);
	api_reply_error(s, req, 405, "method not allowed", detail);
}

static void propose_simple(server *s, http_request *req, uint8_t op, const char *key,
			   size_t klen, const void *val, size_t vlen)
{
	kv_command c;
	memset(&c, 0, sizeof c);
	c.op = op;
	c.key.p = (const uint8_t *)key;
	c.key.len = (uint32_t)klen;
	c.value.p = val;
	c.value.len = (uint32_t)vlen;
	api_propose(s, req, &c, RT_KIND_WRITE, key, klen);
}

/* {"from": string|null (absent = null), "to": string} */
static void kv_cas(server *s, http_request *req, const char *key, size_t klen)
{
	if (api_check_body(s, req) != 0)
		return;
	if (json_has_nul_escape(req->body, req->body_len)) {
		api_reply_error(s, req, 400, "bad value",
			    "NUL characters (\\u0000) are not accepted in JSON bodies; PUT the raw bytes instead.");
		return;
	}
	cJSON *o = json_parse_whole(req->body, req->body_len);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		api_reply_error(s, req, 400, "bad json", "The body must be {\"from\":string|null,\"to\":string}.");
		return;
	}
	const cJSON *from = cJSON_GetObjectItemCaseSensitive(o, "from");
	const cJSON *to = cJSON_GetObjectItemCaseSensitive(o, "to");
	if (!cJSON_IsString(to) || (from != NULL && !cJSON_IsNull(from) && !cJSON_IsString(from))) {
		cJSON_Delete(o);
		api_reply_error(s, req, 400, "bad cas", "\"to\" must be a string and \"from\" a string or null.");
		return;
	}
	kv_command c;
	memset(&c, 0, sizeof c);
	c.op = KV_OP_CAS;
	c.key.p = (const uint8_t *)key;
	c.key.len = (uint32_t)klen;
	c.value.p = (const uint8_t *)to->valuestring;
	c.value.len = (uint32_t)strlen(to->valuestring);
	c.from_present = cJSON_IsString(from);
	if (c.from_present) {
		c.from.p = (const uint8_t *)from->valuestring;
		c.from.len = (uint32_t)strlen(from->valuestring);
	}
	if (api_check_value(s, req, "\"to\" value", c.value.p, c.value.len) == 0 &&
	    api_check_value(s, req, "\"from\" value", c.from.p, c.from.len) == 0)
		api_propose(s, req, &c, RT_KIND_WRITE, key, klen);
	cJSON_Delete(o);
}

static void kv_key(server *s, http_request *req, const char *key, size_t klen)
{
	const char *m = req->method;
	if (strcmp(m, "GET") == 0) {
		/* Without an allocation (one malloc and free per read): the
		 * valid values are short words. A longer value is none of them,
		 * and "" makes api_read refuse it as it refuses any other. */
		char consistency[16];
		int rc = http_query_copy(req, "consistency", consistency, sizeof consistency);
		api_read(s, req, key, klen, rc == 0 ? consistency : rc == -3 ? "" : NULL);
		return;
	}
	if (api_check_key(s, req, key, klen) != 0)
		return;
	if (strcmp(m, "PUT") == 0) {
		if (api_check_value(s, req, "value", req->body, req->body_len) == 0)
			propose_simple(s, req, KV_OP_PUT, key, klen, req->body, req->body_len);
	} else if (strcmp(m, "DELETE") == 0) {
		propose_simple(s, req, KV_OP_DELETE, key, klen, NULL, 0);
	} else {
		method_not_allowed(s, req, "GET, PUT and DELETE");
	}
}

void api_kv(server *s, http_request *req, const char *rest)
{
	/* The last segment names the operation when it is cas or append;
	 * otherwise the whole rest is the key, so keys may contain '/' (as
	 * etcd's v2 keys do), spelled literally or as %2F. */
	const char *slash = strrchr(rest, '/');
	const char *op = slash != NULL ? slash + 1 : "";
	bool cas = strcmp(op, "cas") == 0;
	if (slash == NULL || (!cas && strcmp(op, "append") != 0)) {
		kv_key(s, req, rest, strlen(rest));
		return;
	}
	size_t klen = (size_t)(slash - rest);
	if (strcmp(req->method, "POST") != 0) {
		method_not_allowed(s, req, "POST");
		return;
	}
	if (api_check_key(s, req, rest, klen) != 0)
		return;
	if (cas) {
		kv_cas(s, req, rest, klen);
		return;
	}
	if (api_check_value(s, req, "value", req->body, req->body_len) == 0)
		propose_simple(s, req, KV_OP_APPEND, rest, klen, req->body, req->body_len);
}

void api_goraft_set(server *s, http_request *req)
{
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0) {
		method_not_allowed(s, req, "GET and POST");
		return;
	}
	char *key = NULL, *value = NULL;
	int kr = http_query_get(req, "key", &key);
	int vr = kr == 0 ? http_query_get(req, "value", &value) : -1;
	if (kr == -2 || vr == -2) {
		api_reply_error(s, req, 400, "bad parameter",
			    "A NUL byte (%00) is not accepted in a query parameter; PUT /kv/KEY takes any bytes.");
	} else if (kr != 0 || vr != 0) {
		api_reply_error(s, req, 400, "missing parameter", "/set needs key and value query parameters.");
	} else if (api_check_key(s, req, key, strlen(key)) == 0 &&
		   api_check_value(s, req, "value", value, strlen(value)) == 0) {
		propose_simple(s, req, KV_OP_PUT, key, strlen(key), value, strlen(value));
	}
	free(key);
	free(value);
}

void api_goraft_get(server *s, http_request *req)
{
	if (strcmp(req->method, "GET") != 0) {
		method_not_allowed(s, req, "GET");
		return;
	}
	char *key = NULL, *relaxed = NULL, *consistency = NULL;
	int kr = http_query_get(req, "key", &key);
	if (kr != 0) {
		api_reply_error(s, req, 400, kr == -2 ? "bad parameter" : "missing parameter",
			    kr == -2 ? "A NUL byte (%00) is not accepted in a query parameter."
				     : "/get needs a key query parameter.");
		return;
	}
	bool stale = http_query_get(req, "relaxed", &relaxed) == 0 && strcmp(relaxed, "true") == 0;
	int has = http_query_get(req, "consistency", &consistency) == 0;
	api_read(s, req, key, strlen(key), stale ? "stale" : has ? consistency : NULL);
	free(key);
	free(relaxed);
	free(consistency);
}
