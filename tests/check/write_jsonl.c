/* write_jsonl.c — a history back to JSON Lines (contract section 5), so an
 * in-memory history from the simulator can be saved and re-checked. */
#include "history.h"

#include <inttypes.h>

static const char *const type_names[] = { "invoke", "ok", "fail", "info" };
static const char *const fn_names[] = { "read", "write", "cas", "append" };

static void json_str(strbuf *b, const char *p, size_t n)
{
	if (!p) {
		sb_put(b, "null", 4);
		return;
	}
	sb_putc(b, '"');
	sb_escape(b, p, n);
	sb_putc(b, '"');
}

int check_history_write_jsonl(const check_history *h, FILE *out)
{
	strbuf b = { 0 };
	int rc = 0;
	for (size_t i = 0; i < h->n && rc == 0; i++) {
		const hev *e = &h->ev[i];
		sb_reset(&b);
		sb_printf(&b, "{\"process\":%" PRId64 ",\"type\":\"%s\",\"f\":\"%s\",\"key\":", e->process,
			  type_names[e->type], fn_names[e->f]);
		json_str(&b, h->keys.ptr[e->key], h->keys.len[e->key]);
		sb_put(&b, ",\"value\":", 9);
		if (e->f == CHECK_CAS) {
			sb_putc(&b, '[');
			json_str(&b, e->value, e->value_len);
			sb_putc(&b, ',');
			json_str(&b, e->value2, e->value2_len);
			sb_putc(&b, ']');
		} else {
			json_str(&b, e->value, e->value_len);
		}
		if (e->mismatch)
			sb_put(&b, ",\"error\":\"mismatch\"", 19);
		sb_printf(&b, ",\"time\":%" PRId64 "}\n", e->time);
		if (b.oom || fwrite(b.buf, 1, b.len, out) != b.len)
			rc = -1;
	}
	sb_free(&b);
	if (rc == 0 && fflush(out) != 0)
		rc = -1;
	return rc;
}
