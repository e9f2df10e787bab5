/*
 * rt_clock.c — Raft's logical time from a node clock reading.
 *
 *   ticks_due = (clock_now - clock_last) / tick_ms, at most election_ticks
 *
 * A clock that goes backwards re-anchors (no ticks until it moves forward
 * again). A jump forward is one jump (issue 10 item 8): at most one election
 * timeout of ticks is delivered, so every timer that the jump made due fires
 * once, and no timer fires twice in one burst (a burst of 2T+1 ticks could
 * start two elections in a row, deposing a healthy leader twice, which no
 * single real clock step does).
 *
 * Each tick goes through rt_tick_once, as rt_tick's do: while the node
 * probes for its incarnation the core is not ticked (it would campaign
 * before it knows which life it is; found by the simulator, kept as planted
 * bug 13).
 */
#include "rt_internal.h"

void rt_clock_anchor(rt *r, uint64_t clock_ms)
{
	r->clock_last = clock_ms;
}

void rt_clock(rt *r, uint64_t clock_ms, uint32_t tick_ms)
{
	uint64_t max_burst = r->election_ticks;
	if (RT_PLANTED(r, RT_BUG_CLOCK_BURST))
		max_burst = 2u * r->election_ticks + 1u;
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
	for (uint64_t i = 0; i < due; i++) {
		if (RT_PLANTED(r, RT_BUG_TICK_WHILE_PROBING))
			raft_tick(r->raft);
		else
			rt_tick_once(r); /* while probing: no tick of the core */
	}
	r->io.kick(r->io.ud);
}
