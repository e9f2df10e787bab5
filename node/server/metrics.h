/*
 * metrics.h — counters and histograms for GET /metrics (Prometheus text
 * format). Plain fields, updated on the loop thread (the WAL worker's timing
 * is recorded when its job completes, back on the loop).
 */
#ifndef RAFTKV_METRICS_H
#define RAFTKV_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/bytebuf.h"

#define HIST_MAX_BUCKETS 16

typedef struct histogram {
	const double *bounds; /* upper bounds, ascending */
	size_t n_bounds;
	uint64_t counts[HIST_MAX_BUCKETS + 1]; /* last = +Inf */
	double sum;
	uint64_t count;
} histogram;

/* The node's own counters; the runtime keeps its own (rt_stats: proposals,
 * peer messages, WAL writes, applied entries), rendered beside these. */
typedef struct node_metrics {
	uint64_t reads_lease, reads_stale, reads_log;
	uint64_t responses_5xx;
	uint64_t msgs_dropped_transport; /* handed to the transport, refused there */
	histogram batch_entries;  /* entries per WAL write */
	histogram fsync_seconds;  /* WAL write+fsync duration */
	histogram request_seconds;/* HTTP request latency, arrival to answer */
	histogram snapshot_write_seconds; /* fork to durable */
	/* Issue 15.4, why leadership churns under load: the loop's period (the
	 * gap between two tick callbacks, tick_ms when healthy; a long one is
	 * a loop that worked long or was not scheduled, which the loop
	 * thread's CPU time and preemptions at /metrics tell apart), and on a
	 * follower the gaps between two frames from its leader (an election
	 * starts when one exceeds the election timeout). */
	histogram loop_period_seconds;
	histogram leader_gap_seconds;
	uint64_t snapshot_fork_us;        /* the newest snapshot's fork() call: the loop's stall */
	double snapshot_load_seconds;     /* reading the snapshot at boot */
} node_metrics;

void metrics_init(node_metrics *m);
void histogram_observe(histogram *h, double v);
/* Writes one histogram in Prometheus text form. 0 or -1 ENOMEM. */
int histogram_write(bytebuf *b, const char *name, const char *help, const histogram *h);

#endif
