/*
 * rng.c — splitmix64: a tiny, seedable generator, so a fault schedule
 * replays identically from its seed (rand() is global and unseeded per node).
 */
#include "faults_internal.h"
#include "../node/common/splitmix.h"

uint64_t rng_next(uint64_t *state)
{
	return splitmix64_next(state);
}

double rng_unit(uint64_t *state)
{
	return splitmix64_unit(state);
}
