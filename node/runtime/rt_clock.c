/*
 * rt_clock.c — Raft's logical time from a node clock reading.
 *
 *   ticks_due = (clock_now - clock_last) / tick_ms, at most max_burst
 *
 * A clock that goes backwards re-anchors (no ticks until it moves forward
 * again). The cap keeps a huge jump from spinning the loop.
 */
#include "rt_internal.h"

void rt_clock_anchor(rt *r, uint64_t clock_ms)
{
	r->clock_last = clock_ms;
}

void rt_clock(rt *r, uint64_t clock_ms, uint32_t tick_ms, uint32_t max_burst)
{
	if (r->paused || r->stopping || r->failed) {
		r->clock_last = clock_ms;
		return;
	}
	if (clock_ms < r->clock_last) {
		r->clock_last = clock_ms;
		return;
	}
	uint64_t due = (clock_ms - r->clock_last) / tick_ms;
	if (due == 0)
		return;
	if (due > max_burst) {
		r->clock_last = clock_ms;
		due = max_burst;
	} else {
		r->clock_last += due * tick_ms;
	}
	for (uint64_t i = 0; i < due; i++)
		raft_tick(r->raft);
	r->io.kick(r->io.ud);
}
