/* stats.c — per-operation records and percentiles (see stats.h). */
#include "stats.h"

#include <stdlib.h>
#include <string.h>

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 1024;
	if (c > SIZE_MAX / size)
		return -1;
	void *q = realloc(*p, c * size);
	if (q == NULL)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

int stats_add(wl_stats *s, uint64_t start, uint64_t end, int f, int type, int mismatch,
	      int final)
{
	if (grow((void **)&s->recs, &s->cap, s->n, sizeof *s->recs) != 0)
		return -1;
	s->recs[s->n++] = (wl_rec){start, end, (uint8_t)f, (uint8_t)type, (uint8_t)final,
				   (uint8_t)mismatch};
	if (!final) {
		s->count[f][type]++;
		s->mismatches += mismatch != 0;
	}
	return 0;
}

int stats_add_span(wl_stats *s, uint64_t start, uint64_t end, int kind)
{
	if (grow((void **)&s->spans, &s->cap_spans, s->n_spans, sizeof *s->spans) != 0)
		return -1;
	s->spans[s->n_spans++] = (wl_span){start, end, kind};
	return 0;
}

void stats_free(wl_stats *s)
{
	free(s->recs);
	free(s->spans);
	memset(s, 0, sizeof *s);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

uint64_t stats_percentile(const wl_stats *s, int f, double q)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += !s->recs[i].final && wl_rec_answered(&s->recs[i]) &&
		     (f < 0 || s->recs[i].f == f);
	if (n == 0)
		return 0;
	uint64_t *v = malloc(n * sizeof *v);
	if (v == NULL)
		return 0;
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++)
		if (!s->recs[i].final && wl_rec_answered(&s->recs[i]) &&
		    (f < 0 || s->recs[i].f == f))
			v[k++] = s->recs[i].end - s->recs[i].start;
	qsort(v, n, sizeof *v, cmp_u64);
	/* Nearest rank: the smallest value with at least q of the samples at or
	 * below it, so p99.9 of 100 samples is the maximum, never interpolated. */
	size_t idx = (size_t)(q * (double)n + 0.999999);
	if (idx == 0)
		idx = 1;
	if (idx > n)
		idx = n;
	uint64_t r = v[idx - 1];
	free(v);
	return r;
}
