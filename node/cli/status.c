/*
 * status.c — `raftkv-ctl status`: GET /admin/status from every node, one
 * table row each, so a split brain or a lagging node shows at a glance.
 * `status --json` prints the raw objects instead, as one JSON array
 * (unreachable nodes as null), for scripts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* A number or null field as text: "12" or "-". */
static const char *num(const cJSON *o, const char *name, char *buf, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (cJSON_IsNumber(v))
		snprintf(buf, len, "%.0f", v->valuedouble);
	else if (cJSON_IsString(v))
		snprintf(buf, len, "%s", v->valuestring);
	else
		snprintf(buf, len, "-");
	return buf;
}

/* Names of the members of obj that are switched on (any value other than
 * false/null), comma-separated; "-" when none. */
static const char *names_on(const cJSON *o, const char *name, char *buf, size_t len)
{
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(o, name);
	size_t used = 0;
	buf[0] = '\0';
	const cJSON *m;
	cJSON_ArrayForEach(m, obj) {
		if (cJSON_IsFalse(m) || cJSON_IsNull(m) || m->string == NULL)
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", m->string);
		if (n < 0 || (size_t)n >= len - used) {
			/* Too many to list: say so rather than cut a name in half. */
			snprintf(buf, len, "(many)");
			return buf;
		}
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(buf, len, "-");
	return buf;
}

static int status_json(ctl *c)
{
	cJSON *arr = cJSON_CreateArray();
	size_t up = 0;
	if (arr == NULL)
		goto oom;
	for (size_t i = 0; i < c->n_nodes; i++) {
		long st;
		cJSON *s = ctl_status_of(c, i, &st);
		up += s != NULL;
		if (s == NULL)
			s = cJSON_CreateNull();
		if (s == NULL || !cJSON_AddItemToArray(arr, s)) {
			cJSON_Delete(s);
			goto oom;
		}
	}
	char *text = cJSON_Print(arr);
	cJSON_Delete(arr);
	if (text == NULL)
		goto oom_only;
	printf("%s\n", text);
	free(text);
	return up == c->n_nodes ? CTL_OK : up == 0 ? CTL_UNKNOWN : CTL_FAILED;
oom:
	cJSON_Delete(arr);
oom_only:
	fprintf(stderr, "raftkv-ctl: out of memory\n");
	return CTL_UNKNOWN;
}

int ctl_status(ctl *c, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		return status_json(c);
	if (argc != 1)
		return ctl_usage_error("status", "takes no arguments but --json");
	int w = 4;
	for (size_t i = 0; i < c->n_nodes; i++)
		if ((int)strlen(c->nodes[i]) > w)
			w = (int)strlen(c->nodes[i]);
	printf("%-*s %4s %-9s %6s %6s %8s %8s %8s  %-18s %s\n", w, "NODE", "ID", "ROLE", "TERM",
	       "LEADER", "COMMIT", "APPLIED", "LAST", "FAULTS", "BUGS");
	size_t up = 0;
	for (size_t i = 0; i < c->n_nodes; i++) {
		long st;
		cJSON *s = ctl_status_of(c, i, &st);
		if (s == NULL) {
			char why[256];
			if (st == 200)
				snprintf(why, sizeof why, "status is not JSON");
			else
				ctl_describe(c, st, why, sizeof why);
			printf("%-*s unreachable (%s)\n", w, c->nodes[i], why);
			continue;
		}
		up++;
		char id[24], role[24], term[24], leader[24], commit[24], applied[24], last[24];
		char faults[128], bugs[128];
		printf("%-*s %4s %-9s %6s %6s %8s %8s %8s  %-18s %s\n", w, c->nodes[i],
		       num(s, "id", id, sizeof id), num(s, "role", role, sizeof role),
		       num(s, "term", term, sizeof term), num(s, "leader", leader, sizeof leader),
		       num(s, "commit_index", commit, sizeof commit),
		       num(s, "applied_index", applied, sizeof applied),
		       num(s, "last_log_index", last, sizeof last),
		       names_on(s, "faults", faults, sizeof faults),
		       names_on(s, "bugs", bugs, sizeof bugs));
		cJSON_Delete(s);
	}
	return up == c->n_nodes ? CTL_OK : up == 0 ? CTL_UNKNOWN : CTL_FAILED;
}
