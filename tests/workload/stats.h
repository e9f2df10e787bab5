/*
 * stats.h — one small record per completed operation, kept for the
 * summary's counts and percentiles and for the plot.
 */
#ifndef RAFTKV_WL_STATS_H
#define RAFTKV_WL_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "options.h"

typedef struct wl_rec {
	uint64_t start;  /* invoke time, ns on the run clock */
	uint64_t end;    /* completion time */
	uint8_t f;       /* enum wl_f */
	uint8_t type;    /* enum wl_outcome */
	uint8_t final;   /* one of the closing reads, not part of the workload */
	uint8_t mismatch; /* a cas fail because the value differed: an answer,
			   * as good as ok for latency and availability */
} wl_rec;

/* A fault as it was in force: from injection to heal. */
typedef struct wl_span {
	uint64_t start;
	uint64_t end;
	int kind;        /* enum wl_nemesis_kind */
} wl_span;

typedef struct wl_stats {
	wl_rec *recs;
	size_t n, cap;
	uint64_t count[F_COUNT][OUT_COUNT]; /* workload ops only, no final reads */
	uint64_t mismatches;                /* of which cas fails by mismatch */
	wl_span *spans;
	size_t n_spans, cap_spans;
	uint64_t run_start, run_end;        /* workload phase bounds */
} wl_stats;

int stats_add(wl_stats *s, uint64_t start, uint64_t end, int f, int type, int mismatch,
	      int final);

/* ok, or a cas refused on mismatch: the system answered the question. */
static inline int wl_rec_answered(const wl_rec *r)
{
	return r->type == OUT_OK || r->mismatch;
}
int stats_add_span(wl_stats *s, uint64_t start, uint64_t end, int kind);
void stats_free(wl_stats *s);

/* Latency percentile in ns over answered workload ops (wl_rec_answered)
 * matching f (or -1 = all); q in [0,1]. 0 when none. Fails and unknown
 * outcomes are left out: a 503 in 0.1 ms or a 2 s timeout says nothing
 * about how fast the cluster serves. */
uint64_t stats_percentile(const wl_stats *s, int f, double q);

#endif
