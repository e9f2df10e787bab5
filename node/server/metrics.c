/* metrics.c — histogram bookkeeping and Prometheus rendering (see metrics.h). */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const double batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};
static const double seconds_bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
					0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

static const double gap_bounds[] = {0.015, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5};

static void hist_init(histogram *h, const double *b, size_t n)
{
	memset(h, 0, sizeof *h);
	h->bounds = b;
	h->n_bounds = n;
}

void metrics_init(node_metrics *m)
{
	memset(m, 0, sizeof *m);
	hist_init(&m->batch_entries, batch_bounds, sizeof batch_bounds / sizeof batch_bounds[0]);
	hist_init(&m->fsync_seconds, seconds_bounds, sizeof seconds_bounds / sizeof seconds_bounds[0]);
	hist_init(&m->request_seconds, seconds_bounds, sizeof seconds_bounds / sizeof seconds_bounds[0]);
	hist_init(&m->snapshot_write_seconds, seconds_bounds, sizeof seconds_bounds / sizeof seconds_bounds[0]);
	hist_init(&m->loop_period_seconds, gap_bounds, sizeof gap_bounds / sizeof gap_bounds[0]);
	hist_init(&m->leader_gap_seconds, gap_bounds, sizeof gap_bounds / sizeof gap_bounds[0]);
}

void histogram_observe(histogram *h, double v)
{
	size_t i = 0;
	while (i < h->n_bounds && v > h->bounds[i])
		i++;
	h->counts[i]++;
	h->sum += v;
	h->count++;
}

static int appendf(bytebuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int appendf(bytebuf *b, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line)
		return -1;
	return bytebuf_append(b, line, (size_t)n);
}

int histogram_write(bytebuf *b, const char *name, const char *help, const histogram *h)
{
	if (appendf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name) != 0)
		return -1;
	uint64_t cum = 0;
	for (size_t i = 0; i < h->n_bounds; i++) {
		cum += h->counts[i];
		if (appendf(b, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i],
			    (unsigned long long)cum) != 0)
			return -1;
	}
	cum += h->counts[h->n_bounds];
	return appendf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
		       (unsigned long long)cum, name, h->sum, name, (unsigned long long)h->count);
}
