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

typedef struct node_metrics {
	uint64_t proposals;          /* raft_propose accepted */
	uint64_t proposals_refused;  /* raft_propose said no: answered 503 */
	uint64_t reads_linearizable, reads_lease, reads_stale, reads_log;
	uint64_t responses_5xx, timeouts;
	uint64_t msgs_sent, msgs_received, msgs_dropped_fault, msgs_dropped_queue;
	uint64_t msgs_delayed, msgs_duplicated;
	uint64_t wal_writes, wal_entries, wal_bytes_unsynced;
	uint64_t applied_entries;
	histogram batch_entries;  /* entries per WAL write */
	histogram fsync_seconds;  /* WAL write+fsync duration */
	histogram request_seconds;/* HTTP request latency, arrival to answer */
} node_metrics;

void metrics_init(node_metrics *m);
void histogram_observe(histogram *h, double v);
/* Writes one histogram in Prometheus text form. 0 or -1 ENOMEM. */
int histogram_write(bytebuf *b, const char *name, const char *help, const histogram *h);

#endif
