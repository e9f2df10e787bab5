/* nemesis.c — scheduled fault injection (see nemesis.h). */
#include "nemesis.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "cluster.h"

/* Faults carry "ms" so that a node heals itself if this program dies before
 * it can: a crashed tester must not leave the cluster broken for the next. */
static long self_heal_ms(const wl_nemesis *n)
{
	return (long)(n->interval / 1000000) * 3 + 5000;
}

/* Records the HTTP status of one call in answers (0 = no answer). */
static int note(cJSON *answers, long st)
{
	cJSON *v = cJSON_CreateNumber((double)st);
	return v != NULL && cJSON_AddItemToArray(answers, v) ? 0 : -1;
}

static int admin_one(wl_nemesis *n, size_t i, const char *method, const char *path,
		     const char *body, cJSON *answers)
{
	long st = cluster_admin(&n->call, n->o, i, method, path, body);
	return st < 0 ? -1 : note(answers, st);
}

static int admin_all(wl_nemesis *n, const char *method, const char *path,
		     const char *body, cJSON *answers)
{
	for (size_t i = 0; i < n->o->n_nodes; i++)
		if (admin_one(n, i, method, path, body, answers) != 0)
			return -1;
	return 0;
}

/* Writes one log line: {"time","event","what","targets","body","answers"};
 * event is start, heal or skip; targets are positions in --nodes; answers
 * the HTTP status of each call made (0 = no answer). */
int nemesis_log_event(wl_nemesis *n, uint64_t t, const char *event, const char *what,
		      const cJSON *targets, const char *body, const cJSON *answers)
{
	cJSON *o = cJSON_CreateObject();
	if (o == NULL)
		return -1;
	int bad = 0;
	bad |= cJSON_AddNumberToObject(o, "time", (double)t) == NULL;
	bad |= cJSON_AddStringToObject(o, "event", event) == NULL;
	bad |= cJSON_AddStringToObject(o, "what", what) == NULL;
	if (targets != NULL) {
		cJSON *d = cJSON_Duplicate(targets, 1);
		bad |= d == NULL || !cJSON_AddItemToObject(o, "targets", d);
	}
	if (body != NULL) {
		cJSON *b = cJSON_Parse(body);
		bad |= b == NULL || !cJSON_AddItemToObject(o, "body", b);
	}
	if (answers != NULL) {
		cJSON *d = cJSON_Duplicate(answers, 1);
		bad |= d == NULL || !cJSON_AddItemToObject(o, "answers", d);
	}
	char *line = bad ? NULL : cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (line == NULL)
		return -1;
	if (n->log != NULL) {
		fprintf(n->log, "%s\n", line);
		fflush(n->log);
	}
	free(line);
	return 0;
}

/* Positions of the nodes hit, as a JSON array. */
cJSON *nemesis_targets_of(const int *pos, size_t k)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a != NULL && i < k; i++) {
		cJSON *v = cJSON_CreateNumber(pos[i]);
		if (v == NULL || !cJSON_AddItemToArray(a, v)) {
			cJSON_Delete(v);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

/* {"groups":[[ids of side a],[ids of the rest]],"ms":...}: side a is the
 * first k positions of perm. */
static char *partition_body(const wl_nemesis *n, const int *perm, size_t k)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *groups = cJSON_AddArrayToObject(o, "groups");
	cJSON *a = cJSON_CreateArray(), *b = cJSON_CreateArray();
	int bad = o == NULL || groups == NULL || a == NULL || b == NULL;
	if (!bad) {
		bad |= !cJSON_AddItemToArray(groups, a);
		bad |= !cJSON_AddItemToArray(groups, b);
	} else {
		cJSON_Delete(a);
		cJSON_Delete(b);
	}
	for (size_t i = 0; !bad && i < n->o->n_nodes; i++) {
		cJSON *v = cJSON_CreateNumber(n->ids[perm[i]]);
		bad |= v == NULL || !cJSON_AddItemToArray(i < k ? a : b, v);
	}
	bad |= bad || cJSON_AddNumberToObject(o, "ms", (double)self_heal_ms(n)) == NULL;
	char *s = bad ? NULL : cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static int inject_partition(wl_nemesis *n, uint64_t now, int kind, const int *perm,
			    size_t k)
{
	char *body = partition_body(n, perm, k);
	cJSON *answers = cJSON_CreateArray();
	cJSON *targets = nemesis_targets_of(perm, k);
	int rc = -1;
	if (body != NULL && answers != NULL && targets != NULL &&
	    admin_all(n, "POST", "/admin/faults/partition", body, answers) == 0)
		rc = nemesis_log_event(n, now, "start", wl_nemesis_name[kind], targets, body, answers);
	free(body);
	cJSON_Delete(answers);
	cJSON_Delete(targets);
	return rc;
}

static void shuffle(wl_nemesis *n, int *perm, size_t len)
{
	for (size_t i = 0; i < len; i++)
		perm[i] = (int)i;
	for (size_t i = len; i > 1; i--) {
		size_t j = rng_below(&n->rng, i);
		int t = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = t;
	}
}

/* One fault on one node: POST path with body there. */
static int inject_one(wl_nemesis *n, uint64_t now, int kind, int target, int agent,
		      const char *path, const char *body)
{
	cJSON *answers = cJSON_CreateArray();
	cJSON *targets = nemesis_targets_of(&target, 1);
	int rc = -1;
	if (answers != NULL && targets != NULL) {
		long st = agent ? cluster_agent(&n->call, n->o, (size_t)target, "POST", path, body)
				: cluster_admin(&n->call, n->o, (size_t)target, "POST", path, body);
		if (st >= 0 && note(answers, st) == 0)
			rc = nemesis_log_event(n, now, "start", wl_nemesis_name[kind], targets, body, answers);
	}
	cJSON_Delete(answers);
	cJSON_Delete(targets);
	return rc;
}

/* bump, skew, freeze or strobe, with sizes that matter against election
 * timeouts of a few hundred ms. */
static char *clock_body(wl_nemesis *n)
{
	char buf[160];
	long ms = self_heal_ms(n);
	switch (rng_below(&n->rng, 4)) {
	case 0: {
		long off = 200 + (long)rng_below(&n->rng, 4800);
		if (rng_below(&n->rng, 2))
			off = -off;
		snprintf(buf, sizeof buf, "{\"offset_ms\":%ld,\"ms\":%ld}", off, ms);
		break;
	}
	case 1:
		snprintf(buf, sizeof buf, "{\"rate\":%s,\"ms\":%ld}",
			 rng_below(&n->rng, 2) ? "0.5" : "2.0", ms);
		break;
	case 2:
		snprintf(buf, sizeof buf, "{\"freeze\":true,\"ms\":%ld}", ms);
		break;
	default:
		snprintf(buf, sizeof buf,
			 "{\"strobe\":{\"delta_ms\":%ld,\"period_ms\":%ld},\"ms\":%ld}",
			 200 + (long)rng_below(&n->rng, 1800), 10 + (long)rng_below(&n->rng, 190),
			 ms);
		break;
	}
	size_t len = strlen(buf) + 1;
	char *s = malloc(len);
	if (s != NULL)
		memcpy(s, buf, len);
	return s;
}

static int pick_kind(wl_nemesis *n)
{
	if (n->o->nemesis != NEM_MIX)
		return n->o->nemesis;
	int kinds[] = {NEM_PARTITION, NEM_LEADER_ISOLATION, NEM_PAUSE, NEM_CLOCK, NEM_KILL};
	size_t k = sizeof kinds / sizeof kinds[0];
	if (n->o->agents == NULL)
		k--; /* no agents, no kill */
	if (n->o->n_nodes < 2)
		return rng_below(&n->rng, 2) ? NEM_PAUSE : NEM_CLOCK;
	return kinds[rng_below(&n->rng, k)];
}

static int inject(wl_nemesis *n, uint64_t now)
{
	size_t nn = n->o->n_nodes;
	int kind = pick_kind(n);
	int rc = 0;
	n->target = -1;
	int *perm = malloc(nn * sizeof *perm);
	if (perm == NULL)
		return -1;
	shuffle(n, perm, nn);
	char body[64];
	snprintf(body, sizeof body, "{\"ms\":%ld}", self_heal_ms(n));

	switch (kind) {
	case NEM_PARTITION:
		/* A random majority against the rest. */
		rc = inject_partition(n, now, kind, perm, nn / 2 + 1);
		break;
	case NEM_LEADER_ISOLATION: {
		int leader = cluster_find_leader(&n->call, n->o, n->ids);
		if (leader < 0) {
			/* Nothing to isolate; say so, and count this interval healthy. */
			rc = nemesis_log_event(n, now, "skip", wl_nemesis_name[kind], NULL, NULL, NULL);
			free(perm);
			return rc;
		}
		for (size_t i = 0; i < nn; i++)
			if (perm[i] == leader) {
				perm[i] = perm[0];
				perm[0] = leader;
			}
		n->target = leader;
		rc = inject_partition(n, now, kind, perm, 1);
		break;
	}
	case NEM_PAUSE:
		n->target = perm[0];
		rc = inject_one(n, now, kind, n->target, 0, "/admin/faults/pause", body);
		break;
	case NEM_KILL:
		n->target = perm[0];
		n->killed[n->target] = 1;
		rc = inject_one(n, now, kind, n->target, 1, "/agent/kill", NULL);
		break;
	case NEM_MEMBER:
		rc = nemesis_member_inject(n, now); /* sets n->target */
		break;
	case NEM_CLOCK: {
		char *cb = clock_body(n);
		n->target = perm[0];
		rc = cb ? inject_one(n, now, kind, n->target, 0, "/admin/faults/clock", cb) : -1;
		free(cb);
		break;
	}
	default:
		break;
	}
	free(perm);
	n->active = 1;
	n->kind = kind;
	n->since = now;
	n->events++;
	return rc;
}

static int heal(wl_nemesis *n, uint64_t now)
{
	cJSON *answers = cJSON_CreateArray();
	cJSON *targets = NULL;
	int rc = answers ? 0 : -1;
	int t = n->target;
	if (t >= 0)
		targets = nemesis_targets_of(&t, 1);
	switch (n->kind) {
	case NEM_PAUSE:
		if (rc == 0)
			rc = admin_one(n, (size_t)t, "POST", "/admin/faults/resume", NULL, answers);
		break;
	case NEM_KILL:
		if (rc == 0) {
			long st = cluster_agent(&n->call, n->o, (size_t)t, "POST", "/agent/start", NULL);
			rc = st < 0 ? -1 : note(answers, st);
			if (st >= 200 && st < 300)
				n->killed[t] = 0;
		}
		break;
	case NEM_CLOCK:
		if (rc == 0)
			rc = admin_one(n, (size_t)t, "DELETE", "/admin/faults", NULL, answers);
		break;
	case NEM_MEMBER: /* logs its own line: whom it added back */
		if (rc == 0)
			rc = nemesis_member_heal(n, now);
		cJSON_Delete(answers);
		cJSON_Delete(targets);
		if (stats_add_span(n->stats, n->since, now, n->kind) != 0)
			rc = -1;
		n->active = 0;
		return rc;
	default: /* partitions: every node dropped traffic, every node heals */
		if (rc == 0)
			rc = admin_all(n, "DELETE", "/admin/faults", NULL, answers);
		break;
	}
	if (rc == 0)
		rc = nemesis_log_event(n, now, "heal", wl_nemesis_name[n->kind], targets, NULL, answers);
	cJSON_Delete(answers);
	cJSON_Delete(targets);
	if (stats_add_span(n->stats, n->since, now, n->kind) != 0)
		rc = -1;
	n->active = 0;
	return rc;
}

int nemesis_init(wl_nemesis *n, const wl_options *o, wl_stats *stats, uint64_t now)
{
	memset(n, 0, sizeof *n);
	n->o = o;
	n->stats = stats;
	/* Its own stream, so that fault choices do not shift with op counts. */
	n->rng.s = o->seed ^ 0x6e656d65736973ULL;
	n->interval = (uint64_t)(o->nemesis_interval * 1e9);
	n->next = o->nemesis == NEM_NONE ? UINT64_MAX : now + n->interval;
	n->target = -1;
	n->ids = calloc(o->n_nodes, sizeof *n->ids);
	n->killed = calloc(o->n_nodes, sizeof *n->killed);
	if (n->ids == NULL || n->killed == NULL) {
		fprintf(stderr, "raftkv-workload: out of memory\n");
		return -1;
	}
	if (o->nemesis_log != NULL) {
		n->log = fopen(o->nemesis_log, "w");
		if (n->log == NULL) {
			fprintf(stderr, "raftkv-workload: cannot write %s: %s\n", o->nemesis_log,
				strerror(errno));
			return -1;
		}
	}
	if (o->nemesis != NEM_NONE)
		cluster_node_ids(&n->call, o, n->ids);
	return 0;
}

uint64_t nemesis_due(const wl_nemesis *n)
{
	return n->next;
}

int nemesis_step(wl_nemesis *n, uint64_t now, uint64_t end)
{
	if (now < n->next)
		return 0;
	if (!n->active && now + n->interval > end) {
		/* A fault cut short by the end would only blur the last seconds. */
		n->next = UINT64_MAX;
		return 0;
	}
	int rc = n->active ? heal(n, now) : inject(n, now);
	/* Time spent in the calls themselves is not taken off the interval. */
	n->next = wl_now() + n->interval;
	return rc;
}

int nemesis_heal_all(wl_nemesis *n)
{
	if (n->o->nemesis == NEM_NONE)
		return 0;
	int rc = 0;
	uint64_t now = wl_now();
	if (n->active)
		rc |= heal(n, now);
	n->next = UINT64_MAX;
	/* Whatever the schedule believes, leave nothing behind. */
	cJSON *answers = cJSON_CreateArray();
	if (answers == NULL)
		return -1;
	rc |= admin_all(n, "DELETE", "/admin/faults", NULL, answers);
	if (n->o->nemesis == NEM_MEMBER && nemesis_member_heal_all(n) != 0)
		rc = -1;
	for (size_t i = 0; i < n->o->n_nodes; i++)
		if (n->killed[i]) {
			long st = cluster_agent(&n->call, n->o, i, "POST", "/agent/start", NULL);
			if (st >= 200 && st < 300)
				n->killed[i] = 0;
		}
	rc |= nemesis_log_event(n, wl_now(), "heal", "all", NULL, NULL, answers);
	cJSON_Delete(answers);
	return rc;
}

void nemesis_free(wl_nemesis *n)
{
	if (n->log != NULL) {
		int bad = ferror(n->log);
		if (fclose(n->log) != 0 || bad)
			fprintf(stderr, "raftkv-workload: error writing the nemesis log\n");
	}
	http_call_free(&n->call);
	free(n->ids);
	free(n->killed);
	memset(n, 0, sizeof *n);
}
