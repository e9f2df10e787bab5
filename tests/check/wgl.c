/* wgl.c — WGL search with memoisation over one key's operations. */
#include "wgl.h"
#include "supply.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct entry {
	struct entry *prev, *next;
	struct entry *match; /* call -> its return (NULL if optional) */
	uint32_t op;
	bool is_call;
} entry;

typedef struct frame {
	entry *call;
	uint32_t old_state;
	bool forced; /* placed by the reduction: no alternatives to try */
} frame;

/* The linearised set, with the bounds memo.h's compression needs. */
typedef struct bitset {
	uint64_t *w;
	uint32_t nw, lo, hi;
} bitset;

static void bs_set(bitset *b, uint32_t i)
{
	uint32_t w = i >> 6;
	b->w[w] |= 1ULL << (i & 63);
	if (w + 1 > b->hi)
		b->hi = w + 1;
	if (w == b->lo)
		while (b->lo < b->nw && b->w[b->lo] == ~0ULL)
			b->lo++;
}

static void bs_clear(bitset *b, uint32_t i)
{
	uint32_t w = i >> 6;
	b->w[w] &= ~(1ULL << (i & 63));
	if (w < b->lo)
		b->lo = w;
	if (w + 1 == b->hi)
		while (b->hi > 0 && b->w[b->hi - 1] == 0)
			b->hi--;
}

int64_t wgl_now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

typedef struct sort_key {
	int64_t time;
	uint32_t is_ret; /* calls sort before returns at equal times */
	uint32_t op;
} sort_key;

static int cmp_key(const void *a, const void *b)
{
	const sort_key *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	if (x->is_ret != y->is_ret)
		return x->is_ret < y->is_ret ? -1 : 1;
	return x->op < y->op ? -1 : x->op > y->op;
}

/* Leaves the state as it is whenever it is allowed at all. */
static bool neutral(const op *o)
{
	return o->kind == OP_READ || o->kind == OP_CAS_MISMATCH;
}

static void lift(entry *e)
{
	e->prev->next = e->next;
	if (e->next)
		e->next->prev = e->prev;
	entry *m = e->match;
	if (m) {
		m->prev->next = m->next;
		if (m->next)
			m->next->prev = m->prev;
	}
}

/* Exact reverse of lift; valid because lifts are undone in stack order. */
static void unlift(entry *e)
{
	entry *m = e->match;
	if (m) {
		m->prev->next = m;
		if (m->next)
			m->next->prev = m;
	}
	e->prev->next = e;
	if (e->next)
		e->next->prev = e;
}

static uint64_t zobrist(uint32_t i)
{
	return util_mix64((uint64_t)i * 0x2545f4914f6cdd1dULL + 0x51ed27);
}

static uint64_t state_hash(uint32_t s)
{
	return util_mix64((uint64_t)s ^ 0xa0761d6478bd642fULL);
}

/* Keeps the deepest dead end: the order so far, and what was pending. */
static int record_failure(wgl_failure *f, const frame *stack, size_t sp, uint32_t state,
			  const entry *head, const entry *stuck)
{
	uint32_t *order = malloc((sp ? sp : 1) * sizeof *order);
	if (!order)
		return -1;
	for (size_t i = 0; i < sp; i++)
		order[i] = stack[i].call->op;
	free(f->order);
	f->order = order;
	f->norder = sp;
	f->state = state;
	f->blocker = stuck ? stuck->op : UINT32_MAX;
	f->npending = f->npending_total = 0;
	for (const entry *e = head->next; e && e->is_call; e = e->next) {
		if (f->npending < WGL_MAX_PENDING)
			f->pending[f->npending++] = e->op;
		f->npending_total++;
	}
	return 0;
}

void wgl_failure_free(wgl_failure *f)
{
	free(f->order);
	f->order = NULL;
	f->norder = 0;
}

wgl_result wgl_check(model *m, const op *ops, size_t n, memo *memo, const wgl_limits *lim,
		     wgl_failure *fail, uint64_t *steps)
{
	size_t nreq = 0;
	for (size_t i = 0; i < n; i++)
		nreq += ops[i].required;
	if (steps)
		*steps = 0;
	if (nreq == 0)
		return WGL_OK;
	if (n >= UINT32_MAX / 2)
		return WGL_MEMORY;

	wgl_result res = WGL_MEMORY;
	bool have_failure = false;
	uint64_t iter = 0;
	size_t nent = n + nreq;
	sort_key *keys = malloc(nent * sizeof *keys);
	entry *ent = malloc(nent * sizeof *ent);
	entry **call_of = malloc(n * sizeof *call_of);
	frame *stack = malloc(n * sizeof *stack);
	bitset bs = { .nw = (uint32_t)((n + 63) / 64) };
	bs.w = calloc(bs.nw, sizeof *bs.w);
	supply sup = { 0 };
	if (!keys || !ent || !call_of || !stack || !bs.w ||
	    (!lim->no_prune && supply_init(&sup, m, ops, n) < 0))
		goto out;
	bool prune = !lim->no_prune;

	size_t k = 0;
	for (uint32_t i = 0; i < n; i++) {
		keys[k++] = (sort_key){ ops[i].call, 0, i };
		if (ops[i].required)
			keys[k++] = (sort_key){ ops[i].ret, 1, i };
	}
	qsort(keys, nent, sizeof *keys, cmp_key);
	entry head = { 0 };
	entry *prev = &head;
	for (size_t i = 0; i < nent; i++) {
		entry *e = &ent[i];
		e->op = keys[i].op;
		e->is_call = !keys[i].is_ret;
		e->match = NULL;
		e->prev = prev;
		e->next = NULL;
		prev->next = e;
		prev = e;
		if (e->is_call)
			call_of[e->op] = e;
		else
			call_of[e->op]->match = e; /* the call sorts first */
	}

	/* The cap is on what the search adds: the values interned from the
	 * history are the input's size, not the search's. */
	size_t model_base = model_bytes(m);
	size_t sp = 0, remaining = nreq;
	uint32_t state = MODEL_ABSENT;
	uint64_t hash = 0;
	entry *e = head.next;
	bool fresh = true; /* at a node not yet scanned for a forced move */
	while (remaining > 0) {
		if ((++iter & 255) == 0) {
			if (lim->deadline_ns && wgl_now_ns() > lim->deadline_ns) {
				res = WGL_TIMEOUT;
				goto out;
			}
			if (lim->max_steps && iter >= lim->max_steps) {
				res = WGL_BUDGET;
				goto out;
			}
		}
		entry *pick = NULL;
		bool forced = false;
		if (fresh) {
			/* Partial-order reduction: a minimal read or mismatch that fits
			 * the state can go first in some linearisation whenever one
			 * exists (it changes nothing, and nothing pending had to precede
			 * it), so it is placed with no alternatives. */
			fresh = false;
			for (entry *x = head.next; x && x->is_call; x = x->next) {
				if (neutral(&ops[x->op]) && model_step(m, &ops[x->op], state, &(uint32_t){ 0 }) == 1) {
					pick = x;
					forced = true;
					break;
				}
			}
			e = head.next;
		}
		if (!pick && e && e->is_call) {
			pick = e;
			e = e->next;
			/* Neutral ops that fit were forced above. */
			if (neutral(&ops[pick->op]))
				continue;
		}
		if (pick) {
			const op *o = &ops[pick->op];
			uint32_t ns;
			int ok = model_step(m, o, state, &ns);
			if (ok < 0)
				goto out;
			if (ok && prune) {
				supply_place(&sup, ops, pick->op);
				if (supply_dead(&sup, m, ops, ns)) {
					supply_unplace(&sup, ops, pick->op);
					ok = 0;
				}
			}
			if (ok) {
				bs_set(&bs, pick->op);
				uint64_t h = hash ^ zobrist(pick->op);
				size_t used = model_bytes(m) - model_base;
				size_t cap = lim->max_memory > used ? lim->max_memory - used : 0;
				int added = memo_add(memo, h ^ state_hash(ns), ns, bs.w, bs.lo, bs.hi, cap);
				if (added < 0)
					goto out;
				if (added) {
					stack[sp++] = (frame){ pick, state, forced };
					state = ns;
					hash = h;
					lift(pick);
					if (o->required)
						remaining--;
					fresh = true;
					continue;
				}
				bs_clear(&bs, pick->op);
				if (prune)
					supply_unplace(&sup, ops, pick->op);
			}
			if (!forced)
				continue;
			/* A forced move already explored: this node is dead too. */
		} else if (fail && (!have_failure || sp > fail->norder)) {
			/* A return (or the end): nothing more can come first here. */
			if (record_failure(fail, stack, sp, state, &head, e) < 0)
				goto out;
			have_failure = true;
		}
		/* Backtrack, through forced moves, which had no alternatives. */
		frame f;
		do {
			if (sp == 0) {
				res = WGL_BAD;
				goto out;
			}
			f = stack[--sp];
			unlift(f.call);
			state = f.old_state;
			bs_clear(&bs, f.call->op);
			if (prune)
				supply_unplace(&sup, ops, f.call->op);
			hash ^= zobrist(f.call->op);
			if (ops[f.call->op].required)
				remaining++;
		} while (f.forced);
		e = f.call->next;
	}
	res = WGL_OK;
out:
	if (steps)
		*steps = iter;
	if (res != WGL_BAD && fail && have_failure)
		wgl_failure_free(fail);
	free(keys);
	free(ent);
	free(call_of);
	free(stack);
	free(bs.w);
	supply_free(&sup);
	return res;
}
