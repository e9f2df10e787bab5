/*
 * agent.c — kill and start through the fault agents (contract section 4):
 * a node cannot restart itself after kill -9, its supervisor can.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

int ctl_agent(ctl *c, int argc, char **argv)
{
	if (argc != 2)
		return ctl_usage_error(argv[0], "expects N (a position in --agents)");
	const char *path = strcmp(argv[0], "kill") == 0 ? "/agent/kill" : "/agent/start";
	int i = ctl_index(argv[1], c->n_agents, "agent");
	if (i < 0)
		return CTL_USAGE;
	long st = ctl_request(c, c->agents[i], "POST", path, NULL, 1);
	if (st >= 200 && st < 300) {
		printf("node %d (%s): %s\n", i, c->agents[i], strcmp(argv[0], "kill") == 0 ? "killed"
											: "started");
		return CTL_OK;
	}
	char why[512];
	ctl_describe(c, st, why, sizeof why);
	fprintf(stderr, "raftkv-ctl: agent %d (%s): %s: %s\n", i, c->agents[i], path, why);
	return st > 0 ? CTL_FAILED : CTL_UNKNOWN;
}
