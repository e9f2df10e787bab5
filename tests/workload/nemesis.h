/*
 * nemesis.h — fault injection on a fixed rhythm: healthy for one interval,
 * faulty for the next, healed, and so on, through the admin fault API on
 * the nodes and the agents for kill/start. Every injection and heal is one
 * JSON line in --nemesis-log and one shaded span in the plot.
 *
 * Calls are blocking (short, loopback, admin answers even on a paused node).
 * Client completions that arrive meanwhile are stamped a little late, which
 * only widens their windows: the checker can lose sensitivity, never be fooled.
 */
#ifndef RAFTKV_WL_NEMESIS_H
#define RAFTKV_WL_NEMESIS_H

#include <stdint.h>
#include <stdio.h>

#include "../../node/common/http_client.h"
#include "options.h"
#include "rng.h"
#include "stats.h"

typedef struct wl_nemesis {
	const wl_options *o;
	wl_stats *stats;
	rng rng;
	FILE *log;
	http_call call;
	int *ids;          /* node ids by position, for partition groups */
	int *killed;       /* by position: killed through its agent */
	uint64_t interval; /* ns */
	uint64_t next;     /* when to inject or heal next; UINT64_MAX = never */
	int active;        /* a fault is in force */
	int kind;          /* the active fault */
	uint64_t since;    /* when it was injected */
	int target;        /* the node it hit, -1 for cluster-wide partitions */
	unsigned events;   /* injections so far */
} wl_nemesis;

/* 0, or -1 (message on stderr). Reads node ids, so call once the cluster is up. */
int nemesis_init(wl_nemesis *n, const wl_options *o, wl_stats *stats, uint64_t now);
/* When nemesis_step next has work. */
uint64_t nemesis_due(const wl_nemesis *n);
/* Injects or heals as the schedule says; no new fault starts unless it
 * would be healed by end, the end of the workload. 0, or -1 out of memory. */
int nemesis_step(wl_nemesis *n, uint64_t now, uint64_t end);
/* Ends everything: DELETE /admin/faults on every node, /agent/start for the
 * killed ones. Logged as a final heal. */
int nemesis_heal_all(wl_nemesis *n);
void nemesis_free(wl_nemesis *n);

#endif
