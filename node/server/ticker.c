/*
 * ticker.c — Raft's logical time from the node's clock.
 *
 * A real-time uv timer wakes every tick_ms, but the number of ticks it feeds
 * raft_tick is computed from faults_clock_ms (the only clock the node reads
 * for Raft), so a bumped, skewed, frozen or strobing clock bends elections,
 * heartbeats and leases exactly as it would in a process whose clock lied.
 *
 *   ticks_due = (clock_now - clock_last) / tick_ms, at most MAX_BURST
 *
 * A clock that goes backwards re-anchors (no ticks until it moves forward
 * again). The cap keeps a huge jump from spinning the loop: a burst of
 * 2 x election_ticks + 1 already fires every timer a jump could.
 *
 * A stall is different: when the loop itself did not run for a while (the
 * process was not scheduled, or a callback ran long), the messages that
 * arrived meanwhile are still unread, and a burst would time out elections
 * that the leader's heartbeats had in fact kept alive (issue 15.4: leaders
 * churned under a write flood). The ticks owed to real time passing during
 * a stall are dropped, as Go's time.Ticker drops ticks for a slow reader;
 * only what the node clock moved beyond real time (a clock fault) still
 * fires at once.
 *
 * Pause: no ticks at all, and the anchor follows the clock, so a resumed
 * node carries on from where it stopped (its lease included: the unsafe
 * lease_reads switch is meant to be caught by exactly that).
 */
#include "log.h"
#include "server_internal.h"

static void on_tick(uv_timer_t *t)
{
	server *s = t->data;
	if (s->stopping)
		return;
	uint64_t real = server_real_ms(s);
	uint64_t now = faults_clock_ms(s->faults, real);
	if (faults_paused(s->faults, real)) {
		if (!s->paused)
			log_info("paused (fault)");
		s->paused = true;
		s->clock_last = now;
		return;
	}
	if (s->paused || s->paused_head != NULL) {
		if (s->paused)
			log_info("resumed");
		s->paused = false;
		s->clock_last = now;
		http_replay_paused(s);
		server_kick(s);
	}
	if (now < s->clock_last) {
		s->clock_last = now;
		return;
	}
	uint64_t tick = s->cfg->tick_ms;
	uint64_t real_gap = real >= s->real_last ? real - s->real_last : 0;
	s->real_last = real;
	if (real_gap > 2 * tick) {
		uint64_t stalled = real_gap - tick, behind = now - s->clock_last;
		s->clock_last += stalled < behind ? stalled : behind;
	}
	uint64_t due = (now - s->clock_last) / tick;
	if (due == 0)
		return;
	uint64_t max_burst = 2u * (uint64_t)s->cfg->election_ticks + 1u;
	if (due > max_burst) {
		s->clock_last = now;
		due = max_burst;
	} else {
		s->clock_last += due * tick;
	}
	for (uint64_t i = 0; i < due; i++)
		raft_tick(s->raft);
	server_kick(s);
}

int ticker_start(server *s)
{
	s->real_last = server_real_ms(s);
	s->clock_last = faults_clock_ms(s->faults, s->real_last);
	int rc = uv_timer_init(s->loop, &s->tick_timer);
	if (rc != 0)
		return rc;
	s->tick_timer.data = s;
	return uv_timer_start(&s->tick_timer, on_tick, s->cfg->tick_ms, s->cfg->tick_ms);
}
