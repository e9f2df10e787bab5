/*
 * history.c — building a history event by event, refusing any event that
 * would make it ill-formed, so everything downstream can trust its input.
 */
#include "history.h"

#include <inttypes.h>
#include <stdlib.h>

static const char *const type_names[] = { "invoke", "ok", "fail", "info" };
static const char *const fn_names[] = { "read", "write", "cas", "append" };

check_history *check_history_new(void)
{
	return calloc(1, sizeof(check_history));
}

void check_history_free(check_history *h)
{
	if (!h)
		return;
	free(h->ev);
	strtab_free(&h->keys);
	arena_free(&h->values);
	free(h->procs);
	sb_free(&h->err);
	free(h);
}

const char *check_history_error(const check_history *h)
{
	if (h->err.oom)
		return "out of memory";
	return h->err.buf ? h->err.buf : "";
}

size_t check_history_events(const check_history *h)
{
	return h->n;
}

int history_fail(check_history *h, const char *what, uint64_t line, const char *fmt, ...)
{
	sb_reset(&h->err);
	sb_printf(&h->err, "%s %" PRIu64 ": ", what, line);
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	/* Messages embed quoted values already cut short, so 512 bytes suffice;
	 * a longer one is truncated, never overflowed. */
	if (n > 0)
		sb_put(&h->err, small, (size_t)n < sizeof small ? (size_t)n : sizeof small - 1);
	return -1;
}

static int history_oom(check_history *h)
{
	sb_reset(&h->err);
	h->err.oom = true;
	return -1;
}

/* Finds the slot for pid, growing the table as needed. NULL on ENOMEM. */
static hproc *proc_slot(check_history *h, int64_t pid)
{
	if ((h->nprocs + 1) * 2 > h->procs_cap) {
		size_t cap = h->procs_cap ? h->procs_cap * 2 : 64;
		hproc *np = calloc(cap, sizeof *np);
		if (!np)
			return NULL;
		for (size_t i = 0; i < h->procs_cap; i++) {
			if (!h->procs[i].used)
				continue;
			size_t j = util_mix64((uint64_t)h->procs[i].pid) & (cap - 1);
			while (np[j].used)
				j = (j + 1) & (cap - 1);
			np[j] = h->procs[i];
		}
		free(h->procs);
		h->procs = np;
		h->procs_cap = cap;
	}
	size_t j = util_mix64((uint64_t)pid) & (h->procs_cap - 1);
	while (h->procs[j].used && h->procs[j].pid != pid)
		j = (j + 1) & (h->procs_cap - 1);
	if (!h->procs[j].used) {
		h->procs[j].used = true;
		h->procs[j].pid = pid;
		h->nprocs++;
	}
	return &h->procs[j];
}

static bool str_eq(const char *a, size_t alen, check_str b)
{
	if (!a || !b.ptr)
		return !a && !b.ptr;
	return alen == b.len && (alen == 0 || memcmp(a, b.ptr, alen) == 0);
}

/* Copies a value into the history; *out NULL for an absent value. */
static int keep_value(check_history *h, check_str s, const char **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	if (!s.ptr)
		return 0;
	if (s.len == SIZE_MAX)
		return -1;
	char *p = arena_alloc(&h->values, s.len + 1);
	if (!p)
		return -1;
	if (s.len)
		memcpy(p, s.ptr, s.len);
	p[s.len] = '\0';
	*out = p;
	*outlen = s.len;
	return 0;
}

/* What an invoke must carry. */
static int check_invoke_values(check_history *h, const check_event *ev, const char *what,
			       uint64_t line)
{
	switch (ev->f) {
	case CHECK_READ:
		if (ev->value.ptr)
			return history_fail(h, what, line, "a read invoke carries no value (null)");
		break;
	case CHECK_WRITE:
	case CHECK_APPEND:
		if (!ev->value.ptr)
			return history_fail(h, what, line, "%s invoke needs a string value",
					    fn_names[ev->f]);
		break;
	case CHECK_CAS:
		if (!ev->value2.ptr)
			return history_fail(h, what, line,
					    "cas needs [expected, new] with new a string");
		break;
	}
	return 0;
}

/* A completion of write/append/cas must repeat the invoke's values, if any. */
static int check_completion_values(check_history *h, const check_event *ev, const hev *inv,
				   const char *what, uint64_t line)
{
	bool same = true;
	if (ev->f == CHECK_WRITE || ev->f == CHECK_APPEND)
		same = !ev->value.ptr || str_eq(inv->value, inv->value_len, ev->value);
	else if (ev->f == CHECK_CAS)
		same = !ev->value2.ptr || (str_eq(inv->value, inv->value_len, ev->value) &&
					   str_eq(inv->value2, inv->value2_len, ev->value2));
	if (!same)
		return history_fail(h, what, line,
				    "%s completion's value differs from its invoke (line %u)",
				    fn_names[ev->f], inv->line);
	return 0;
}

int history_add(check_history *h, const check_event *ev, const char *what, uint64_t line)
{
	sb_reset(&h->err);
	if ((unsigned)ev->type > CHECK_INFO)
		return history_fail(h, what, line, "unknown event type %d", (int)ev->type);
	if ((unsigned)ev->f > CHECK_APPEND)
		return history_fail(h, what, line, "unknown operation %d", (int)ev->f);
	if (!ev->key.ptr)
		return history_fail(h, what, line, "key must be a string");
	/* The parser checked text input already; this guards in-memory events,
	 * so every history can be written back as valid JSON. */
	if (!util_utf8_valid(ev->key.ptr, ev->key.len) ||
	    (ev->value.ptr && !util_utf8_valid(ev->value.ptr, ev->value.len)) ||
	    (ev->value2.ptr && !util_utf8_valid(ev->value2.ptr, ev->value2.len)))
		return history_fail(h, what, line, "key and values must be UTF-8");
	if (h->n && ev->time < h->last_time)
		return history_fail(h, what, line, "time goes backwards (%" PRId64 " after %" PRId64 ")",
				    ev->time, h->last_time);
	if (h->n >= HEV_NONE - 1 || line > UINT32_MAX)
		return history_fail(h, what, line, "too many events");

	hproc *p = proc_slot(h, ev->process);
	if (!p)
		return history_oom(h);
	const hev *inv = NULL;
	if (ev->type == CHECK_INVOKE) {
		if (p->open)
			return history_fail(h, what, line,
					    "process %" PRId64 " invokes while its invoke on line %u is outstanding",
					    ev->process, h->ev[p->open - 1].line);
		if (p->info_line)
			return history_fail(h, what, line,
					    "process %" PRId64 " invokes after its info on line %u (a process issues nothing after info)",
					    ev->process, p->info_line);
		if (check_invoke_values(h, ev, what, line) < 0)
			return -1;
	} else {
		if (!p->open)
			return history_fail(h, what, line, "%s for process %" PRId64 " with no outstanding invoke",
					    type_names[ev->type], ev->process);
		inv = &h->ev[p->open - 1];
		if (inv->f != ev->f)
			return history_fail(h, what, line, "completion is a %s but the invoke on line %u is a %s",
					    fn_names[ev->f], inv->line, fn_names[inv->f]);
		const char *ikey = h->keys.ptr[inv->key];
		if (!str_eq(ikey, h->keys.len[inv->key], ev->key))
			return history_fail(h, what, line, "completion's key differs from its invoke (line %u)",
					    inv->line);
		if (check_completion_values(h, ev, inv, what, line) < 0)
			return -1;
	}

	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		hev *ne = realloc(h->ev, cap * sizeof *ne);
		if (!ne)
			return history_oom(h);
		h->ev = ne;
		h->cap = cap;
		if (inv) /* the array moved */
			inv = &h->ev[p->open - 1];
	}
	hev *e = &h->ev[h->n];
	memset(e, 0, sizeof *e);
	e->process = ev->process;
	e->time = ev->time;
	e->type = (uint8_t)ev->type;
	e->f = (uint8_t)ev->f;
	e->line = (uint32_t)line;
	e->match = HEV_NONE;
	if (inv) {
		e->key = inv->key;
		if (ev->f == CHECK_READ) {
			if (ev->type == CHECK_OK && keep_value(h, ev->value, &e->value, &e->value_len) < 0)
				return history_oom(h);
		} else {
			/* Completions share the invoke's copies. */
			e->value = inv->value;
			e->value_len = inv->value_len;
			e->value2 = inv->value2;
			e->value2_len = inv->value2_len;
		}
		e->mismatch = ev->type == CHECK_FAIL && ev->f == CHECK_CAS && ev->mismatch;
	} else {
		if (strtab_intern(&h->keys, ev->key.ptr, ev->key.len, &e->key) < 0)
			return history_oom(h);
		if (keep_value(h, ev->value, &e->value, &e->value_len) < 0 ||
		    keep_value(h, ev->value2, &e->value2, &e->value2_len) < 0)
			return history_oom(h);
	}
	/* Commit: nothing below can fail. */
	uint32_t idx = (uint32_t)h->n++;
	h->last_time = ev->time;
	if (inv) {
		uint32_t iidx = p->open - 1;
		h->ev[iidx].match = idx;
		e->match = iidx;
		p->open = 0;
		if (ev->type == CHECK_INFO)
			p->info_line = (uint32_t)line;
	} else {
		p->open = idx + 1;
	}
	return 0;
}

int check_history_add(check_history *h, const check_event *ev)
{
	return history_add(h, ev, "event", h->n + 1);
}
