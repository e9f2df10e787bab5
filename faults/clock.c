/*
 * clock.c — the node's own clock, bent by clock faults.
 *
 * Real time keeps running underneath: the node clock is always computed
 * from the real reading the node passes in, never accumulated, so healing
 * is exact. Semantics:
 *   bump   {"offset_ms":o}  the clock steps by o (either way) and runs on.
 *   skew   {"rate":r}       from now on the clock advances r ms per real ms
 *                           (r >= 0: a clock may run slow or stop, never back).
 *   freeze {"freeze":true}  the clock stays at the instant it showed when
 *                           frozen (also ends a strobe) until another clock
 *                           change or heal.
 *   strobe {"strobe":{"delta_ms":d,"period_ms":p}}  the clock reads +0 for p
 *                           ms, then +d for p ms, and so on, on top of the above.
 * Changes compose: each re-anchors at the current reading.
 *
 * Heal (DELETE, or the fault's "ms" running out) returns the clock to real
 * time at once. That is one more step, forward (after a freeze or a slow
 * skew) or backward (after a positive bump or a fast skew), exactly like a
 * bump; the node must treat its clock as non-monotonic across any clock
 * fault anyway. Without a clock fault the clock is the real clock, which is
 * monotonic.
 */
#include "faults_internal.h"

#include <math.h>

/* Keeps every intermediate far from int64 overflow. */
#define CLOCK_LIMIT ((int64_t)1 << 62)

static int64_t clamp64(int64_t v)
{
	if (v > CLOCK_LIMIT)
		return CLOCK_LIMIT;
	if (v < -CLOCK_LIMIT)
		return -CLOCK_LIMIT;
	return v;
}

static int64_t real64(uint64_t real_ms)
{
	return real_ms > (uint64_t)CLOCK_LIMIT ? CLOCK_LIMIT : (int64_t)real_ms;
}

/* The linear part, without the strobe. */
static int64_t clock_base(const fault_clock *c, int64_t real)
{
	if (c->frozen)
		return c->anchor_node;
	double d = c->rate * (double)(real - c->anchor_real);
	if (d > (double)CLOCK_LIMIT)
		d = (double)CLOCK_LIMIT;
	if (d < -(double)CLOCK_LIMIT)
		d = -(double)CLOCK_LIMIT;
	return clamp64(c->anchor_node + (int64_t)llround(d));
}

static int64_t clock_strobe(const fault_clock *c, int64_t real)
{
	if (!c->strobe || c->strobe_period <= 0)
		return 0;
	int64_t elapsed = real - c->strobe_start;
	if (elapsed < 0)
		return 0;
	return ((elapsed / c->strobe_period) % 2 == 1) ? c->strobe_delta : 0;
}

uint64_t clock_now(const fault_clock *c, uint64_t real_ms)
{
	if (!c->active)
		return real_ms;
	int64_t real = real64(real_ms);
	int64_t v = clamp64(clock_base(c, real) + clock_strobe(c, real));
	/* A clock before its epoch makes no sense to a caller holding uint64. */
	return v < 0 ? 0 : (uint64_t)v;
}

/* First change after a heal starts from real time. */
static void clock_activate(fault_clock *c, int64_t real)
{
	if (c->active)
		return;
	c->active = true;
	c->anchor_real = real;
	c->anchor_node = real;
	c->rate = 1.0;
	c->frozen = false;
	c->strobe = false;
	c->until = FAULT_FOREVER;
}

static void clock_reanchor(fault_clock *c, int64_t real)
{
	c->anchor_node = clock_base(c, real);
	c->anchor_real = real;
}

void clock_bump(fault_clock *c, uint64_t real_ms, int64_t offset_ms)
{
	int64_t real = real64(real_ms);
	clock_activate(c, real);
	clock_reanchor(c, real);
	c->anchor_node = clamp64(c->anchor_node + offset_ms);
}

void clock_set_rate(fault_clock *c, uint64_t real_ms, double rate, bool frozen)
{
	int64_t real = real64(real_ms);
	clock_activate(c, real);
	if (frozen) {
		/* Clamp to exactly what the node reads right now, strobe included. */
		c->anchor_node = clamp64(clock_base(c, real) + clock_strobe(c, real));
		c->anchor_real = real;
		c->strobe = false;
		c->frozen = true;
		c->rate = 0.0;
		return;
	}
	clock_reanchor(c, real);
	c->frozen = false;
	c->rate = rate;
}

void clock_set_strobe(fault_clock *c, uint64_t real_ms, int64_t delta_ms, int64_t period_ms)
{
	int64_t real = real64(real_ms);
	clock_activate(c, real);
	c->strobe = true;
	c->strobe_delta = delta_ms;
	c->strobe_period = period_ms;
	c->strobe_start = real;
}

void clock_heal(fault_clock *c)
{
	c->active = false;
	c->frozen = false;
	c->strobe = false;
	c->rate = 1.0;
	c->until = FAULT_FOREVER;
}

uint64_t faults_clock_ms(faults *f, uint64_t real_ms)
{
	faults_expire(f, real_ms);
	return clock_now(&f->clock, real_ms);
}

cJSON *clock_status(const fault_clock *c, uint64_t real_ms)
{
	cJSON *o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	double offset = (double)clock_now(c, real_ms) - (double)real_ms;
	if (cJSON_AddNumberToObject(o, "offset_ms", offset) == NULL ||
	    cJSON_AddNumberToObject(o, "rate", c->rate) == NULL ||
	    cJSON_AddBoolToObject(o, "frozen", c->frozen) == NULL)
		goto err;
	if (c->strobe) {
		cJSON *s = cJSON_AddObjectToObject(o, "strobe");
		if (s == NULL ||
		    cJSON_AddNumberToObject(s, "delta_ms", (double)c->strobe_delta) == NULL ||
		    cJSON_AddNumberToObject(s, "period_ms", (double)c->strobe_period) == NULL)
			goto err;
	}
	if (status_add_remaining(o, c->until, real_ms) != 0)
		goto err;
	return o;
err:
	cJSON_Delete(o);
	return NULL;
}
