/*
 * faults.c — lifecycle of the fault state and the small query functions
 * (pause, crash, bugs, disk). Clock and message filtering live in clock.c
 * and filter.c; the admin API in admin.c.
 */
#include "faults_internal.h"

#include <stdlib.h>
#include <string.h>

faults *faults_new(uint32_t self, uint64_t seed)
{
	faults *f = calloc(1, sizeof *f);
	if (f == NULL)
		return NULL;
	f->self = self;
	/* Mix self into the seed so nodes started with the same seed still
	 * make independent drop/duplicate choices. */
	f->rng = seed ^ ((uint64_t)self * 0x9E3779B97F4A7C15ULL);
	f->clock.rate = 1.0;
	atomic_init(&f->disk.fsync_off, false);
	atomic_init(&f->disk.delay_ms, 0u);
	atomic_init(&f->bug_no_fsync, false);
	return f;
}

int faults_set_members(faults *f, const uint32_t *ids, size_t n)
{
	if (n > FAULTS_MAX_MEMBERS)
		return -1;
	memcpy(f->members, ids, n * sizeof *ids);
	f->n_members = n;
	return 0;
}

void faults_free(faults *f)
{
	if (f == NULL)
		return;
	net_heal(&f->net);
	partition_heal(&f->part);
	free(f);
}

uint64_t faults_until(uint64_t real_ms, bool has_ms, uint64_t ms)
{
	if (!has_ms)
		return FAULT_FOREVER;
	/* ms is bounded by FAULT_MAX_MS; a real clock this close to the top of
	 * uint64 does not exist, but saturate rather than wrap. */
	if (real_ms > FAULT_FOREVER - 1 - ms)
		return FAULT_FOREVER - 1;
	return real_ms + ms;
}

int64_t faults_remaining(uint64_t until, uint64_t real_ms)
{
	if (until == FAULT_FOREVER)
		return -1;
	return until > real_ms ? (int64_t)(until - real_ms) : 0;
}

static bool due(uint64_t until, uint64_t real_ms)
{
	return until != FAULT_FOREVER && real_ms >= until;
}

void disk_heal(fault_diskstate *d)
{
	d->active = false;
	d->until = FAULT_FOREVER;
	atomic_store_explicit(&d->fsync_off, false, memory_order_relaxed);
	atomic_store_explicit(&d->delay_ms, 0u, memory_order_relaxed);
}

void faults_expire(faults *f, uint64_t real_ms)
{
	if (f->clock.active && due(f->clock.until, real_ms))
		clock_heal(&f->clock);
	if (f->net.active && due(f->net.until, real_ms))
		net_heal(&f->net);
	if (f->part.active && due(f->part.until, real_ms))
		partition_heal(&f->part);
	if (f->disk.active && due(f->disk.until, real_ms))
		disk_heal(&f->disk);
	if (f->pause.active && due(f->pause.until, real_ms))
		f->pause.active = false;
}

bool faults_paused(faults *f, uint64_t real_ms)
{
	faults_expire(f, real_ms);
	return f->pause.active;
}

fault_disk faults_disk(const faults *f)
{
	/* No real_ms here (this may run on the WAL thread): an expired disk
	 * fault is cleared by the next faults_clock_ms() on the loop, which
	 * the node calls every tick. */
	fault_disk d;
	bool off = atomic_load_explicit(&f->disk.fsync_off, memory_order_relaxed) ||
		   atomic_load_explicit(&f->bug_no_fsync, memory_order_relaxed);
	d.fsync = !off;
	d.delay_ms = atomic_load_explicit(&f->disk.delay_ms, memory_order_relaxed);
	return d;
}

fault_bugs faults_bugs_get(const faults *f)
{
	return f->bugs;
}

bool faults_crash_requested(const faults *f, bool *lose_unsynced)
{
	if (lose_unsynced != NULL)
		*lose_unsynced = f->crash.requested && f->crash.lose_unsynced;
	return f->crash.requested;
}
