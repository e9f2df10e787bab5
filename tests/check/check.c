/*
 * check.c — check_history_check: split the history by key (each key is an
 * independent object, so a history is linearizable iff every key's is),
 * turn each key's events into model operations, and search each key.
 */
#include "history.h"
#include "report.h"
#include "wgl.h"

#include <stdlib.h>

#define DEFAULT_MAX_MEMORY ((size_t)512 << 20)
#define MEMO_KEEP_SLOTS ((size_t)1 << 16) /* larger memos are freed between keys */
#define MAX_BAD_KEYS_NAMED 5

/* The operation an invoke stands for; 0 if it is dropped (a definite
 * failure, or a read whose answer is unknown). States are set later. */
static int classify(const check_history *h, uint32_t i, op *o)
{
	const hev *inv = &h->ev[i];
	const hev *comp = inv->match == HEV_NONE ? NULL : &h->ev[inv->match];
	check_type type = comp ? (check_type)comp->type : CHECK_INFO;
	memset(o, 0, sizeof *o);
	o->inv = i;
	o->comp = inv->match;
	o->call = inv->time;
	o->ret = comp ? comp->time : INT64_MAX;
	o->required = type == CHECK_OK;
	switch ((check_fn)inv->f) {
	case CHECK_READ:
		o->kind = OP_READ;
		return type == CHECK_OK;
	case CHECK_WRITE:
		o->kind = OP_WRITE;
		return type != CHECK_FAIL;
	case CHECK_APPEND:
		o->kind = OP_APPEND;
		o->text = inv->value;
		o->text_len = inv->value_len;
		return type != CHECK_FAIL;
	case CHECK_CAS:
		if (type == CHECK_FAIL) {
			if (!comp->mismatch)
				return 0;
			o->kind = OP_CAS_MISMATCH;
			o->required = true;
			return 1;
		}
		o->kind = type == CHECK_OK ? OP_CAS : OP_CAS_MAYBE;
		return 1;
	}
	return 0;
}

/* Gives an op its state ids in this key's model. */
static int intern_op(model *m, const check_history *h, op *o)
{
	const hev *inv = &h->ev[o->inv];
	switch ((op_kind)o->kind) {
	case OP_READ: {
		const hev *comp = &h->ev[o->comp];
		return model_state(m, comp->value, comp->value_len, &o->a);
	}
	case OP_WRITE:
		return model_state(m, inv->value, inv->value_len, &o->a);
	case OP_CAS:
	case OP_CAS_MAYBE:
		if (model_state(m, inv->value2, inv->value2_len, &o->b) < 0)
			return -1;
		/* fall through */
	case OP_CAS_MISMATCH:
		return model_state(m, inv->value, inv->value_len, &o->a);
	case OP_APPEND:
		return 0;
	}
	return 0;
}

/*
 * The pruned search stops early, where the pending operations still fit the
 * value but would starve a later read, which reads oddly in a report. For
 * the report, search the refuted key again without pruning, on a budget; if
 * that finishes, its deepest point replaces the first. True if it did.
 */
#define EXPLAIN_STEPS ((uint64_t)1 << 18)

static bool explain_plainly(model *m, const op *ops, size_t n, memo *memo, const wgl_limits *lim,
			    wgl_failure *fail)
{
	wgl_limits plain = *lim;
	plain.no_prune = true;
	plain.max_steps = EXPLAIN_STEPS;
	wgl_failure f2 = { 0 };
	if (memo->nslot > MEMO_KEEP_SLOTS)
		memo_free(memo);
	else
		memo_clear(memo);
	if (wgl_check(m, ops, n, memo, &plain, &f2, NULL) != WGL_BAD)
		return false;
	wgl_failure_free(fail);
	*fail = f2;
	return true;
}

void check_result_free(check_result *r)
{
	if (!r)
		return;
	free(r->description);
	free(r->key);
	r->description = NULL;
	r->key = NULL;
}

static char *dup_key(const check_history *h, uint32_t key)
{
	size_t n = h->keys.len[key];
	char *s = malloc(n + 1);
	if (s)
		memcpy(s, h->keys.ptr[key], n + 1);
	return s;
}

check_verdict check_history_check(const check_history *h, const check_options *opts,
				  check_result *result)
{
	int64_t start = wgl_now_ns();
	wgl_limits lim = { .max_memory = DEFAULT_MAX_MEMORY };
	if (opts && opts->timeout_s > 0) {
		double ns = opts->timeout_s * 1e9;
		lim.deadline_ns = ns > 9e18 ? 0 : start + (int64_t)ns;
	}
	if (opts && opts->max_memory)
		lim.max_memory = opts->max_memory;

	check_verdict verdict = CHECK_GAVE_UP;
	strbuf desc = { 0 };
	strbuf others = { 0 };
	size_t nkeys = h->keys.n, nops = 0, nbad = 0;
	uint32_t first_bad = UINT32_MAX;
	memo memo = { 0 };
	model m = { 0 };
	wgl_failure fail = { 0 };
	strbuf gave_up = { 0 };
	bool *done_key = NULL;

	/* Bucket the kept operations by key, each bucket in invoke order. */
	size_t *start_of = calloc((size_t)nkeys + 1, sizeof *start_of);
	op *ops = malloc((h->n ? h->n : 1) * sizeof *ops);
	if (!start_of || !ops) {
		sb_put(&desc, "gave up: out of memory", 22);
		goto done;
	}
	for (uint32_t i = 0; i < h->n; i++) {
		op o;
		if (h->ev[i].type == CHECK_INVOKE && classify(h, i, &o))
			start_of[h->ev[i].key + 1]++;
	}
	for (size_t k = 0; k < nkeys; k++)
		start_of[k + 1] += start_of[k];
	nops = start_of[nkeys];
	{
		size_t *fill = calloc((size_t)nkeys + 1, sizeof *fill);
		if (!fill) {
			sb_put(&desc, "gave up: out of memory", 22);
			goto done;
		}
		for (uint32_t i = 0; i < h->n; i++) {
			op o;
			if (h->ev[i].type == CHECK_INVOKE && classify(h, i, &o)) {
				uint32_t k = h->ev[i].key;
				ops[start_of[k] + fill[k]++] = o;
			}
		}
		free(fill);
	}

	/*
	 * Rounds over the keys with a growing step budget, restarting a key that
	 * runs out: cheap keys finish in the first round, and a history with one
	 * quickly refuted key and one explosive key (concurrent appends make
	 * every order a distinct state) is judged as soon as the refutation is
	 * found, as porcupine does by checking keys in parallel and stopping at
	 * the first failure. Restarts cost at most a constant factor, because
	 * budgets grow geometrically.
	 */
	done_key = calloc(nkeys ? nkeys : 1, sizeof *done_key);
	if (!done_key) {
		sb_put(&desc, "gave up: out of memory", 22);
		goto done;
	}
	size_t left = nkeys;
	uint64_t budget = (uint64_t)1 << 16;
	bool out_of_time = false;
	while (left && !nbad && !out_of_time) {
		for (uint32_t k = 0; k < nkeys && !out_of_time; k++) {
			if (done_key[k])
				continue;
			op *kops = ops + start_of[k];
			size_t n = start_of[k + 1] - start_of[k];
			bool oom = false;
			for (size_t i = 0; i < n && !oom; i++)
				oom = intern_op(&m, h, &kops[i]) < 0;
			uint64_t steps = 0;
			lim.max_steps = left == 1 ? 0 : budget; /* the last key runs to the end */
			wgl_result r = oom ? WGL_MEMORY : wgl_check(&m, kops, n, &memo, &lim, &fail, &steps);
			if (r != WGL_BUDGET) {
				done_key[k] = true;
				left--;
			}
			if (r == WGL_BAD) {
				if (nbad == 0) {
					first_bad = k;
					bool natural = explain_plainly(&m, kops, n, &memo, &lim, &fail);
					report_failure(&desc, h, k, &m, kops, n, &fail, !natural);
				} else if (nbad <= MAX_BAD_KEYS_NAMED) {
					sb_put(&others, nbad == 1 ? "also not linearizable: key " : ", key ",
					       nbad == 1 ? 27 : 6);
					report_key(&others, h, k);
				}
				nbad++;
				wgl_failure_free(&fail);
			} else if (r == WGL_TIMEOUT || r == WGL_MEMORY) {
				if (!gave_up.len) {
					sb_put(&gave_up, "gave up: ", 9);
					if (r == WGL_TIMEOUT)
						sb_printf(&gave_up, "time limit of %g s reached", opts->timeout_s);
					else
						sb_printf(&gave_up, "memory limit of %zu MiB reached", lim.max_memory >> 20);
					sb_put(&gave_up, " while checking key ", 20);
					report_key(&gave_up, h, k);
					sb_printf(&gave_up, " (%zu operations, %llu search steps, %zu configurations memoised)",
						  n, (unsigned long long)steps, memo.count);
				}
				out_of_time = r == WGL_TIMEOUT;
			}
			model_free(&m);
			if (memo.nslot > MEMO_KEEP_SLOTS)
				memo_free(&memo);
			else
				memo_clear(&memo);
		}
		budget = budget > UINT64_MAX / 8 ? UINT64_MAX : budget * 8;
	}
	if (nbad) {
		verdict = CHECK_NOT_LINEARIZABLE;
		if (nbad > MAX_BAD_KEYS_NAMED + 1)
			sb_printf(&others, " and %zu more", nbad - 1 - MAX_BAD_KEYS_NAMED);
		if (others.len) {
			sb_put(&desc, others.buf, others.len);
			sb_putc(&desc, '\n');
		}
		if (left)
			sb_printf(&desc, "(%zu other keys were not checked to the end)\n", left);
		if (others.oom)
			desc.oom = true;
	} else if (gave_up.len || gave_up.oom) {
		sb_put(&desc, gave_up.buf, gave_up.len);
		if (gave_up.oom)
			desc.oom = true;
	} else {
		verdict = CHECK_LINEARIZABLE;
		sb_printf(&desc, "linearizable: %zu operations on %zu keys", nops, (size_t)nkeys);
	}
done:
	free(start_of);
	free(ops);
	memo_free(&memo);
	model_free(&m);
	sb_free(&others);
	sb_free(&gave_up);
	free(done_key);
	if (result) {
		result->verdict = verdict;
		result->ops = nops;
		result->keys = nkeys;
		result->key = first_bad == UINT32_MAX ? NULL : dup_key(h, first_bad);
		result->description = sb_take(&desc);
	}
	sb_free(&desc);
	return verdict;
}

check_verdict check_buffer(const char *buf, size_t len, const check_options *opts,
			   check_result *result)
{
	check_history *h = check_history_new();
	if (!h) {
		if (result) {
			memset(result, 0, sizeof *result);
			result->verdict = CHECK_GAVE_UP;
		}
		return CHECK_GAVE_UP;
	}
	check_verdict v;
	if (check_history_parse(h, buf, len) < 0) {
		v = CHECK_BAD_INPUT;
		if (result) {
			memset(result, 0, sizeof *result);
			result->verdict = v;
			strbuf b = { 0 };
			sb_put(&b, check_history_error(h), strlen(check_history_error(h)));
			result->description = sb_take(&b);
		}
	} else {
		v = check_history_check(h, opts, result);
	}
	check_history_free(h);
	return v;
}
