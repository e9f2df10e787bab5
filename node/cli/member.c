/*
 * member.c — `raftkv-ctl member list|add|remove|promote|replace`: the
 * membership changes of POST /admin/members (contract section 3).
 *
 * A change goes to each node in turn until one is the leader: a 503 ("not
 * leader") is the only answer that proves nothing was done, so only then is
 * the next node tried. `replace ID RAFT [HTTP]` is a remove, then an add of
 * the same id at the new address (the leader promotes it once caught up).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static int list(ctl *c)
{
	for (size_t i = 0; i < c->n_nodes; i++) {
		long st = ctl_request(c, c->nodes[i], "GET", "/admin/members", NULL, 0);
		if (st != 200)
			continue;
		cJSON *o = cJSON_Parse(http_call_body(&c->call));
		const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "members");
		if (!cJSON_IsArray(arr)) {
			cJSON_Delete(o);
			continue;
		}
		printf("%4s %-7s %-22s %-28s %s\n", "ID", "ROLE", "RAFT", "HTTP", "MATCH");
		const cJSON *m;
		cJSON_ArrayForEach(m, arr) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
			const cJSON *raft = cJSON_GetObjectItemCaseSensitive(m, "raft");
			const cJSON *http = cJSON_GetObjectItemCaseSensitive(m, "http");
			const cJSON *match = cJSON_GetObjectItemCaseSensitive(m, "match_index");
			char mbuf[24] = "-";
			if (cJSON_IsNumber(match))
				snprintf(mbuf, sizeof mbuf, "%.0f", match->valuedouble);
			printf("%4.0f %-7s %-22s %-28s %s\n", cJSON_IsNumber(id) ? id->valuedouble : -1,
			       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "voter")) ? "voter" : "learner",
			       cJSON_IsString(raft) ? raft->valuestring : "-",
			       cJSON_IsString(http) ? http->valuestring : "-", mbuf);
		}
		cJSON_Delete(o);
		return CTL_OK;
	}
	fprintf(stderr, "raftkv-ctl: member list: no node answered\n");
	return CTL_UNKNOWN;
}

/* POSTs body to the leader (found by trying the nodes in turn). */
static int change(ctl *c, const char *body)
{
	char why[256] = "no node answered";
	for (size_t i = 0; i < c->n_nodes; i++) {
		long st = ctl_request(c, c->nodes[i], "POST", "/admin/members", body, 1);
		if (st == 200)
			return CTL_OK;
		ctl_describe(c, st, why, sizeof why);
		if (st == 503 || (st == 0 && ctl_not_sent(c)))
			continue; /* not the leader, or never sent: nothing was done */
		fprintf(stderr, "raftkv-ctl: member: %s\n", why);
		return st >= 400 && st < 500 ? CTL_FAILED : CTL_UNKNOWN;
	}
	fprintf(stderr, "raftkv-ctl: member: %s\n", why);
	return CTL_UNKNOWN;
}

static int parse_id(const char *s, unsigned long *id)
{
	char *end;
	*id = strtoul(s, &end, 10);
	return s[0] >= '0' && s[0] <= '9' && *end == '\0' && *id < 0xffffffffUL ? 0 : -1;
}

/* {"op":op,"id":id[,"raft":..,"http":..]} with the addresses JSON-escaped. */
static char *body_of(const char *op, unsigned long id, const char *raft, const char *http)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o != NULL && cJSON_AddStringToObject(o, "op", op) &&
		  cJSON_AddNumberToObject(o, "id", (double)id) &&
		  (raft == NULL || cJSON_AddStringToObject(o, "raft", raft)) &&
		  (http == NULL || cJSON_AddStringToObject(o, "http", http));
	char *text = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	return text;
}

int ctl_member(ctl *c, int argc, char **argv)
{
	static const char *const use =
		"list | add ID RAFTADDR [HTTPADDR] | remove ID | promote ID | replace ID RAFTADDR [HTTPADDR]";
	if (argc < 2)
		return ctl_usage_error("member", use);
	const char *sub = argv[1];
	if (strcmp(sub, "list") == 0)
		return argc == 2 ? list(c) : ctl_usage_error("member", use);
	unsigned long id;
	bool with_addr = strcmp(sub, "add") == 0 || strcmp(sub, "replace") == 0;
	bool plain = strcmp(sub, "remove") == 0 || strcmp(sub, "promote") == 0;
	if ((!with_addr && !plain) || argc < 3 || parse_id(argv[2], &id) != 0 ||
	    (plain && argc != 3) || (with_addr && (argc < 4 || argc > 5)))
		return ctl_usage_error("member", use);
	const char *raft = with_addr ? argv[3] : NULL, *http = argc == 5 ? argv[4] : NULL;
	int rc = CTL_OK;
	if (strcmp(sub, "replace") == 0) {
		char *b = body_of("remove", id, NULL, NULL);
		rc = b != NULL ? change(c, b) : CTL_UNKNOWN;
		free(b);
		if (rc != CTL_OK)
			return rc;
		sub = "add";
	}
	char *b = body_of(sub, id, raft, http);
	if (b == NULL) {
		fprintf(stderr, "raftkv-ctl: out of memory\n");
		return CTL_UNKNOWN;
	}
	rc = change(c, b);
	free(b);
	return rc;
}
