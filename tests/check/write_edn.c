/*
 * write_edn.c — a history as Jepsen EDN, for Knossos or Elle: one op map per
 * line, independent-key tuples [key value] as jepsen.independent makes them.
 * Absent values are the keyword :absent because Knossos takes a nil read to
 * mean "any value"; a Knossos model must therefore start at :absent.
 */
#include "history.h"

#include <inttypes.h>

static const char *const type_kw[] = { ":invoke", ":ok", ":fail", ":info" };
static const char *const fn_kw[] = { ":read", ":write", ":cas", ":append" };

/* An EDN string, or :absent. */
static void edn_str(strbuf *b, const char *p, size_t n)
{
	if (!p) {
		sb_put(b, ":absent", 7);
		return;
	}
	sb_putc(b, '"');
	sb_escape(b, p, n);
	sb_putc(b, '"');
}

int check_history_write_edn(const check_history *h, FILE *out)
{
	strbuf b = { 0 };
	int rc = 0;
	for (size_t i = 0; i < h->n && rc == 0; i++) {
		const hev *e = &h->ev[i];
		sb_reset(&b);
		sb_printf(&b, "{:index %zu, :time %" PRId64 ", :type %s, :process %" PRId64 ", :f %s, :value [", i,
			  e->time, type_kw[e->type], e->process, fn_kw[e->f]);
		edn_str(&b, h->keys.ptr[e->key], h->keys.len[e->key]);
		sb_putc(&b, ' ');
		if (e->f == CHECK_CAS) {
			sb_putc(&b, '[');
			edn_str(&b, e->value, e->value_len);
			sb_putc(&b, ' ');
			edn_str(&b, e->value2, e->value2_len);
			sb_putc(&b, ']');
		} else if (e->f == CHECK_READ && e->type != CHECK_OK) {
			/* Jepsen convention: a read's invoke (or unknown result) is nil. */
			sb_put(&b, "nil", 3);
		} else {
			edn_str(&b, e->value, e->value_len);
		}
		sb_putc(&b, ']');
		if (e->mismatch)
			sb_put(&b, ", :error :mismatch", 18);
		sb_put(&b, "}\n", 2);
		if (b.oom || fwrite(b.buf, 1, b.len, out) != b.len)
			rc = -1;
	}
	sb_free(&b);
	if (rc == 0 && fflush(out) != 0)
		rc = -1;
	return rc;
}
