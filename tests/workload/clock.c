/* clock.c — monotonic run clock (see clock.h). */
#include "clock.h"

#include <time.h>

static uint64_t t0;
static uint64_t last;

static uint64_t raw_ns(void)
{
	struct timespec ts;
	/* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer; should it
	 * ever, the clamp in wl_now keeps the history ordered. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void wl_clock_start(void)
{
	t0 = raw_ns();
	last = 0;
}

uint64_t wl_now(void)
{
	uint64_t r = raw_ns();
	uint64_t t = r > t0 ? r - t0 : 0;
	if (t < last)
		t = last;
	last = t;
	return t;
}
