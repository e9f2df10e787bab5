/* classify.c — HTTP answer → ok/fail/info (see classify.h). */
#include "classify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

const char *const wl_outcome_name[OUT_COUNT] = {"ok", "fail", "info"};

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

/* The node's own words ("error" of the JSON body) when it gave any, so the
 * history says why; otherwise "http NNN". */
static char *error_words(long status, const cJSON *json)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(json, "error");
	if (cJSON_IsString(e) && e->valuestring[0] != '\0')
		return dup_str(e->valuestring);
	char buf[32];
	snprintf(buf, sizeof buf, "http %ld", status);
	return dup_str(buf);
}

/* A 200/404 read answer: {"key":k,"value":v} with v a string or null.
 * 0 with r->value set (NULL = absent), or -1 if the body is not that. */
static int read_value(const cJSON *json, wl_result *r, int *oom)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, "value");
	if (cJSON_IsNull(v)) {
		r->value = NULL;
		return 0;
	}
	if (!cJSON_IsString(v))
		return -1;
	r->value = dup_str(v->valuestring);
	if (r->value == NULL)
		*oom = 1;
	return 0;
}

static int set_error(wl_result *r, int type, const char *words)
{
	r->type = type;
	r->error = dup_str(words);
	return r->error ? 0 : -1;
}

int wl_classify(int f, long status, const char *body, const char *transport_err,
		int not_sent, wl_result *r)
{
	memset(r, 0, sizeof *r);
	int is_read = f == F_READ;

	if (status == 0) {
		/* No answer. A read changed nothing; anything else may have been
		 * proposed before the connection died or the clock ran out. */
		const char *why = transport_err && transport_err[0] ? transport_err
								    : "no response";
		if (strstr(why, "imed out") != NULL)
			why = "timeout";
		if (not_sent)
			why = "connection refused";
		return set_error(r, is_read || not_sent ? OUT_FAIL : OUT_INFO, why);
	}

	cJSON *json = cJSON_Parse(body);  /* NULL for non-JSON bodies: fine */
	int rc = 0, oom = 0;

	if (is_read) {
		/* 404 is "absent" only with the KV body; an unknown path also
		 * answers 404 but without a "value" field. */
		if ((status == 200 || status == 404) && json != NULL &&
		    cJSON_GetObjectItemCaseSensitive(json, "value") != NULL &&
		    (status == 200 || cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(json, "value"))) &&
		    read_value(json, r, &oom) == 0) {
			r->type = OUT_OK;
		} else if (status == 200) {
			r->type = OUT_FAIL;
			r->error = dup_str("bad read body");
			oom = r->error == NULL;
		} else {
			r->type = OUT_FAIL;
			r->error = error_words(status, json);
			oom = r->error == NULL;
		}
	} else if (status >= 200 && status < 300) {
		r->type = OUT_OK;
	} else if (status == 409 && f == F_CAS) {
		r->type = OUT_FAIL;
		r->error = dup_str("mismatch");
		oom = r->error == NULL;
		/* The contract names the field "value"; accept "current" too. */
		const cJSON *cur = cJSON_GetObjectItemCaseSensitive(json, "value");
		if (cur == NULL)
			cur = cJSON_GetObjectItemCaseSensitive(json, "current");
		if (cJSON_IsString(cur) || cJSON_IsNull(cur)) {
			r->current = cJSON_Duplicate(cur, 1);
			oom |= r->current == NULL;
		}
	} else if (status >= 400 && status < 500) {
		/* 400/413 bad input, 404/405 wrong path/method, 409 on anything
		 * but cas: all rejected before proposing. */
		r->type = OUT_FAIL;
		r->error = error_words(status, json);
		oom = r->error == NULL;
	} else if (status == 503) {
		/* Not proposed (no leader): definitely not applied. */
		r->type = OUT_FAIL;
		r->error = error_words(status, json);
		oom = r->error == NULL;
	} else {
		/* 504 and every other status: the write may have committed. */
		r->type = OUT_INFO;
		r->error = error_words(status, json);
		oom = r->error == NULL;
	}
	cJSON_Delete(json);
	if (oom) {
		wl_result_free(r);
		rc = -1;
	}
	return rc;
}

int wl_result_mismatch(const wl_result *r)
{
	return r->type == OUT_FAIL && r->error != NULL && strcmp(r->error, "mismatch") == 0;
}

void wl_result_free(wl_result *r)
{
	free(r->value);
	free(r->error);
	cJSON_Delete(r->current);
	memset(r, 0, sizeof *r);
}
