/* ctl_http.c — request helpers shared by the commands (see ctl.h). */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long ctl_request(ctl *c, const char *base, const char *method, const char *path,
		 const char *body, int json)
{
	size_t n = strlen(base) + strlen(path) + 1;
	char *url = malloc(n);
	if (url == NULL)
		return -1;
	snprintf(url, n, "%s%s", base, path);
	long st = -1;
	if (http_call_setup(&c->call, method, url, c->token, body, body ? strlen(body) : 0, json,
			    c->timeout_ms) == 0) {
		c->last_rc = curl_easy_perform(c->call.easy);
		st = http_call_finish(&c->call, c->last_rc);
	}
	free(url);
	return st;
}

int ctl_not_sent(const ctl *c)
{
	return c->last_rc == CURLE_COULDNT_CONNECT || c->last_rc == CURLE_COULDNT_RESOLVE_HOST;
}

void ctl_describe(const ctl *c, long status, char *buf, size_t len)
{
	if (status <= 0) {
		snprintf(buf, len, "no answer: %s",
			 c->call.errbuf[0] ? c->call.errbuf : "unknown error");
		return;
	}
	cJSON *j = cJSON_Parse(http_call_body(&c->call));
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "detail");
	if (cJSON_IsString(e) && cJSON_IsString(d))
		snprintf(buf, len, "http %ld: %s (%s)", status, e->valuestring, d->valuestring);
	else if (cJSON_IsString(e))
		snprintf(buf, len, "http %ld: %s", status, e->valuestring);
	else
		snprintf(buf, len, "http %ld", status);
	cJSON_Delete(j);
}

int ctl_index(const char *arg, size_t count, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < 0 || (size_t)v >= count) {
		if (count == 0)
			fprintf(stderr, "raftkv-ctl: no %s endpoints configured\n", what);
		else
			fprintf(stderr, "raftkv-ctl: %s '%s' out of range 0..%zu\n", what, arg,
				count - 1);
		return -1;
	}
	return (int)v;
}

int ctl_usage_error(const char *cmd, const char *msg)
{
	fprintf(stderr, "raftkv-ctl %s: %s (see raftkv-ctl --help)\n", cmd, msg);
	return CTL_USAGE;
}

cJSON *ctl_status_of(ctl *c, size_t i, long *status)
{
	*status = ctl_request(c, c->nodes[i], "GET", "/admin/status", NULL, 0);
	if (*status != 200)
		return NULL;
	return cJSON_Parse(http_call_body(&c->call));
}
