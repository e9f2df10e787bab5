/*
 * main.c — raftkv: one node of a Raft-replicated key-value store.
 * Parses the command line (node/server/config.c) and runs the node
 * (node/server/server.c) until SIGTERM or SIGINT.
 */
#include <signal.h>
#include <stdio.h>

#include "server/config.h"
#include "server/server.h"

int main(int argc, char **argv)
{
	/* A peer or client that hangs up must not kill the node: writes to a
	 * closed socket fail with EPIPE, which libuv reports per handle. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		fprintf(stderr, "raftkv: cannot ignore SIGPIPE\n");
		return 1;
	}
	node_config cfg;
	char err[512];
	if (config_parse(argc, argv, &cfg, err, sizeof err) != 0) {
		fprintf(stderr, "raftkv: %s\n", err);
		config_free(&cfg);
		return 2;
	}
	if (cfg.show_help) {
		config_print_help(stdout);
		config_free(&cfg);
		return 0;
	}
	if (cfg.show_version) {
		printf("raftkv %s\n", RAFTKV_VERSION);
		config_free(&cfg);
		return 0;
	}
	int status = server_run(&cfg);
	config_free(&cfg);
	return status;
}
