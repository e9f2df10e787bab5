/*
 * main.c — raftkv: one node of a Raft-replicated key-value store.
 * Parses the command line (node/server/config.c) and runs the node
 * (node/server/server.c) until SIGTERM or SIGINT.
 */
#include <signal.h>
#include <stdio.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "server/config.h"
#include "server/server.h"

/* glibc raises its mmap threshold each time a large block is freed (up to
 * 32 MiB), after which 1 MiB request bodies and log entries come from the heap
 * and their freed space stays in the process: under `make flood` (200 clients
 * writing 1 MiB values) that tripled the nodes' peak RSS (395-465 MiB against
 * 151-172 MiB with the threshold held). Setting it fixes it at 128 KiB, so a
 * large block is its own mapping and returns to the kernel when freed.
 * ASan and TSan bring their own allocators (mallopt is a stub there): skip it. */
static void hold_mmap_threshold(void)
{
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
	if (mallopt(M_MMAP_THRESHOLD, 128 * 1024) != 1)
		fprintf(stderr, "raftkv: mallopt(M_MMAP_THRESHOLD) refused; large blocks may stay in the heap\n");
#endif
}

int main(int argc, char **argv)
{
	hold_mmap_threshold();
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
