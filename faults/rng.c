/*
 * rng.c — splitmix64: a tiny, seedable generator, so a fault schedule
 * replays identically from its seed (rand() is global and unseeded per node).
 */
#include "faults_internal.h"

uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

double rng_unit(uint64_t *state)
{
	/* The top 53 bits fill a double's mantissa exactly. */
	return (double)(rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}
