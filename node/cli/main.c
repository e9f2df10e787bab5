/*
 * raftkv-ctl — poke a running cluster: read and write keys, show every
 * node's Raft state, inject and heal faults. See --help.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static const char usage[] =
	"usage: raftkv-ctl [--nodes URLS] [--agents URLS] [--token T] [--timeout-ms MS]\n"
	"                  COMMAND [ARGS]\n"
	"\n"
	"keys (any node serves any request; the next node is tried only when the\n"
	"first provably did nothing):\n"
	"  get KEY                  print the value (exit 1 if absent)\n"
	"  put KEY VALUE            set\n"
	"  del KEY                  delete\n"
	"  cas KEY FROM TO          set to TO if the value is FROM (\"-\" = absent);\n"
	"                           exit 1 on mismatch\n"
	"  append KEY VALUE         append VALUE to the value (absent counts as \"\")\n"
	"cluster:\n"
	"  status [--json]          role, term, leader, indexes, faults, bugs of every node\n"
	"  member list              members: id, voter or learner, addresses, match index\n"
	"  member add ID RAFT [HTTP]  add a learner (promoted by the leader once caught up)\n"
	"  member remove ID | member promote ID\n"
	"  member replace ID RAFT [HTTP]  remove ID, then add it back at the new address\n"
	"  snapshot [N|all]         node N (default all) writes a snapshot now; prints its index\n"
	"faults (N = position in --nodes, which is the node id with the defaults;\n"
	"        MS = optional duration after which the node heals itself):\n"
	"  partition GROUPS [MS]    e.g. 0,1/2: node ids, ',' within, '/' between groups\n"
	"  isolate-leader [MS]      partition the current leader alone\n"
	"  pause N [MS]             node N stops all Raft and client work\n"
	"  resume N\n"
	"  clock N SPEC [MS]        SPEC: +2000ms | -500ms | freeze | rate=R | strobe=D/P\n"
	"  heal                     DELETE /admin/faults on every node\n"
	"  bugs N|all NAME=on|off.. e.g. stale_reads=on; 'bugs N off' clears them all\n"
	"  kill N                   SIGKILL node N through its agent\n"
	"  start N                  start it again through its agent\n"
	"\n"
	"  --nodes URLS     client/admin endpoints (env RAFTKV_NODES; default\n"
	"                   http://127.0.0.1:2020,http://127.0.0.1:2021,http://127.0.0.1:2022)\n"
	"  --agents URLS    agent endpoints, same order (env RAFTKV_AGENTS; default\n"
	"                   http://127.0.0.1:2040,http://127.0.0.1:2041,http://127.0.0.1:2042)\n"
	"  --token T        admin bearer token (env RAFTKV_TOKEN)\n"
	"  --timeout-ms MS  per request (default 5000)\n"
	"\n"
	"exit: 0 ok, 1 the operation failed (mismatch, absent, refused), 2 usage,\n"
	"      3 cluster unreachable or outcome unknown\n";

static int set_urls(const char *what, const char *list, char ***urls, size_t *n)
{
	http_urls_free(*urls);
	*urls = http_urls_parse(list, n);
	if (*urls == NULL) {
		fprintf(stderr, "raftkv-ctl: bad --%s '%s': expected comma-separated URLs\n", what,
			list);
		return -1;
	}
	for (size_t i = 0; i < *n; i++)
		if (strncmp((*urls)[i], "http://", 7) != 0) {
			fprintf(stderr, "raftkv-ctl: bad --%s '%s': URLs start with http://\n", what,
				(*urls)[i]);
			return -1;
		}
	return 0;
}

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v != NULL && v[0] != '\0' ? v : fallback;
}

static int dispatch(ctl *c, int argc, char **argv)
{
	const char *cmd = argv[0];
	if (strcmp(cmd, "get") == 0 || strcmp(cmd, "put") == 0 || strcmp(cmd, "del") == 0 ||
	    strcmp(cmd, "cas") == 0 || strcmp(cmd, "append") == 0)
		return ctl_kv(c, argc, argv);
	if (strcmp(cmd, "status") == 0)
		return ctl_status(c, argc, argv);
	if (strcmp(cmd, "kill") == 0 || strcmp(cmd, "start") == 0)
		return ctl_agent(c, argc, argv);
	if (strcmp(cmd, "member") == 0)
		return ctl_member(c, argc, argv);
	if (strcmp(cmd, "snapshot") == 0)
		return ctl_snapshot(c, argc, argv);
	if (strcmp(cmd, "partition") == 0 || strcmp(cmd, "isolate-leader") == 0 ||
	    strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0 ||
	    strcmp(cmd, "clock") == 0 || strcmp(cmd, "heal") == 0 || strcmp(cmd, "bugs") == 0)
		return ctl_faults(c, argc, argv);
	fprintf(stderr, "raftkv-ctl: unknown command '%s' (see raftkv-ctl --help)\n", cmd);
	return CTL_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"nodes", required_argument, NULL, 'n'},
		{"agents", required_argument, NULL, 'a'},
		{"token", required_argument, NULL, 't'},
		{"timeout-ms", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	ctl c;
	memset(&c, 0, sizeof c);
	c.timeout_ms = 5000;
	c.token = getenv("RAFTKV_TOKEN");
	int rc = CTL_USAGE;

	if (set_urls("nodes", env_or("RAFTKV_NODES", "http://127.0.0.1:2020,http://127.0.0.1:2021,"
						     "http://127.0.0.1:2022"),
		     &c.nodes, &c.n_nodes) != 0 ||
	    set_urls("agents", env_or("RAFTKV_AGENTS", "http://127.0.0.1:2040,"
						       "http://127.0.0.1:2041,http://127.0.0.1:2042"),
		     &c.agents, &c.n_agents) != 0)
		goto out;

	/* "+" stops at the first non-option: the command's own arguments may
	 * start with '-' (cas KEY - new, clock 0 -500ms). */
	opterr = 0;
	int o;
	while ((o = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (o) {
		case 'n':
			if (set_urls("nodes", optarg, &c.nodes, &c.n_nodes) != 0)
				goto out;
			break;
		case 'a':
			if (set_urls("agents", optarg, &c.agents, &c.n_agents) != 0)
				goto out;
			break;
		case 't':
			c.token = optarg;
			break;
		case 'T': {
			char *end;
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || v <= 0) {
				fprintf(stderr, "raftkv-ctl: bad --timeout-ms '%s'\n", optarg);
				goto out;
			}
			c.timeout_ms = v;
			break;
		}
		case 'h':
			fputs(usage, stdout);
			rc = CTL_OK;
			goto out;
		default:
			fprintf(stderr, "raftkv-ctl: unknown or incomplete option '%s' "
					"(see raftkv-ctl --help)\n", argv[optind - 1]);
			goto out;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		goto out;
	}
	if (http_client_init() != 0) {
		fprintf(stderr, "raftkv-ctl: cannot initialise libcurl\n");
		rc = CTL_UNKNOWN;
		goto out;
	}
	rc = dispatch(&c, argc - optind, argv + optind);
	http_call_free(&c.call);
	http_client_cleanup();
out:
	if (fflush(stdout) != 0 && rc == CTL_OK)
		rc = CTL_UNKNOWN; /* e.g. stdout is a full disk: the value was not delivered */
	http_urls_free(c.nodes);
	http_urls_free(c.agents);
	return rc;
}
