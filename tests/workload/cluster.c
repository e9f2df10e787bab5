/* cluster.c — admin and agent calls (see cluster.h). */
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

static long call_url(http_call *c, const wl_options *o, const char *base,
		     const char *method, const char *path, const char *body)
{
	size_t n = strlen(base) + strlen(path) + 1;
	char *url = malloc(n);
	if (url == NULL)
		return -1;
	snprintf(url, n, "%s%s", base, path);
	long st = http_call_run(c, method, url, o->token, body, body ? strlen(body) : 0, 1,
				CLUSTER_ADMIN_TIMEOUT_MS);
	free(url);
	return st;
}

long cluster_admin(http_call *c, const wl_options *o, size_t i, const char *method,
		   const char *path, const char *body)
{
	return call_url(c, o, o->nodes[i], method, path, body);
}

long cluster_agent(http_call *c, const wl_options *o, size_t i, const char *method,
		   const char *path, const char *body)
{
	if (o->agents == NULL || i >= o->n_agents)
		return 0;
	return call_url(c, o, o->agents[i], method, path, body);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	/* An interrupted sleep only shortens one poll interval. */
	(void)nanosleep(&ts, NULL);
}

int cluster_wait_ready(http_call *c, const wl_options *o, double timeout_s, int loud)
{
	uint64_t deadline = wl_now() + (uint64_t)(timeout_s * 1e9);
	for (;;) {
		size_t ready = 0;
		for (size_t i = 0; i < o->n_nodes; i++)
			ready += cluster_admin(c, o, i, "GET", "/readyz", NULL) == 200;
		if (ready == o->n_nodes)
			return 0;
		if (wl_now() >= deadline)
			break;
		sleep_ms(200);
	}
	if (loud) {
		for (size_t i = 0; i < o->n_nodes; i++) {
			long st = cluster_admin(c, o, i, "GET", "/readyz", NULL);
			if (st != 200)
				fprintf(stderr, "raftkv-workload: %s not ready: %s\n", o->nodes[i],
					st > 0 ? "readyz answered non-200"
					       : c->errbuf[0] ? c->errbuf : "no answer");
		}
	}
	return -1;
}

int cluster_key_absent(http_call *c, const wl_options *o, const char *key)
{
	size_t n = strlen(key) + 48;
	char *path = malloc(n);
	if (path == NULL)
		return -1;
	snprintf(path, n, "/kv/%s?consistency=linearizable", key);
	int rc = -1;
	for (size_t i = 0; i < o->n_nodes && rc < 0; i++) {
		long st = cluster_admin(c, o, i, "GET", path, NULL);
		if (st == 200)
			rc = 0;
		else if (st == 404 && strstr(http_call_body(c), "\"value\"") != NULL)
			rc = 1;
	}
	free(path);
	return rc;
}

/* GET /admin/status of node i, parsed; NULL when unreachable or not JSON. */
static cJSON *status_of(http_call *c, const wl_options *o, size_t i)
{
	if (cluster_admin(c, o, i, "GET", "/admin/status", NULL) != 200)
		return NULL;
	return cJSON_Parse(http_call_body(c));
}

void cluster_node_ids(http_call *c, const wl_options *o, int *ids)
{
	for (size_t i = 0; i < o->n_nodes; i++) {
		ids[i] = (int)i;
		cJSON *s = status_of(c, o, i);
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(s, "id");
		if (cJSON_IsNumber(id))
			ids[i] = id->valueint;
		cJSON_Delete(s);
	}
}

int cluster_find_leader(http_call *c, const wl_options *o, const int *ids)
{
	int best = -1, named = -1;
	double best_term = -1, named_term = -1;
	for (size_t i = 0; i < o->n_nodes; i++) {
		cJSON *s = status_of(c, o, i);
		if (s == NULL)
			continue;
		const cJSON *role = cJSON_GetObjectItemCaseSensitive(s, "role");
		const cJSON *term = cJSON_GetObjectItemCaseSensitive(s, "term");
		const cJSON *leader = cJSON_GetObjectItemCaseSensitive(s, "leader");
		double t = cJSON_IsNumber(term) ? term->valuedouble : 0;
		if (cJSON_IsString(role) && strcmp(role->valuestring, "leader") == 0 &&
		    t > best_term) {
			best = (int)i;
			best_term = t;
		}
		if (cJSON_IsNumber(leader) && t > named_term) {
			for (size_t j = 0; j < o->n_nodes; j++)
				if (ids[j] == leader->valueint) {
					named = (int)j;
					named_term = t;
				}
		}
		cJSON_Delete(s);
	}
	return best >= 0 ? best : named;
}
