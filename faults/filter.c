/*
 * filter.c — the one place peer messages are judged: partitions, targeted
 * drops, random loss, delay with jitter, duplication.
 *
 * Order of checks: partition, then drop_to/drop_from, then random loss, then
 * delay and duplication of what survives. Random draws are taken only for
 * settings that are on, so a seed replays the same choices for the same
 * configuration. drop_probability, delay and duplication apply in both
 * directions ("this node's network is lossy/slow"): when the tester sets them
 * on every node, a message crossing two such nodes is judged twice.
 * Delay is delay_ms plus a uniform draw in [0, jitter_ms].
 */
#include "faults_internal.h"

#include <stdlib.h>

bool idset_has(const fault_idset *s, uint32_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->ids[i] == id)
			return true;
	return false;
}

void idset_free(fault_idset *s)
{
	free(s->ids);
	s->ids = NULL;
	s->n = 0;
}

void net_heal(fault_net *n)
{
	idset_free(&n->drop_to);
	idset_free(&n->drop_from);
	n->active = false;
	n->drop_p = 0;
	n->dup_p = 0;
	n->delay_ms = 0;
	n->jitter_ms = 0;
	n->until = FAULT_FOREVER;
}

void partition_heal(fault_partition *p)
{
	for (size_t i = 0; i < p->n_groups; i++)
		idset_free(&p->groups[i]);
	free(p->groups);
	p->groups = NULL;
	p->n_groups = 0;
	idset_free(&p->mine);
	p->active = false;
	p->until = FAULT_FOREVER;
}

fault_verdict faults_filter_msg(faults *f, enum fault_dir dir, uint32_t peer, uint64_t real_ms)
{
	fault_verdict v = { .drop = false, .delay_ms = 0, .copies = 1 };
	faults_expire(f, real_ms);

	if (f->part.active && peer != f->self && !idset_has(&f->part.mine, peer)) {
		v.drop = true;
		return v;
	}
	const fault_net *n = &f->net;
	if (!n->active)
		return v;
	if ((dir == FAULT_OUT && idset_has(&n->drop_to, peer)) ||
	    (dir == FAULT_IN && idset_has(&n->drop_from, peer))) {
		v.drop = true;
		return v;
	}
	if (n->drop_p > 0 && rng_unit(&f->rng) < n->drop_p) {
		v.drop = true;
		return v;
	}
	v.delay_ms = n->delay_ms;
	if (n->jitter_ms > 0)
		v.delay_ms += (uint32_t)(rng_next(&f->rng) % ((uint64_t)n->jitter_ms + 1));
	if (n->dup_p > 0 && rng_unit(&f->rng) < n->dup_p)
		v.copies = 2;
	return v;
}

static cJSON *idset_json(const fault_idset *s)
{
	cJSON *a = cJSON_CreateArray();
	if (a == NULL)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		cJSON *x = cJSON_CreateNumber((double)s->ids[i]);
		if (x == NULL || !cJSON_AddItemToArray(a, x)) {
			cJSON_Delete(x);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static bool add_idset(cJSON *o, const char *key, const fault_idset *s)
{
	cJSON *a = idset_json(s);
	if (a == NULL)
		return false;
	if (!cJSON_AddItemToObject(o, key, a)) {
		cJSON_Delete(a);
		return false;
	}
	return true;
}

cJSON *net_status(const fault_net *n, uint64_t real_ms)
{
	cJSON *o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	if (!add_idset(o, "drop_to", &n->drop_to) || !add_idset(o, "drop_from", &n->drop_from) ||
	    cJSON_AddNumberToObject(o, "drop_probability", n->drop_p) == NULL ||
	    cJSON_AddNumberToObject(o, "delay_ms", n->delay_ms) == NULL ||
	    cJSON_AddNumberToObject(o, "jitter_ms", n->jitter_ms) == NULL ||
	    cJSON_AddNumberToObject(o, "duplicate_probability", n->dup_p) == NULL ||
	    status_add_remaining(o, n->until, real_ms) != 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *partition_status(const fault_partition *p, uint64_t real_ms)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *groups = cJSON_AddArrayToObject(o, "groups");
	if (groups == NULL)
		goto err;
	for (size_t i = 0; i < p->n_groups; i++) {
		cJSON *g = idset_json(&p->groups[i]);
		if (g == NULL)
			goto err;
		if (!cJSON_AddItemToArray(groups, g)) {
			cJSON_Delete(g);
			goto err;
		}
	}
	if (!add_idset(o, "reachable", &p->mine) || status_add_remaining(o, p->until, real_ms) != 0)
		goto err;
	return o;
err:
	cJSON_Delete(o);
	return NULL;
}
