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
 * A stall is not a jump (issue 15.4). When the loop itself did not run for a
 * while (the process was not scheduled, or one iteration read and proposed
 * many large request bodies), the peer messages that arrived meanwhile are
 * still unread in the sockets: a burst of ticks fired now would time out an
 * election, or a leader's check-quorum, that those very messages had kept
 * alive, and leadership churns under a write flood although every peer is
 * healthy. So the ticks that real time owes for a stall are dropped (as
 * Go's time.Ticker drops ticks for a slow reader): one tick per call at most
 * comes from real time passing. Only what the node clock moved beyond real
 * time (a clock fault: bump, skew, strobe) still fires at once, as one jump.
 * Dropping ticks only ever delays a timeout, never hastens one.
 *
 * Each tick goes through rt_tick_once, as rt_tick's do: while the node
 * probes for its incarnation the core is not ticked (it would campaign
 * before it knows which life it is; found by the simulator, kept as planted
 * bug 13).
 */
#include "rt_internal.h"

void rt_clock_anchor(rt *r, uint64_t clock_ms, uint64_t real_ms)
{
	r->clock_last = clock_ms;
	r->real_last = real_ms;
}

/* The part of the node clock's advance that a stall of real time explains,
 * less the one tick a punctual call would have seen: dropped. */
static void drop_stall(rt *r, uint64_t clock_ms, uint64_t real_ms, uint32_t tick_ms)
{
	uint64_t gap = real_ms >= r->real_last ? real_ms - r->real_last : 0;
	r->real_last = real_ms;
	if (gap <= 2u * (uint64_t)tick_ms ||
	    clock_ms <= r->clock_last)
		return;
	uint64_t stalled = gap - tick_ms, behind = clock_ms - r->clock_last;
	r->clock_last += stalled < behind ? stalled : behind;
}

void rt_clock(rt *r, uint64_t clock_ms, uint64_t real_ms, uint32_t tick_ms)
{
	uint64_t max_burst = r->election_ticks;
	if (RT_PLANTED(r, RT_BUG_CLOCK_BURST))
		max_burst = 2u * r->election_ticks + 1u;
	if (r->paused || r->stopping || r->failed) {
		rt_clock_anchor(r, clock_ms, real_ms);
		return;
	}
	if (clock_ms < r->clock_last) {
		rt_clock_anchor(r, clock_ms, real_ms);
		return;
	}
	drop_stall(r, clock_ms, real_ms, tick_ms);
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
