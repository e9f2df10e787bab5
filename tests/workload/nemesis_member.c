/*
 * nemesis_member.c — the `member` nemesis: membership changes through
 * POST /admin/members (contract section 3) while the clients run.
 *
 * Each injection is one change picked at random among those possible now:
 *   remove   a member, if the members stay at least a majority of the
 *            number there were at the start (never fewer);
 *   replace  (with --agents, a node started with --join) remove it, then
 *            kill it, wipe its data dir and start it through its agent: an
 *            empty node with the same id and addresses, which asks to be
 *            added again by itself (a new incarnation);
 *   add      a node of --nodes that is out (removed, or a new life waiting),
 *            with the incarnation its status gives, if it knows the leader
 *            (the transport accepts frames only from peers it knows).
 * Each heal adds back every node that is out and can be added, so that the
 * cluster is whole between faults and, after the final heal, every node of
 * --nodes is a member again and ready. Everything is read afresh from the
 * nodes' /admin/status each time: the nemesis keeps no membership state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "cluster.h"
#include "nemesis.h"

typedef struct mview {
	int up;          /* answered /admin/status */
	int id;
	int member;      /* listed by the leader's configuration */
	int join;        /* started with --join: rejoins by itself after a wipe */
	int addable;     /* out, settled (removed or none) and knows the leader */
	char raft[256], http[256], inc[32];
	cJSON *st;       /* its status */
} mview;

typedef struct mcluster {
	mview *v;        /* by position in --nodes */
	int leader;      /* position, -1 when none */
	int n_members;   /* in the leader's configuration (ids outside --nodes too) */
} mcluster;

static const char *str_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int lists_id(const cJSON *st, int id)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(st, "members")) {
		const cJSON *mid = cJSON_GetObjectItemCaseSensitive(m, "id");
		if (cJSON_IsNumber(mid) && mid->valueint == id)
			return 1;
	}
	return 0;
}

static void view_free(wl_nemesis *n, mcluster *c)
{
	for (size_t i = 0; c->v != NULL && i < n->o->n_nodes; i++)
		cJSON_Delete(c->v[i].st);
	free(c->v);
	c->v = NULL;
}

/* Reads every node's status. 0, or -1 when out of memory. */
static int view(wl_nemesis *n, mcluster *c)
{
	size_t nn = n->o->n_nodes;
	c->v = calloc(nn, sizeof *c->v);
	c->leader = -1;
	c->n_members = 0;
	if (c->v == NULL)
		return -1;
	double best = -1;
	for (size_t i = 0; i < nn; i++) {
		mview *m = &c->v[i];
		m->id = n->ids[i];
		if (cluster_admin(&n->call, n->o, i, "GET", "/admin/status", NULL) != 200)
			continue;
		m->st = cJSON_Parse(http_call_body(&n->call));
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(m->st, "id");
		if (!cJSON_IsNumber(id))
			continue;
		m->up = 1;
		m->id = n->ids[i] = id->valueint;
		m->join = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m->st, "join"));
		const char *r = str_of(m->st, "raft"), *h = str_of(m->st, "http"), *inc = str_of(m->st, "incarnation");
		snprintf(m->raft, sizeof m->raft, "%s", r != NULL ? r : "");
		snprintf(m->http, sizeof m->http, "%s", h != NULL ? h : "");
		snprintf(m->inc, sizeof m->inc, "%s", inc != NULL ? inc : "0");
		const char *role = str_of(m->st, "role");
		const cJSON *term = cJSON_GetObjectItemCaseSensitive(m->st, "term");
		if (role != NULL && strcmp(role, "leader") == 0 && cJSON_IsNumber(term) &&
		    term->valuedouble > best) {
			best = term->valuedouble;
			c->leader = (int)i;
		}
	}
	if (c->leader < 0)
		return 0;
	const cJSON *lst = c->v[c->leader].st;
	c->n_members = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(lst, "members"));
	int leader_id = c->v[c->leader].id;
	for (size_t i = 0; i < nn; i++) {
		mview *m = &c->v[i];
		m->member = m->up && lists_id(lst, m->id);
		const char *ms = m->up ? str_of(m->st, "membership") : NULL;
		int settled = ms != NULL && (strcmp(ms, "removed") == 0 || strcmp(ms, "none") == 0);
		m->addable = m->up && !m->member && settled && m->raft[0] != '\0' &&
			     lists_id(m->st, leader_id);
	}
	return 0;
}

/* POST /admin/members body to the leader; its status into answers. */
static long change(wl_nemesis *n, const mcluster *c, const char *body, cJSON *answers)
{
	long st = cluster_admin(&n->call, n->o, (size_t)c->leader, "POST", "/admin/members", body);
	cJSON *v = cJSON_CreateNumber((double)st);
	if (v == NULL || !cJSON_AddItemToArray(answers, v)) {
		cJSON_Delete(v);
		return -1;
	}
	return st;
}

static long agent(wl_nemesis *n, size_t i, const char *path, cJSON *answers)
{
	long st = cluster_agent(&n->call, n->o, i, "POST", path, NULL);
	cJSON *v = cJSON_CreateNumber((double)st);
	if (v == NULL || !cJSON_AddItemToArray(answers, v)) {
		cJSON_Delete(v);
		return -1;
	}
	return st;
}

static void add_body(const mview *m, char *out, size_t len)
{
	snprintf(out, len, "{\"op\":\"add\",\"id\":%d,\"raft\":\"%s\",\"http\":\"%s\",\"incarnation\":\"%s\"}",
		 m->id, m->raft, m->http, m->inc);
}

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	(void)nanosleep(&ts, NULL);
}

enum { OP_REMOVE, OP_REPLACE, OP_ADD };
static const char *const op_name[] = {"member-remove", "member-replace", "member-add"};

int nemesis_member_inject(wl_nemesis *n, uint64_t now)
{
	mcluster c;
	if (view(n, &c) != 0) {
		view_free(n, &c);
		return -1;
	}
	size_t nn = n->o->n_nodes;
	int floor = n->orig_members / 2 + 1;
	/* Candidates per op, then one op among those that have any. */
	int *cand[3];
	size_t nc[3] = {0, 0, 0};
	int rc = -1;
	for (int k = 0; k < 3; k++)
		cand[k] = malloc(nn * sizeof(int));
	if (cand[0] == NULL || cand[1] == NULL || cand[2] == NULL)
		goto out;
	for (size_t i = 0; c.leader >= 0 && i < nn; i++) {
		const mview *m = &c.v[i];
		if (m->member && c.n_members - 1 >= floor) {
			cand[OP_REMOVE][nc[OP_REMOVE]++] = (int)i;
			if (m->join && n->o->agents != NULL)
				cand[OP_REPLACE][nc[OP_REPLACE]++] = (int)i;
		}
		if (m->addable)
			cand[OP_ADD][nc[OP_ADD]++] = (int)i;
	}
	int ops[3], nops = 0;
	for (int k = 0; k < 3; k++)
		if (nc[k] > 0)
			ops[nops++] = k;
	if (nops == 0) {
		rc = nemesis_log_event(n, now, "skip", "member", NULL, NULL, NULL);
		goto out;
	}
	int op = ops[rng_below(&n->rng, (uint64_t)nops)];
	int t = cand[op][rng_below(&n->rng, nc[op])];
	char body[800];
	if (op == OP_ADD)
		add_body(&c.v[t], body, sizeof body);
	else
		snprintf(body, sizeof body, "{\"op\":\"remove\",\"id\":%d}", c.v[t].id);
	cJSON *answers = cJSON_CreateArray();
	cJSON *targets = nemesis_targets_of(&t, 1);
	if (answers != NULL && targets != NULL) {
		long st = change(n, &c, body, answers);
		rc = st < 0 ? -1 : 0;
		if (rc == 0 && op == OP_REPLACE && st == 200) {
			/* The same machine comes back empty: kill, wipe, start. */
			rc |= agent(n, (size_t)t, "/agent/kill", answers) < 0;
			for (int tries = 0; rc == 0 && tries < 20; tries++) {
				long w = agent(n, (size_t)t, "/agent/wipe", answers);
				if (w < 0)
					rc = -1;
				if (w == 200)
					break;
				pause_ms(50); /* the agent may still be reaping the node */
			}
			if (rc == 0 && agent(n, (size_t)t, "/agent/start", answers) < 0)
				rc = -1;
		}
		if (rc == 0)
			rc = nemesis_log_event(n, now, "start", op_name[op], targets, body, answers);
	}
	cJSON_Delete(answers);
	cJSON_Delete(targets);
	n->target = t;
out:
	for (int k = 0; k < 3; k++)
		free(cand[k]);
	view_free(n, &c);
	return rc;
}

/* Adds back every node that is out and can be added. *all_in: every node of
 * --nodes is a member. 0, or -1 when out of memory. */
static int add_back(wl_nemesis *n, uint64_t now, int log, int *all_in)
{
	mcluster c;
	*all_in = 0;
	if (view(n, &c) != 0) {
		view_free(n, &c);
		return -1;
	}
	int rc = 0, in = c.leader >= 0;
	cJSON *answers = cJSON_CreateArray();
	cJSON *targets = cJSON_CreateArray();
	if (answers == NULL || targets == NULL)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < n->o->n_nodes; i++) {
		const mview *m = &c.v[i];
		if (m->member)
			continue;
		in = 0;
		if (!m->addable || c.leader < 0)
			continue;
		char body[800];
		add_body(m, body, sizeof body);
		cJSON *v = cJSON_CreateNumber((double)i);
		if (v == NULL || !cJSON_AddItemToArray(targets, v)) {
			cJSON_Delete(v);
			rc = -1;
			break;
		}
		if (change(n, &c, body, answers) < 0)
			rc = -1;
	}
	if (rc == 0 && log)
		rc = nemesis_log_event(n, now, "heal", "member", targets, NULL, answers);
	cJSON_Delete(answers);
	cJSON_Delete(targets);
	view_free(n, &c);
	*all_in = in;
	return rc;
}

int nemesis_member_heal(wl_nemesis *n, uint64_t now)
{
	int all_in;
	return add_back(n, now, 1, &all_in);
}

int nemesis_member_heal_all(wl_nemesis *n)
{
	uint64_t deadline = wl_now() + (uint64_t)(n->o->ready_timeout * 1e9);
	int all_in = 0;
	while (!all_in) {
		if (add_back(n, wl_now(), 0, &all_in) != 0)
			return -1;
		if (all_in || wl_now() >= deadline)
			break;
		pause_ms(500);
	}
	if (!all_in)
		fprintf(stderr, "raftkv-workload: member nemesis: some nodes are still out of the cluster\n");
	return all_in ? 0 : -1;
}

int nemesis_member_init(wl_nemesis *n)
{
	mcluster c;
	int rc = view(n, &c);
	n->orig_members = c.leader >= 0 ? c.n_members : (int)n->o->n_nodes;
	view_free(n, &c);
	return rc;
}
