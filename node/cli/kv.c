/*
 * kv.c — get, put, del, cas, append against the client API (contract
 * section 2). Any node serves any request, so the first node is asked first;
 * the next one only when the request provably did not happen there
 * (connection refused, 503 "not proposed"), or for reads, which change
 * nothing. A write that may have happened is never retried: it is reported
 * as an unknown outcome (exit 3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

typedef struct kv_cmd {
	const char *name;
	int nargs;           /* after the command name */
	const char *method;
	const char *suffix;  /* after /kv/KEY */
} kv_cmd;

static const kv_cmd cmds[] = {
	{"get", 1, "GET", ""},
	{"put", 2, "PUT", ""},
	{"del", 1, "DELETE", ""},
	{"cas", 3, "POST", "/cas"},
	{"append", 2, "POST", "/append"},
};

/* {"from":FROM,"to":TO}; FROM "-" = absent (null). malloc'd or NULL. */
static char *cas_body(const char *from, const char *to)
{
	cJSON *o = cJSON_CreateObject();
	int bad = o == NULL;
	bad |= (strcmp(from, "-") == 0 ? cJSON_AddNullToObject(o, "from")
				       : cJSON_AddStringToObject(o, "from", from)) == NULL;
	bad |= cJSON_AddStringToObject(o, "to", to) == NULL;
	char *s = bad ? NULL : cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* The answer of a successful request, or of a definite refusal. */
static int report(ctl *c, const kv_cmd *k, const char *key, long st)
{
	cJSON *j = cJSON_Parse(http_call_body(&c->call));
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "value");
	int rc;
	char why[512];
	if (strcmp(k->name, "get") == 0 && st == 200 && cJSON_IsString(v)) {
		printf("%s\n", v->valuestring);
		rc = CTL_OK;
	} else if (strcmp(k->name, "get") == 0 && st == 404 && cJSON_IsNull(v)) {
		fprintf(stderr, "raftkv-ctl: %s: absent\n", key);
		rc = CTL_FAILED;
	} else if (st >= 200 && st < 300 && strcmp(k->name, "get") != 0) {
		const cJSON *idx = cJSON_GetObjectItemCaseSensitive(j, "index");
		if (cJSON_IsNumber(idx))
			printf("OK (index %.0f)\n", idx->valuedouble);
		else
			printf("OK\n");
		rc = CTL_OK;
	} else if (st == 409 && strcmp(k->name, "cas") == 0) {
		if (cJSON_IsString(v))
			fprintf(stderr, "raftkv-ctl: cas mismatch: %s is \"%s\"\n", key, v->valuestring);
		else if (cJSON_IsNull(v))
			fprintf(stderr, "raftkv-ctl: cas mismatch: %s is absent\n", key);
		else
			fprintf(stderr, "raftkv-ctl: cas mismatch\n");
		rc = CTL_FAILED;
	} else if ((st >= 400 && st < 500) || st == 503) {
		/* 4xx and 503: refused before proposing, definitely not applied. */
		ctl_describe(c, st, why, sizeof why);
		fprintf(stderr, "raftkv-ctl: %s %s: refused: %s\n", k->name, key, why);
		rc = CTL_FAILED;
	} else if (st == 200) {
		fprintf(stderr, "raftkv-ctl: %s %s: unexpected answer: %s\n", k->name, key,
			http_call_body(&c->call));
		rc = CTL_UNKNOWN;
	} else {
		/* 504 and other 5xx: it may have been applied. */
		ctl_describe(c, st, why, sizeof why);
		fprintf(stderr, "raftkv-ctl: %s %s: outcome unknown: %s\n", k->name, key, why);
		rc = strcmp(k->name, "get") == 0 ? CTL_FAILED : CTL_UNKNOWN;
	}
	cJSON_Delete(j);
	return rc;
}

int ctl_kv(ctl *c, int argc, char **argv)
{
	const kv_cmd *k = NULL;
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			k = &cmds[i];
	if (k == NULL)
		return ctl_usage_error(argv[0], "unknown command");
	if (argc - 1 != k->nargs)
		return ctl_usage_error(k->name, k->nargs == 1   ? "expects KEY"
						: k->nargs == 2 ? "expects KEY VALUE"
								: "expects KEY FROM TO");
	const char *key = argv[1];
	if (key[0] == '\0')
		return ctl_usage_error(k->name, "empty key");

	char *body = NULL;
	const char *send = NULL;
	if (strcmp(k->name, "cas") == 0) {
		body = cas_body(argv[2], argv[3]);
		if (body == NULL)
			goto oom;
		send = body;
	} else if (k->nargs >= 2) {
		send = argv[2];
	}
	/* Keys travel percent-encoded: any byte is allowed in a key. */
	char *esc = curl_easy_escape(NULL, key, 0);
	if (esc == NULL)
		goto oom;
	size_t plen = strlen(esc) + strlen(k->suffix) + 8;
	char *path = malloc(plen);
	if (path == NULL) {
		curl_free(esc);
		goto oom;
	}
	snprintf(path, plen, "/kv/%s%s", esc, k->suffix);
	curl_free(esc);

	int is_read = strcmp(k->name, "get") == 0;
	int rc = CTL_UNKNOWN;
	char why[512] = "no nodes";
	for (size_t i = 0; i < c->n_nodes; i++) {
		long st = ctl_request(c, c->nodes[i], k->method, path, send,
				      strcmp(k->name, "cas") == 0);
		if (st < 0)
			goto oom_path;
		int retry = st == 503 || (st == 0 && (is_read || ctl_not_sent(c)));
		if (retry && i + 1 < c->n_nodes) {
			ctl_describe(c, st, why, sizeof why);
			fprintf(stderr, "raftkv-ctl: %s: %s; trying the next node\n", c->nodes[i], why);
			continue;
		}
		if (st == 0) {
			ctl_describe(c, st, why, sizeof why);
			if (is_read || ctl_not_sent(c))
				fprintf(stderr, "raftkv-ctl: %s %s: no node answered (last: %s)\n",
					k->name, key, why);
			else
				fprintf(stderr, "raftkv-ctl: %s %s: outcome unknown: %s: %s\n", k->name,
					key, c->nodes[i], why);
			rc = CTL_UNKNOWN;
			break;
		}
		rc = report(c, k, key, st);
		break;
	}
	free(path);
	free(body);
	return rc;
oom_path:
	free(path);
oom:
	free(body);
	fprintf(stderr, "raftkv-ctl: out of memory\n");
	return CTL_UNKNOWN;
}
