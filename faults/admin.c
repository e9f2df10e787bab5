/*
 * admin.c — /admin/faults/<name> and /admin/bugs: routing by name and
 * method, strict body parsing, and applying the change. Every handler
 * validates the whole body before touching state, so a 400 changes nothing.
 *
 *   POST   /admin/faults/<name>   start (or replace) that fault
 *   DELETE /admin/faults/<name>   heal that one fault alone (pause, net,
 *                                 partition, clock, disk; not resume, and
 *                                 for crash it only withdraws a request)
 *   DELETE /admin/faults          heal every fault (bugs stay as they are)
 *   GET    /admin/faults          the active faults
 *   GET|POST|DELETE /admin/bugs   read / set some / clear all bug switches
 *
 * Fault responses are {"faults":{...}} (the state after the change, as in
 * /admin/status); bug responses are {"bugs":{...}}.
 */
#include "faults_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERRLEN 256
#define MAX_DELAY_MS 3600000 /* one hour per message or disk write is plenty */

typedef struct admin_ctx {
	faults *f;
	const cJSON *body;
	uint64_t real_ms;
	char err[ERRLEN];
} admin_ctx;

/* Reads the optional "ms" shared by every fault. */
static int read_until(admin_ctx *c, uint64_t *until)
{
	bool has;
	int64_t ms = 0;
	if (jp_int(c->body, "ms", 0, (int64_t)FAULT_MAX_MS, &has, &ms, c->err, ERRLEN) != 0)
		return -1;
	*until = faults_until(c->real_ms, has, (uint64_t)ms);
	return 0;
}

static int post_pause(admin_ctx *c)
{
	static const char *const keys[] = { "ms", NULL };
	uint64_t until;
	if (jp_check_keys(c->body, keys, c->err, ERRLEN) != 0 || read_until(c, &until) != 0)
		return 400;
	c->f->pause.active = true;
	c->f->pause.until = until;
	return 200;
}

static int post_resume(admin_ctx *c)
{
	static const char *const keys[] = { NULL };
	if (jp_check_keys(c->body, keys, c->err, ERRLEN) != 0)
		return 400;
	c->f->pause.active = false;
	c->f->pause.until = FAULT_FOREVER;
	return 200;
}

static int post_net(admin_ctx *c)
{
	static const char *const keys[] = { "drop_to", "drop_from", "drop_probability",
		"delay_ms", "jitter_ms", "duplicate_probability", "ms", NULL };
	fault_net n = { .active = true };
	bool has[6] = { false };
	int64_t delay = 0, jitter = 0;
	const cJSON *it;
	uint64_t until;

	if (jp_check_keys(c->body, keys, c->err, ERRLEN) != 0 || read_until(c, &until) != 0)
		return 400;
	if ((it = cJSON_GetObjectItemCaseSensitive(c->body, "drop_to")) != NULL) {
		if (jp_idlist(it, "drop_to", &n.drop_to, c->err, ERRLEN) != 0 ||
		    jp_check_members(c->f, &n.drop_to, "drop_to", c->err, ERRLEN) != 0)
			goto bad;
		has[0] = true;
	}
	if ((it = cJSON_GetObjectItemCaseSensitive(c->body, "drop_from")) != NULL) {
		if (jp_idlist(it, "drop_from", &n.drop_from, c->err, ERRLEN) != 0 ||
		    jp_check_members(c->f, &n.drop_from, "drop_from", c->err, ERRLEN) != 0)
			goto bad;
		has[1] = true;
	}
	if (jp_number(c->body, "drop_probability", 0, 1, &has[2], &n.drop_p, c->err, ERRLEN) != 0 ||
	    jp_int(c->body, "delay_ms", 0, MAX_DELAY_MS, &has[3], &delay, c->err, ERRLEN) != 0 ||
	    jp_int(c->body, "jitter_ms", 0, MAX_DELAY_MS, &has[4], &jitter, c->err, ERRLEN) != 0 ||
	    jp_number(c->body, "duplicate_probability", 0, 1, &has[5], &n.dup_p, c->err,
		      ERRLEN) != 0)
		goto bad;
	if (!(has[0] || has[1] || has[2] || has[3] || has[4] || has[5])) {
		snprintf(c->err, ERRLEN, "net needs at least one of drop_to, drop_from, "
			 "drop_probability, delay_ms, jitter_ms, duplicate_probability");
		goto bad;
	}
	n.delay_ms = (uint32_t)delay;
	n.jitter_ms = (uint32_t)jitter;
	n.until = until;
	/* A new net fault replaces the previous one as a whole. */
	net_heal(&c->f->net);
	c->f->net = n;
	return 200;
bad:
	idset_free(&n.drop_to);
	idset_free(&n.drop_from);
	return 400;
}

static void free_groups(fault_idset *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		idset_free(&g[i]);
	free(g);
}

static int post_partition(admin_ctx *c)
{
	static const char *const keys[] = { "groups", "ms", NULL };
	uint64_t until;
	if (jp_check_keys(c->body, keys, c->err, ERRLEN) != 0 || read_until(c, &until) != 0)
		return 400;
	const cJSON *groups = cJSON_GetObjectItemCaseSensitive(c->body, "groups");
	if (!cJSON_IsArray(groups) || cJSON_GetArraySize(groups) == 0) {
		snprintf(c->err, ERRLEN, "partition needs \"groups\": a non-empty array of "
			 "arrays of node ids, e.g. [[0,1],[2]]");
		return 400;
	}
	size_t ng = (size_t)cJSON_GetArraySize(groups), i = 0;
	fault_idset *g = calloc(ng, sizeof *g);
	fault_idset mine = { NULL, 0 };
	if (g == NULL) {
		snprintf(c->err, ERRLEN, "out of memory");
		return 500;
	}
	const cJSON *it;
	size_t my_group = ng; /* ng = self is in no group */
	cJSON_ArrayForEach(it, groups) {
		if (jp_idlist(it, "each partition group", &g[i], c->err, ERRLEN) != 0)
			goto bad;
		if (jp_check_members(c->f, &g[i], "groups", c->err, ERRLEN) != 0) {
			i++;
			goto bad;
		}
		for (size_t k = 0; k < g[i].n; k++) {
			/* A node in two groups would make the partition ambiguous. */
			for (size_t j = 0; j <= i; j++) {
				size_t upto = (j == i) ? k : g[j].n;
				for (size_t m = 0; m < upto; m++)
					if (g[j].ids[m] == g[i].ids[k]) {
						snprintf(c->err, ERRLEN, "node %u appears twice in "
							 "groups", (unsigned)g[i].ids[k]);
						i++;
						goto bad;
					}
			}
			if (g[i].ids[k] == c->f->self)
				my_group = i;
		}
		i++;
	}
	/* A node left out of every group is cut off from everyone. */
	size_t mn = my_group < ng ? g[my_group].n : 1;
	mine.ids = calloc(mn, sizeof *mine.ids);
	if (mine.ids == NULL) {
		snprintf(c->err, ERRLEN, "out of memory");
		free_groups(g, i);
		return 500;
	}
	if (my_group < ng)
		memcpy(mine.ids, g[my_group].ids, mn * sizeof *mine.ids);
	else
		mine.ids[0] = c->f->self;
	mine.n = mn;
	partition_heal(&c->f->part);
	c->f->part.active = true;
	c->f->part.groups = g;
	c->f->part.n_groups = ng;
	c->f->part.mine = mine;
	c->f->part.until = until;
	return 200;
bad:
	free_groups(g, i);
	return 400;
}

static int post_clock(admin_ctx *c)
{
	static const char *const keys[] = { "offset_ms", "rate", "freeze", "strobe", "ms", NULL };
	static const char *const skeys[] = { "delta_ms", "period_ms", NULL };
	bool has_off, has_rate, has_freeze, has_d, has_p;
	int64_t off = 0, delta = 0, period = 0;
	double rate = 1;
	bool freeze = false;
	uint64_t until;
	const int64_t lim = (int64_t)FAULT_MAX_MS;

	if (jp_check_keys(c->body, keys, c->err, ERRLEN) != 0 || read_until(c, &until) != 0 ||
	    jp_int(c->body, "offset_ms", -lim, lim, &has_off, &off, c->err, ERRLEN) != 0 ||
	    jp_number(c->body, "rate", 0, 1000, &has_rate, &rate, c->err, ERRLEN) != 0 ||
	    jp_bool(c->body, "freeze", &has_freeze, &freeze, c->err, ERRLEN) != 0)
		return 400;
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(c->body, "strobe");
	if (s != NULL) {
		if (!cJSON_IsObject(s)) {
			snprintf(c->err, ERRLEN, "strobe must be {\"delta_ms\":d,\"period_ms\":p}");
			return 400;
		}
		if (jp_check_keys(s, skeys, c->err, ERRLEN) != 0 ||
		    jp_int(s, "delta_ms", -lim, lim, &has_d, &delta, c->err, ERRLEN) != 0 ||
		    jp_int(s, "period_ms", 1, lim, &has_p, &period, c->err, ERRLEN) != 0)
			return 400;
		if (!has_d || !has_p) {
			snprintf(c->err, ERRLEN, "strobe needs both delta_ms and period_ms (>= 1)");
			return 400;
		}
	}
	if (has_rate && has_freeze && freeze) {
		snprintf(c->err, ERRLEN, "give either rate or freeze, not both");
		return 400;
	}
	if (!has_off && !has_rate && !has_freeze && s == NULL) {
		snprintf(c->err, ERRLEN, "clock needs one of offset_ms, rate, freeze, strobe");
		return 400;
	}
	fault_clock *k = &c->f->clock;
	if (has_off)
		clock_bump(k, c->real_ms, off);
	if (has_rate)
		clock_set_rate(k, c->real_ms, rate, false);
	else if (has_freeze)
		/* freeze:false thaws: the clock runs at real speed from where it stands. */
		clock_set_rate(k, c->real_ms, freeze ? 0.0 : 1.0, freeze);
	if (s != NULL)
		clock_set_strobe(k, c->real_ms, delta, period);
	k->until = until;
	return 200;
}

static int post_crash(admin_ctx *c)
{
	static const char *const keys[] = { "lose_unsynced", NULL };
	bool has, lose = false;
	if (jp_check_keys(c->body, keys, c->err, ERRLEN) != 0 ||
	    jp_bool(c->body, "lose_unsynced", &has, &lose, c->err, ERRLEN) != 0)
		return 400;
	c->f->crash.requested = true;
	c->f->crash.lose_unsynced = lose;
	/* 202: accepted; the node sends this answer, then dies (a client
	 * must not mistake the crash it asked for for an I/O error). */
	return 202;
}

static int post_disk(admin_ctx *c)
{
	static const char *const keys[] = { "fsync", "delay_ms", "ms", NULL };
	bool has_fs, has_d, fsync_on = true;
	int64_t delay = 0;
	uint64_t until;
	if (jp_check_keys(c->body, keys, c->err, ERRLEN) != 0 || read_until(c, &until) != 0 ||
	    jp_bool(c->body, "fsync", &has_fs, &fsync_on, c->err, ERRLEN) != 0 ||
	    jp_int(c->body, "delay_ms", 0, MAX_DELAY_MS, &has_d, &delay, c->err, ERRLEN) != 0)
		return 400;
	if (!has_fs && !has_d) {
		snprintf(c->err, ERRLEN, "disk needs fsync (true/false) or delay_ms");
		return 400;
	}
	fault_diskstate *d = &c->f->disk;
	d->active = true;
	d->until = until;
	atomic_store_explicit(&d->fsync_off, !fsync_on, memory_order_relaxed);
	atomic_store_explicit(&d->delay_ms, (unsigned)delay, memory_order_relaxed);
	return 200;
}

static void heal_pause(faults *f)
{
	f->pause.active = false;
	f->pause.until = FAULT_FOREVER;
}
static void heal_net(faults *f) { net_heal(&f->net); }
static void heal_partition(faults *f) { partition_heal(&f->part); }
static void heal_clock(faults *f) { clock_heal(&f->clock); }
static void heal_disk(faults *f) { disk_heal(&f->disk); }
static void heal_crash(faults *f)
{
	f->crash.requested = false;
	f->crash.lose_unsynced = false;
}

typedef struct fault_route {
	const char *name;
	int (*post)(admin_ctx *c);
	void (*heal)(faults *f); /* DELETE; NULL = not allowed */
} fault_route;

static const fault_route routes[] = {
	{ "pause", post_pause, heal_pause },
	{ "resume", post_resume, NULL },
	{ "net", post_net, heal_net },
	{ "partition", post_partition, heal_partition },
	{ "clock", post_clock, heal_clock },
	{ "crash", post_crash, heal_crash },
	{ "disk", post_disk, heal_disk },
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

static void heal_all(faults *f)
{
	for (size_t i = 0; i < N_ROUTES; i++)
		if (routes[i].heal != NULL)
			routes[i].heal(f);
}

static char *error_body(const char *error, const char *detail)
{
	cJSON *o = cJSON_CreateObject();
	if (cJSON_AddStringToObject(o, "error", error) == NULL ||
	    cJSON_AddStringToObject(o, "detail", detail) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* {"<key>": obj} printed; takes obj. */
static char *wrap(const char *key, cJSON *obj)
{
	cJSON *o = cJSON_CreateObject();
	if (obj == NULL || o == NULL || !cJSON_AddItemToObject(o, key, obj)) {
		cJSON_Delete(obj);
		cJSON_Delete(o);
		return NULL;
	}
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static int finish(int status, char *body, char **resp)
{
	*resp = body;
	if (body == NULL) /* out of memory building the answer */
		return 500;
	return status;
}

static int method_not_allowed(const char *what, const char *allowed, char **resp)
{
	char detail[ERRLEN];
	snprintf(detail, sizeof detail, "%s accepts %s", what, allowed);
	return finish(405, error_body("method not allowed", detail), resp);
}

static int admin_bugs(faults *f, const char *method, const char *body, size_t len, char **resp)
{
	if (strcmp(method, "GET") == 0)
		return finish(200, wrap("bugs", faults_bugs_obj(f)), resp);
	if (strcmp(method, "DELETE") == 0) {
		memset(&f->bugs, 0, sizeof f->bugs);
		atomic_store_explicit(&f->bug_no_fsync, false, memory_order_relaxed);
		return finish(200, wrap("bugs", faults_bugs_obj(f)), resp);
	}
	if (strcmp(method, "POST") != 0)
		return method_not_allowed("/admin/bugs", "GET, POST and DELETE", resp);

	static const char *const keys[] = { "stale_reads", "lease_reads", "no_fsync",
		"ack_before_commit", NULL };
	char err[ERRLEN];
	cJSON *o = NULL;
	bool has[4], v[4] = { false };
	if (jp_parse_object(body, len, &o, err, sizeof err) != 0 ||
	    jp_check_keys(o, keys, err, sizeof err) != 0 ||
	    jp_bool(o, "stale_reads", &has[0], &v[0], err, sizeof err) != 0 ||
	    jp_bool(o, "lease_reads", &has[1], &v[1], err, sizeof err) != 0 ||
	    jp_bool(o, "no_fsync", &has[2], &v[2], err, sizeof err) != 0 ||
	    jp_bool(o, "ack_before_commit", &has[3], &v[3], err, sizeof err) != 0) {
		cJSON_Delete(o);
		return finish(400, error_body("bad request", err), resp);
	}
	cJSON_Delete(o);
	/* Only the switches named change; the others keep their setting. */
	if (has[0])
		f->bugs.stale_reads = v[0];
	if (has[1])
		f->bugs.lease_reads = v[1];
	if (has[2]) {
		f->bugs.no_fsync = v[2];
		atomic_store_explicit(&f->bug_no_fsync, v[2], memory_order_relaxed);
	}
	if (has[3])
		f->bugs.ack_before_commit = v[3];
	return finish(200, wrap("bugs", faults_bugs_obj(f)), resp);
}

int faults_admin(faults *f, const char *method, const char *name, const char *body,
		 size_t len, uint64_t real_ms, char **resp)
{
	*resp = NULL;
	if (method == NULL)
		method = "";
	if (name == NULL)
		name = "";
	faults_expire(f, real_ms);

	if (strcmp(name, "bugs") == 0)
		return admin_bugs(f, method, body, len, resp);
	if (name[0] == '\0') {
		if (strcmp(method, "DELETE") == 0)
			heal_all(f);
		else if (strcmp(method, "GET") != 0)
			return method_not_allowed("/admin/faults", "GET and DELETE", resp);
		return finish(200, wrap("faults", faults_status_obj(f, real_ms)), resp);
	}

	const fault_route *r = NULL;
	for (size_t i = 0; i < N_ROUTES; i++)
		if (strcmp(routes[i].name, name) == 0)
			r = &routes[i];
	if (r == NULL) {
		char detail[ERRLEN];
		snprintf(detail, sizeof detail, "no fault named \"%.40s\"; known: pause, resume, "
			 "net, partition, clock, crash, disk", name);
		return finish(404, error_body("not found", detail), resp);
	}
	if (strcmp(method, "DELETE") == 0 && r->heal != NULL) {
		r->heal(f);
		return finish(200, wrap("faults", faults_status_obj(f, real_ms)), resp);
	}
	if (strcmp(method, "POST") != 0)
		return method_not_allowed(name, r->heal ? "POST and DELETE" : "POST", resp);

	admin_ctx c = { .f = f, .real_ms = real_ms, .err = "" };
	cJSON *o = NULL;
	if (jp_parse_object(body, len, &o, c.err, sizeof c.err) != 0)
		return finish(400, error_body("bad request", c.err), resp);
	c.body = o;
	int st = r->post(&c);
	cJSON_Delete(o);
	if (st != 200 && st != 202)
		return finish(st, error_body(st == 400 ? "bad request" : "internal error", c.err),
			      resp);
	return finish(st, wrap("faults", faults_status_obj(f, real_ms)), resp);
}
