/*
 * rng.h — the workload's one random source. splitmix64: tiny, fast, and
 * fully determined by --seed, so a run's choices of keys, values and faults
 * can be repeated (the cluster's timing, of course, cannot).
 */
#ifndef RAFTKV_WL_RNG_H
#define RAFTKV_WL_RNG_H

#include <stdint.h>
#include "../../node/common/splitmix.h"

typedef struct rng {
	uint64_t s;
} rng;

static inline uint64_t rng_next(rng *r)
{
	return splitmix64_next(&r->s);
}

/* Uniform in [0, n); n > 0. The modulo bias is irrelevant at these sizes. */
static inline uint64_t rng_below(rng *r, uint64_t n)
{
	return rng_next(r) % n;
}

#endif
