/*
 * runner.h — the logical clients and the one-thread event loop that drives
 * them (epoll, one keep-alive connection each, wlhttp.h). Each client has at most one operation in
 * flight; its invoke and completion go to the history the moment they
 * happen. A client whose operation ends in `info` takes a fresh process id,
 * as the history format requires (that process may never issue again).
 */
#ifndef RAFTKV_WL_RUNNER_H
#define RAFTKV_WL_RUNNER_H

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdint.h>

#include "history.h"
#include "nemesis.h"
#include "options.h"
#include "rng.h"
#include "stats.h"
#include "wlhttp.h"

enum { WL_RECENT = 4 }; /* values remembered per key for cas expectations */

typedef struct wl_client {
	int process;
	int node;               /* position in --nodes */
	wh_conn http;
	int busy;
	int f;                  /* the operation in flight */
	int key;
	cJSON *value;           /* its invoke value (null for reads) */
	uint64_t invoked;
	uint64_t deadline;      /* the operation in flight ends unanswered at this time */
	uint64_t ready_at;      /* no new operation before this (backoff) */
	int final_next;         /* final phase: next key to read, K = done */
	int final;              /* 1 in the final phase */
} wl_client;

typedef struct wl_runner {
	const wl_options *o;
	wl_history *hist;
	wl_stats *stats;
	int epfd;
	wh_target *targets;     /* one per --nodes entry */
	rng rng;
	wl_client *clients;
	int n_clients;
	int next_process;       /* fresh ids: max ever used + 1 */
	uint64_t counter;       /* makes every written value unique in the run */
	char **keys;            /* "k0".."kK-1" */
	char **recent;          /* keys x WL_RECENT values seen, NULL = empty slot */
	int *recent_pos;
	uint64_t next_issue;    /* rate limiting: earliest next invoke */
	char *url;              /* scratch for building request URLs */
	size_t url_cap;
} wl_runner;

/* Set from a signal handler: stop issuing and wind down as at the end. */
extern volatile sig_atomic_t wl_stop;

/* 0, or -1 out of memory. */
int runner_init(wl_runner *w, const wl_options *o, wl_history *h, wl_stats *s);
/* Runs the workload until end (run-clock ns), then waits for every
 * operation in flight to finish; nem may be NULL. 0, or -1 on an internal
 * error (out of memory, epoll failure, history write failure). */
int runner_workload(wl_runner *w, wl_nemesis *nem, uint64_t end);
/* One linearizable read of every key on every node, each node's reads by a
 * fresh process. 0, or -1 as above. */
int runner_final_reads(wl_runner *w);
void runner_free(wl_runner *w);

#endif
