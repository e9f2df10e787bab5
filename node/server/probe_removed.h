/*
 * probe_removed.h — a node probing with an empty data dir
 * (node/runtime/rt_incarnation.h) asks whether its id is still in the
 * cluster's configuration at all (node/server/README.md, "Joining").
 *
 * A node that was removed, then wiped and started again with its bootstrap
 * flags (--cluster) cannot tell from its empty dir that it was removed, and
 * the members do not answer a non-member's probes: it probed for good. So,
 * while it probes, it asks the --cluster members' GET /admin/status (once a
 * second, off the loop thread) who leads, and reads the members list of the
 * leader only (another member's may be out of date: a removed one's stopped
 * at its removal). Without its id there, seen on two answers at least two
 * seconds apart (a leader that replaces a member removes it, then adds it;
 * a deposed leader steps down within an election timeout), it says so in
 * one line and the node exits 1. No answer, no leader, or its id listed:
 * no verdict, it keeps probing (a cluster that is down or not yet started
 * must not make a member give up).
 */
#ifndef RAFTKV_PROBE_REMOVED_H
#define RAFTKV_PROBE_REMOVED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "../common/http_client.h"

struct server;

typedef struct probe_removed {
	bool on;               /* started (the timer is initialised) */
	bool busy;             /* a round runs on a worker */
	bool curl_ready;       /* http_client_init done */
	uv_timer_t timer;
	uv_work_t work;
	atomic_bool stop;      /* the node stops: the worker returns early */
	/* Inputs, fixed at start; the worker reads them, the loop does not
	 * change them while a round runs. */
	char (*urls)[256];     /* the other --cluster members' HTTP URLs */
	size_t n_urls;
	const char *token;
	uint32_t self;
	/* The worker's result: a verdict and the leader that gave it. */
	int verdict;
	uint32_t leader;
	http_call call;
	/* On the loop: absent on the first such answer at this time (0: not). */
	uint64_t absent_since_ms;
	unsigned absent_seen;
} probe_removed;

/* Starts the checks if the node probes and has other --cluster members. */
int probe_removed_start(struct server *s);
/* Stops them (shutdown); a round in flight returns early. */
void probe_removed_stop(struct server *s);
void probe_removed_free(struct server *s);

#endif
