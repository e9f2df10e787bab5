/*
 * summary.h — what a run did, for people (stdout) and for scripts (--summary
 * JSON): operations by type and outcome, throughput, latency percentiles of
 * answered operations (ok, or cas refused on mismatch), availability (the
 * answered fraction), faults injected, checker verdict.
 */
#ifndef RAFTKV_WL_SUMMARY_H
#define RAFTKV_WL_SUMMARY_H

#include <stdio.h>

#include "options.h"
#include "stats.h"

typedef struct wl_outcome_info {
	unsigned nemesis_events;
	int recovered;        /* every node ready again after the final heal */
	int interrupted;      /* cut short by SIGINT/SIGTERM */
	const char *verdict;  /* "linearizable", "not linearizable", ..., or NULL */
} wl_outcome_info;

/* The summary as a JSON text (malloc'd), or NULL when out of memory. */
char *summary_json(const wl_options *o, const wl_stats *s, const wl_outcome_info *x);
/* The human version. */
void summary_print(FILE *out, const wl_options *o, const wl_stats *s,
		   const wl_outcome_info *x);

#endif
