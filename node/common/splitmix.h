/*
 * splitmix.h — the one seedable PRNG of raftkv: tiny, fast, and fully
 * determined by its state, so the Raft core's election timeouts, the fault
 * layer's drops, the agent's corruption offsets, the workload's choices and
 * the simulator's schedule all replay from a seed (rand() is global and not
 * reproducible per node). Header-only and pure: usable inside the core.
 */
#ifndef RAFTKV_SPLITMIX_H
#define RAFTKV_SPLITMIX_H

#include <stdint.h>

static inline uint64_t splitmix64_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1), from the top 53 bits. */
static inline double splitmix64_unit(uint64_t *state)
{
	return (double)(splitmix64_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

#endif
