/* supply.c — per-value need/produce counts for pruning the search. */
#include "supply.h"

#include <stdlib.h>
#include <string.h>

/* Beyond this many (append, value) pairs the index is not built. */
#define SUPPLY_MAX_PAIRS ((size_t)20 << 20)
#define SUPPLY_MAX_LENGTHS 64

static bool starved(const supply *s, uint32_t v)
{
	return s->need[v] > 0 && s->prod[v] == 0;
}

/* Moves the counts of value v, keeping the number of starved values. */
static void adjust(supply *s, uint32_t v, int dneed, int dprod)
{
	if (v >= s->nstates)
		return; /* made by an append during the search; nobody needs it */
	bool was = starved(s, v);
	s->need[v] = (uint32_t)((int64_t)s->need[v] + dneed);
	s->prod[v] = (uint32_t)((int64_t)s->prod[v] + dprod);
	bool now = starved(s, v);
	s->starved = s->starved + (now ? 1u : 0u) - (was ? 1u : 0u);
}

/* The op's effect on the counts, times sign (+1 unplace, -1 place). A cas
 * both consumes and produces: the order is reversed on undo so the starved
 * count passes through the same values. */
static void apply(supply *s, const op *ops, uint32_t i, int sign)
{
	const op *o = &ops[i];
	switch ((op_kind)o->kind) {
	case OP_READ:
		adjust(s, o->a, sign, 0);
		break;
	case OP_WRITE:
		adjust(s, o->a, 0, sign);
		break;
	case OP_CAS:
		if (sign < 0) {
			adjust(s, o->a, sign, 0);
			adjust(s, o->b, 0, sign);
		} else {
			adjust(s, o->b, 0, sign);
			adjust(s, o->a, sign, 0);
		}
		break;
	case OP_CAS_MAYBE:
		adjust(s, o->b, 0, sign);
		break;
	case OP_CAS_MISMATCH:
		break;
	case OP_APPEND:
		if (!s->indexed) {
			s->blind = (size_t)((int64_t)s->blind + sign);
			break;
		}
		for (uint32_t k = s->app_off[i]; k < s->app_off[i + 1]; k++)
			adjust(s, s->app_ids[k], 0, sign);
		break;
	}
}

static bool is_needed(const supply *s, uint32_t v)
{
	return v != MODEL_ABSENT && v < s->nstates && s->need[v] > 0;
}

/*
 * For every append, the needed values that end with its text. Values are
 * bucketed by their suffix of each append length, so the cost is about
 * (needed values x distinct lengths) + pairs. 0 indexed, 1 too big to index
 * (appends then block pruning), -1 ENOMEM.
 */
static int index_appends(supply *s, const model *m, const op *ops, size_t n)
{
	size_t lens[SUPPLY_MAX_LENGTHS], nlens = 0, napp = 0;
	for (size_t i = 0; i < n; i++) {
		if (ops[i].kind != OP_APPEND)
			continue;
		napp++;
		size_t j = 0;
		while (j < nlens && lens[j] != ops[i].text_len)
			j++;
		if (j == nlens) {
			if (nlens == SUPPLY_MAX_LENGTHS)
				return 1;
			lens[nlens++] = ops[i].text_len;
		}
	}
	s->app_off = calloc(n + 1, sizeof *s->app_off);
	if (!s->app_off)
		return -1;
	if (napp == 0)
		return 0;
	int rc = -1;
	strtab suf = { 0 };
	uint32_t *head = NULL, *next = calloc(s->nstates, sizeof *next);
	uint32_t *cnt = calloc(n, sizeof *cnt), *fill = calloc(n, sizeof *fill);
	if (!next || !cnt || !fill)
		goto out;
	/* Two passes over the lengths: count pairs, then fill. */
	for (int pass = 0; pass < 2; pass++) {
		size_t total = 0;
		for (size_t li = 0; li < nlens; li++) {
			size_t L = lens[li];
			strtab_free(&suf);
			free(head);
			head = NULL;
			size_t nsuf = 0;
			/* Bucket needed values by their last L bytes (lists via next[]). */
			uint32_t *tmp_head = NULL;
			size_t cap = 0;
			for (uint32_t v = 1; v < s->nstates; v++) {
				if (!is_needed(s, v))
					continue;
				size_t len;
				const char *str = model_str(m, v, &len);
				if (len < L)
					continue;
				uint32_t sid;
				if (strtab_intern(&suf, str + len - L, L, &sid) < 0) {
					free(tmp_head);
					goto out;
				}
				if (sid >= cap) {
					size_t ncap = cap ? cap * 2 : 64;
					uint32_t *nh = realloc(tmp_head, ncap * sizeof *nh);
					if (!nh) {
						free(tmp_head);
						goto out;
					}
					for (size_t k = cap; k < ncap; k++)
						nh[k] = 0;
					tmp_head = nh;
					cap = ncap;
				}
				next[v] = tmp_head[sid]; /* 0 ends a list: id 0 is absent */
				tmp_head[sid] = v;
				nsuf = sid + 1 > nsuf ? sid + 1 : nsuf;
			}
			head = tmp_head;
			for (size_t i = 0; i < n; i++) {
				if (ops[i].kind != OP_APPEND || ops[i].text_len != L)
					continue;
				uint32_t sid;
				if (!strtab_find(&suf, ops[i].text, L, &sid) || sid >= nsuf)
					continue;
				for (uint32_t v = head[sid]; v; v = next[v]) {
					if (pass == 0) {
						cnt[i]++;
					} else {
						s->app_ids[s->app_off[i] + fill[i]++] = v;
					}
					total++;
				}
			}
		}
		if (pass == 0) {
			if (total > SUPPLY_MAX_PAIRS) {
				rc = 1;
				goto out;
			}
			for (size_t i = 0; i < n; i++)
				s->app_off[i + 1] = s->app_off[i] + cnt[i];
			s->app_ids = malloc((total ? total : 1) * sizeof *s->app_ids);
			if (!s->app_ids)
				goto out;
		}
	}
	rc = 0;
out:
	strtab_free(&suf);
	free(head);
	free(next);
	free(cnt);
	free(fill);
	return rc;
}

typedef struct keyed {
	int64_t t;
	uint32_t i;
} keyed;

static int by_time(const void *a, const void *b)
{
	const keyed *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Sorts idx[0..k) by the times t_of gives them. */
static int sort_by(uint32_t *idx, size_t k, const op *ops, bool by_ret)
{
	keyed *tmp = malloc((k ? k : 1) * sizeof *tmp);
	if (!tmp)
		return -1;
	for (size_t j = 0; j < k; j++)
		tmp[j] = (keyed){ by_ret ? ops[idx[j]].ret : ops[idx[j]].call, idx[j] };
	qsort(tmp, k, sizeof *tmp, by_time);
	for (size_t j = 0; j < k; j++)
		idx[j] = tmp[j].i;
	free(tmp);
	return 0;
}

static bool is_reset(const op *o)
{
	return o->kind == OP_WRITE || o->kind == OP_CAS || o->kind == OP_CAS_MAYBE;
}

static int index_prefix_rule(supply *s, const op *ops, size_t n)
{
	s->reads = malloc((n ? n : 1) * sizeof *s->reads);
	s->resets = malloc((n ? n : 1) * sizeof *s->resets);
	s->pos = malloc((n ? n : 1) * sizeof *s->pos);
	s->placed = calloc(n ? n : 1, sizeof *s->placed);
	if (!s->reads || !s->resets || !s->pos || !s->placed)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		if (ops[i].kind == OP_READ)
			s->reads[s->nreads++] = i;
		else if (is_reset(&ops[i]))
			s->resets[s->nresets++] = i;
	}
	if (sort_by(s->reads, s->nreads, ops, true) < 0 || sort_by(s->resets, s->nresets, ops, false) < 0)
		return -1;
	for (size_t k = 0; k < s->nreads; k++)
		s->pos[s->reads[k]] = (uint32_t)k;
	for (size_t k = 0; k < s->nresets; k++)
		s->pos[s->resets[k]] = (uint32_t)k;
	return 0;
}

int supply_init(supply *s, const model *m, const op *ops, size_t n)
{
	memset(s, 0, sizeof *s);
	s->nstates = m->states.n + 1;
	s->need = calloc(s->nstates, sizeof *s->need);
	s->prod = calloc(s->nstates, sizeof *s->prod);
	if (!s->need || !s->prod)
		goto oom;
	/* Needs first: the append index only lists needed values. */
	for (size_t i = 0; i < n; i++)
		if (ops[i].kind == OP_READ || ops[i].kind == OP_CAS)
			s->need[ops[i].a]++;
	int r = index_appends(s, m, ops, n);
	if (r < 0)
		goto oom;
	s->indexed = r == 0;
	if (index_prefix_rule(s, ops, n) < 0)
		goto oom;
	memset(s->need, 0, s->nstates * sizeof *s->need);
	for (uint32_t i = 0; i < n; i++)
		apply(s, ops, i, +1);
	return 0;
oom:
	supply_free(s);
	return -1;
}

void supply_place(supply *s, const op *ops, uint32_t i)
{
	apply(s, ops, i, -1);
	s->placed[i] = true;
}

void supply_unplace(supply *s, const op *ops, uint32_t i)
{
	apply(s, ops, i, +1);
	s->placed[i] = false;
	/* Keep each cursor at or before the first unplaced entry. */
	if (ops[i].kind == OP_READ && s->pos[i] < s->read_cur)
		s->read_cur = s->pos[i];
	else if (is_reset(&ops[i]) && s->pos[i] < s->reset_cur)
		s->reset_cur = s->pos[i];
}

#define PREFIX_READS 3 /* soonest reads tested */
#define PREFIX_SCAN 16 /* placed reads skipped while looking for them */

static bool is_prefix(const char *p, size_t plen, const char *v, size_t vlen)
{
	return plen <= vlen && memcmp(v, p, plen) == 0;
}

/* The value produced by a reset (write or cas). */
static const char *reset_value(const model *m, const op *o, size_t *len)
{
	return model_str(m, o->kind == OP_WRITE ? o->a : o->b, len);
}

static bool prefix_dead(supply *s, const model *m, const op *ops, uint32_t state)
{
	while (s->read_cur < s->nreads && s->placed[s->reads[s->read_cur]])
		s->read_cur++;
	while (s->reset_cur < s->nresets && s->placed[s->resets[s->reset_cur]])
		s->reset_cur++;
	size_t slen;
	const char *sv = model_str(m, state, &slen);
	int tested = 0;
	for (size_t k = s->read_cur; k < s->nreads && k < s->read_cur + PREFIX_SCAN &&
				     tested < PREFIX_READS; k++) {
		if (s->placed[s->reads[k]])
			continue;
		tested++;
		const op *r = &ops[s->reads[k]];
		size_t vlen;
		const char *v = model_str(m, r->a, &vlen);
		if (!v)
			continue; /* absent: the starvation rule's business */
		/* Absent is a prefix of everything appends make. */
		if (!sv || is_prefix(sv, slen, v, vlen))
			continue;
		/* Otherwise some write or cas that may still come before r must
		 * lay down a prefix of v. */
		bool found = false;
		for (size_t j = s->reset_cur; j < s->nresets && !found; j++) {
			const op *w = &ops[s->resets[j]];
			if (w->call > r->ret)
				break;
			if (s->placed[s->resets[j]])
				continue;
			size_t wlen;
			const char *wv = reset_value(m, w, &wlen);
			found = wv && is_prefix(wv, wlen, v, vlen);
		}
		if (!found)
			return true;
	}
	return false;
}

bool supply_dead(supply *s, const model *m, const op *ops, uint32_t state)
{
	if (!s->blind) {
		uint32_t allowed = state < s->nstates && starved(s, state) ? 1 : 0;
		if (s->starved > allowed)
			return true;
	}
	return prefix_dead(s, m, ops, state);
}

void supply_free(supply *s)
{
	free(s->need);
	free(s->prod);
	free(s->app_off);
	free(s->app_ids);
	free(s->reads);
	free(s->resets);
	free(s->pos);
	free(s->placed);
	s->need = s->prod = s->app_off = s->app_ids = s->reads = s->resets = s->pos = NULL;
	s->placed = NULL;
}
