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

#include <cjson/cJSON.h>

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
	int orig_members;  /* member nemesis: members at the start */
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

/* Shared with nemesis_member.c: one --nemesis-log line; positions as JSON. */
int nemesis_log_event(wl_nemesis *n, uint64_t t, const char *event, const char *what,
		      const cJSON *targets, const char *body, const cJSON *answers);
cJSON *nemesis_targets_of(const int *pos, size_t k);

/* nemesis_member.c: the member nemesis (membership changes). */
int nemesis_member_init(wl_nemesis *n);
int nemesis_member_inject(wl_nemesis *n, uint64_t now);
int nemesis_member_heal(wl_nemesis *n, uint64_t now);
/* Adds back every node of --nodes that is out, until all are members or
 * --ready-timeout passes (-1 then). */
int nemesis_member_heal_all(wl_nemesis *n);

#endif
