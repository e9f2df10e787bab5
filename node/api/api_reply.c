/* http_reply.c — response helpers (see api_reply.h). */
#include "api_reply.h"

#include <stdio.h>
#include <string.h>

#include "json_out.h"

void api_reply_body(server *s, http_request *req, int status, const char *ctype,
		const void *body, size_t len)
{
	if (status >= 500)
		s->metrics.responses_5xx++;
	http_respond(req, status, ctype, body, len);
	/* http_respond copied the body: a burst of large values must not pin
	 * the scratch buffer at its peak size (every builder resets len). */
	s->out.len = 0;
	bytebuf_shrink(&s->out, 64u << 10);
}

void api_reply_out(server *s, http_request *req, int status)
{
	api_reply_body(s, req, status, NULL, s->out.data, s->out.len);
}

/* Writes the error body into s->out. On ENOMEM a fixed body is used. */
static const char *error_body(server *s, const char *error, const char *detail, size_t *len)
{
	bytebuf *b = &s->out;
	b->len = 0;
	if (json_raw(b, "{\"error\":") == 0 && json_cstr(b, error) == 0 &&
	    json_raw(b, ",\"detail\":") == 0 && json_cstr(b, detail) == 0 && json_raw(b, "}") == 0) {
		*len = b->len;
		return (const char *)b->data;
	}
	static const char oom[] = "{\"error\":\"out of memory\",\"detail\":\"The node could not build the answer.\"}";
	*len = sizeof oom - 1;
	return oom;
}

void api_reply_error(server *s, http_request *req, int status, const char *error, const char *detail)
{
	size_t len;
	const char *body = error_body(s, error, detail, &len);
	api_reply_body(s, req, status, NULL, body, len);
}

void api_reply_not_leader(server *s, http_request *req, const char *action)
{
	char detail[200];
	if (s->leader == RAFT_NONE)
		snprintf(detail, sizeof detail, "Only the leader %s, and no leader is known.", action);
	else
		snprintf(detail, sizeof detail, "Only the leader %s; send this to node %u.", action, s->leader);
	api_reply_error(s, req, 503, "not leader", detail);
}

void api_out_value(server *s, const void *key, size_t klen, bool found, const void *val, size_t vlen)
{
	bytebuf *b = &s->out;
	b->len = 0;
	if (json_lit(b, "{\"key\":") != 0 || json_str(b, key, klen) != 0 ||
	    json_lit(b, ",\"value\":") != 0 ||
	    (found ? json_str(b, val, vlen) : json_lit(b, "null")) != 0 || json_lit(b, "}") != 0)
		b->len = 0; /* an empty body on ENOMEM; the status still tells */
}

void api_out_index(server *s, const void *key, size_t klen, uint64_t index)
{
	bytebuf *b = &s->out;
	b->len = 0;
	if (json_lit(b, "{\"key\":") != 0 || json_str(b, key, klen) != 0 ||
	    json_lit(b, ",\"index\":") != 0 || json_u64(b, index) != 0 || json_lit(b, "}") != 0)
		b->len = 0;
}

void api_reply_local_read(server *s, http_request *req, const char *key, size_t klen)
{
	const uint8_t *v = NULL;
	size_t vlen = 0;
	bool found = kv_store_get(rt_kv(s->rt)->store, (const uint8_t *)key, klen, &v, &vlen);
	api_out_value(s, key, klen, found, v, vlen);
	api_reply_out(s, req, found ? 200 : 404);
}
