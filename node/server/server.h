/*
 * server.h — the node runtime: Raft core, WAL, peer transport, HTTP API and
 * fault layer on one libuv loop. See node/server/README.md for the loop, the
 * ordering rules and the error discipline.
 */
#ifndef RAFTKV_SERVER_H
#define RAFTKV_SERVER_H

#include "config.h"

/* Runs the node until SIGTERM/SIGINT. Returns the process exit status:
 * 0 after a clean stop, 1 when start-up failed (one line on stderr). */
int server_run(const node_config *cfg);

#endif
