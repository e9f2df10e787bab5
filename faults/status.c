/*
 * status.c — the "faults" and "bugs" objects of /admin/status: every active
 * fault with its parameters and how long it has left ("remaining_ms": null
 * when it lasts until healed). No active fault = {}.
 */
#include "faults_internal.h"

#include <stdlib.h>

int status_add_remaining(cJSON *o, uint64_t until, uint64_t real_ms)
{
	int64_t r = faults_remaining(until, real_ms);
	cJSON *v = r < 0 ? cJSON_AddNullToObject(o, "remaining_ms")
			 : cJSON_AddNumberToObject(o, "remaining_ms", (double)r);
	return v == NULL ? -1 : 0;
}

static bool add(cJSON *o, const char *key, cJSON *v)
{
	if (v == NULL)
		return false;
	if (!cJSON_AddItemToObject(o, key, v)) {
		cJSON_Delete(v);
		return false;
	}
	return true;
}

static cJSON *pause_status(const faults *f, uint64_t real_ms)
{
	cJSON *o = cJSON_CreateObject();
	if (o != NULL && status_add_remaining(o, f->pause.until, real_ms) != 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *disk_status(const faults *f, uint64_t real_ms)
{
	cJSON *o = cJSON_CreateObject();
	bool off = atomic_load_explicit(&f->disk.fsync_off, memory_order_relaxed);
	unsigned d = atomic_load_explicit(&f->disk.delay_ms, memory_order_relaxed);
	if (cJSON_AddBoolToObject(o, "fsync", !off) == NULL ||
	    cJSON_AddNumberToObject(o, "delay_ms", d) == NULL ||
	    status_add_remaining(o, f->disk.until, real_ms) != 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *crash_status(const faults *f)
{
	cJSON *o = cJSON_CreateObject();
	if (cJSON_AddBoolToObject(o, "lose_unsynced", f->crash.lose_unsynced) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *faults_status_obj(faults *f, uint64_t real_ms)
{
	faults_expire(f, real_ms);
	cJSON *o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	if ((f->pause.active && !add(o, "pause", pause_status(f, real_ms))) ||
	    (f->net.active && !add(o, "net", net_status(&f->net, real_ms))) ||
	    (f->part.active && !add(o, "partition", partition_status(&f->part, real_ms))) ||
	    (f->clock.active && !add(o, "clock", clock_status(&f->clock, real_ms))) ||
	    (f->disk.active && !add(o, "disk", disk_status(f, real_ms))) ||
	    (f->crash.requested && !add(o, "crash", crash_status(f)))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *faults_bugs_obj(const faults *f)
{
	cJSON *o = cJSON_CreateObject();
	if (cJSON_AddBoolToObject(o, "stale_reads", f->bugs.stale_reads) == NULL ||
	    cJSON_AddBoolToObject(o, "lease_reads", f->bugs.lease_reads) == NULL ||
	    cJSON_AddBoolToObject(o, "no_fsync", f->bugs.no_fsync) == NULL ||
	    cJSON_AddBoolToObject(o, "ack_before_commit", f->bugs.ack_before_commit) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static char *print_free(cJSON *o)
{
	if (o == NULL)
		return NULL;
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

char *faults_status_json(faults *f, uint64_t real_ms)
{
	return print_free(faults_status_obj(f, real_ms));
}

char *faults_bugs_json(const faults *f)
{
	return print_free(faults_bugs_obj(f));
}
