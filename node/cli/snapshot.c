/*
 * snapshot.c — `raftkv-ctl snapshot [N|all]`: POST /admin/snapshot to node N
 * (or to every node), which answers once a snapshot of everything it has
 * applied is durable: {"index":n}. Prints one line per node.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static int one(ctl *c, size_t i)
{
	long st = ctl_request(c, c->nodes[i], "POST", "/admin/snapshot", "", 1);
	if (st != 200) {
		char why[256];
		ctl_describe(c, st, why, sizeof why);
		fprintf(stderr, "raftkv-ctl: snapshot: node %zu: %s\n", i, why);
		return st == 0 ? CTL_UNKNOWN : CTL_FAILED;
	}
	cJSON *o = cJSON_Parse(http_call_body(&c->call));
	const cJSON *idx = cJSON_GetObjectItemCaseSensitive(o, "index");
	int rc = CTL_OK;
	if (cJSON_IsNumber(idx)) {
		printf("node %zu: snapshot at index %.0f\n", i, idx->valuedouble);
	} else {
		fprintf(stderr, "raftkv-ctl: snapshot: node %zu: unexpected answer\n", i);
		rc = CTL_FAILED;
	}
	cJSON_Delete(o);
	return rc;
}

int ctl_snapshot(ctl *c, int argc, char **argv)
{
	if (argc > 2)
		return ctl_usage_error("snapshot", "usage: snapshot [N|all]");
	if (argc == 2 && strcmp(argv[1], "all") != 0) {
		int i = ctl_index(argv[1], c->n_nodes, "node");
		if (i < 0)
			return CTL_USAGE;
		return one(c, (size_t)i);
	}
	int worst = CTL_OK;
	for (size_t i = 0; i < c->n_nodes; i++) {
		int rc = one(c, i);
		if (rc > worst && rc != CTL_USAGE)
			worst = rc;
	}
	return worst;
}
