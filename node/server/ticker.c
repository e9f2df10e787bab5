/*
 * ticker.c — Raft's logical time from the node's clock.
 *
 * A real-time uv timer wakes every tick_ms, but the number of ticks it feeds
 * the core (rt_clock, node/runtime/rt_clock.c) is computed from
 * faults_clock_ms (the only clock the node reads for Raft), so a bumped, skewed, frozen or strobing clock bends elections,
 * heartbeats and leases exactly as it would in a process whose clock lied.
 *
 *   ticks_due = (clock_now - clock_last) / tick_ms, at most election_ticks
 *
 * A clock that goes backwards re-anchors (no ticks until it moves forward
 * again). A jump is one jump: at most one election timeout of ticks, so each
 * timer it made due fires once. A stall of the loop is not a jump: the ticks
 * real time owes for it are dropped, since the peer messages that arrived
 * meanwhile are still unread (node/runtime/rt_clock.c, issue 15.4).
 *
 * Pause: no ticks at all, and the anchor follows the clock, so a resumed
 * node carries on from where it stopped (its lease included: the unsafe
 * lease_reads switch is meant to be caught by exactly that).
 */
#include "../api/api.h"
#include "notice.h"
#include "server_internal.h"

/* Pause and resume follow the fault layer at once. true while paused. */
bool ticker_sync_pause(server *s)
{
	uint64_t real = server_real_ms(s);
	uint64_t now = faults_clock_ms(s->faults, real);
	if (faults_paused(s->faults, real)) {
		if (!s->paused)
			notice("paused (fault)");
		s->paused = true;
		rt_set_paused(s->rt, true);
		rt_clock_anchor(s->rt, now, real);
		return true;
	}
	if (s->paused || s->paused_head != NULL) {
		if (s->paused)
			notice("resumed");
		s->paused = false;
		rt_set_paused(s->rt, false);
		rt_clock_anchor(s->rt, now, real);
		api_replay_paused(s);
		server_kick(s);
	}
	return false;
}

static void on_tick(uv_timer_t *t)
{
	server *s = t->data;
	uint64_t real = server_real_ms(s);
	if (s->tick_last_ms != 0 && real >= s->tick_last_ms) {
		uint64_t period = real - s->tick_last_ms;
		histogram_observe(&s->metrics.loop_period_seconds, (double)period / 1000.0);
		/* Half an election timeout: a leader stalled that long is close
		 * to being voted out, so say why it stalled. */
		loop_stall_tick(&s->stall, real, period,
				(uint64_t)s->cfg->election_ticks * s->cfg->tick_ms / 2);
	}
	s->tick_last_ms = real;
	if (s->stopping || ticker_sync_pause(s))
		return;
	rt_clock(s->rt, faults_clock_ms(s->faults, real), real, s->cfg->tick_ms);
	server_snap_tick(s);
}

int ticker_start(server *s)
{
	uint64_t real = server_real_ms(s);
	rt_clock_anchor(s->rt, faults_clock_ms(s->faults, real), real);
	int rc = uv_timer_init(s->loop, &s->tick_timer);
	if (rc != 0)
		return rc;
	s->tick_timer.data = s;
	return uv_timer_start(&s->tick_timer, on_tick, s->cfg->tick_ms, s->cfg->tick_ms);
}
