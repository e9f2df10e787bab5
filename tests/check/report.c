/* report.c — formatting a non-linearizable key for people. */
#include "report.h"

#include <inttypes.h>

#define REPORT_VALUE_MAX 40 /* bytes of a value shown before "..." */
#define REPORT_TAIL 6       /* ops of the longest prefix shown */

void report_key(strbuf *b, const check_history *h, uint32_t key)
{
	sb_quote(b, h->keys.ptr[key], h->keys.len[key], 200);
}

void report_op(strbuf *b, const check_history *h, const op *o, const char *mark)
{
	const hev *inv = &h->ev[o->inv];
	const hev *comp = o->comp == HEV_NONE ? NULL : &h->ev[o->comp];
	size_t start = b->len;
	sb_printf(b, "    %s line %u..", mark, inv->line);
	if (comp)
		sb_printf(b, "%u", comp->line);
	while (b->len < start + 22 && !b->oom)
		sb_putc(b, ' ');
	sb_printf(b, " p%" PRId64 " ", inv->process);
	switch ((op_kind)o->kind) {
	case OP_READ:
		sb_put(b, "read -> ", 8);
		sb_quote(b, comp->value, comp->value_len, REPORT_VALUE_MAX);
		break;
	case OP_WRITE:
	case OP_APPEND:
		sb_put(b, o->kind == OP_WRITE ? "write " : "append ", o->kind == OP_WRITE ? 6 : 7);
		sb_quote(b, inv->value, inv->value_len, REPORT_VALUE_MAX);
		break;
	case OP_CAS:
	case OP_CAS_MAYBE:
	case OP_CAS_MISMATCH:
		sb_put(b, "cas ", 4);
		sb_quote(b, inv->value, inv->value_len, REPORT_VALUE_MAX);
		sb_put(b, " -> ", 4);
		sb_quote(b, inv->value2, inv->value2_len, REPORT_VALUE_MAX);
		break;
	}
	if (!o->required)
		sb_printf(b, "  %s (invoked at %" PRId64 ")\n", comp ? "info: unknown outcome" : "never completed",
			  inv->time);
	else if (o->kind == OP_CAS_MISMATCH)
		sb_printf(b, "  fail: mismatch [%" PRId64 ", %" PRId64 "]\n", inv->time, comp->time);
	else
		sb_printf(b, "  ok [%" PRId64 ", %" PRId64 "]\n", inv->time, comp->time);
}

void report_failure(strbuf *b, const check_history *h, uint32_t key, const model *m,
		    const op *ops, size_t n, const wgl_failure *f, bool pruned)
{
	size_t nreq = 0;
	for (size_t i = 0; i < n; i++)
		nreq += ops[i].required;
	sb_put(b, "not linearizable: key ", 22);
	report_key(b, h, key);
	sb_printf(b, " (%zu operations, %zu with unknown outcome)\n", n, n - nreq);
	size_t len;
	const char *v = model_str(m, f->state, &len);
	sb_printf(b, "  longest linearizable prefix: %zu operations, leaving the value ", f->norder);
	sb_quote(b, v, len, REPORT_VALUE_MAX);
	sb_putc(b, '\n');
	if (f->norder) {
		size_t from = f->norder > REPORT_TAIL ? f->norder - REPORT_TAIL : 0;
		sb_printf(b, "  %s of that order:\n", from ? "the end" : "all");
		for (size_t i = from; i < f->norder; i++)
			report_op(b, h, &ops[f->order[i]], " ");
	}
	sb_printf(b, "  then none of the %zu pending operations can take effect next", f->npending_total);
	if (f->blocker != UINT32_MAX)
		sb_put(b, ", yet the one marked * completed before anything else could", 59);
	sb_put(b, ":\n", 2);
	for (size_t i = 0; i < f->npending; i++)
		report_op(b, h, &ops[f->pending[i]], f->pending[i] == f->blocker ? "*" : " ");
	if (f->npending_total > f->npending)
		sb_printf(b, "    ... and %zu more\n", f->npending_total - f->npending);
	if (pruned)
		sb_printf(b, "  (\"fits\" here also rules out orders after which some later read could\n"
			     "  no longer see its value: no write, cas or append left could produce it)\n");
}
