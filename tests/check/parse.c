/*
 * parse.c — JSON Lines history text (contract section 5) into events.
 * One line at a time with json_scan: fields in any order, unknown fields
 * skipped, every known field type-checked, then check_history_add rules.
 */
#include "history.h"
#include "json_scan.h"

#include <errno.h>
#include <stdlib.h>

enum vkind { V_MISSING, V_NULL, V_STR, V_PAIR, V_OTHER };

typedef struct line_parser {
	strbuf name, type, f, key, v[2], err;
	enum vkind value;
	bool pair_null[2];
	bool has_error;
} line_parser;

static void lp_free(line_parser *lp)
{
	sb_free(&lp->name);
	sb_free(&lp->type);
	sb_free(&lp->f);
	sb_free(&lp->key);
	sb_free(&lp->v[0]);
	sb_free(&lp->v[1]);
	sb_free(&lp->err);
}

/* "value": null, a string, [a, b] with each a string or null, or other. */
static int parse_value(jscan *s, line_parser *lp)
{
	char c = js_peek(s);
	if (c == 'n') {
		lp->value = V_NULL;
		return js_null(s);
	}
	if (c == '"') {
		lp->value = V_STR;
		return js_string(s, &lp->v[0]);
	}
	if (c != '[') {
		lp->value = V_OTHER;
		return js_skip(s);
	}
	s->p++;
	lp->value = V_PAIR;
	int count = 0;
	if (js_eat(s, ']')) {
		lp->value = V_OTHER;
		return 0;
	}
	do {
		char e = js_peek(s);
		if (count < 2 && e == '"') {
			lp->pair_null[count] = false;
			if (js_string(s, &lp->v[count]) < 0)
				return -1;
		} else if (count < 2 && e == 'n') {
			lp->pair_null[count] = true;
			if (js_null(s) < 0)
				return -1;
		} else {
			lp->value = V_OTHER;
			if (js_skip(s) < 0)
				return -1;
		}
		count++;
	} while (js_eat(s, ','));
	if (!js_eat(s, ']')) {
		s->err = "expected , or ] in value";
		return -1;
	}
	if (count != 2)
		lp->value = V_OTHER;
	return 0;
}

enum { F_PROCESS = 1, F_TYPE = 2, F_F = 4, F_KEY = 8, F_TIME = 16, F_VALUE = 32, F_ERROR = 64 };

static int lookup(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static check_str sb_str(const strbuf *b)
{
	check_str r = { b->buf ? b->buf : "", b->len };
	return r;
}

/* Parses one non-blank line and adds it. -1 with the history's error set. */
static int parse_line(check_history *h, line_parser *lp, const char *p, size_t n, uint64_t line)
{
	static const char *const types[] = { "invoke", "ok", "fail", "info" };
	static const char *const fns[] = { "read", "write", "cas", "append" };
	jscan s = { p, p + n, NULL };
	check_event ev;
	memset(&ev, 0, sizeof ev);
	unsigned seen = 0;
	lp->value = V_MISSING;
	lp->has_error = false;

	if (memchr(p, '\0', n))
		return history_fail(h, "line", line, "NUL byte in line");
	if (!js_eat(&s, '{'))
		return history_fail(h, "line", line, "not a JSON object");
	if (!js_eat(&s, '}')) {
		do {
			if (js_string(&s, &lp->name) < 0)
				goto bad_json;
			if (!js_eat(&s, ':')) {
				s.err = "expected : after a field name";
				goto bad_json;
			}
			const char *nm = lp->name.buf ? lp->name.buf : "";
			unsigned bit = 0;
			int r;
			if (lp->name.len != strlen(nm)) { /* a NUL inside a field name: unknown */
				r = js_skip(&s);
			} else if (strcmp(nm, "process") == 0) {
				bit = F_PROCESS;
				r = js_int64(&s, &ev.process);
			} else if (strcmp(nm, "time") == 0) {
				bit = F_TIME;
				r = js_int64(&s, &ev.time);
			} else if (strcmp(nm, "type") == 0) {
				bit = F_TYPE;
				r = js_string(&s, &lp->type);
			} else if (strcmp(nm, "f") == 0) {
				bit = F_F;
				r = js_string(&s, &lp->f);
			} else if (strcmp(nm, "key") == 0) {
				bit = F_KEY;
				r = js_string(&s, &lp->key);
			} else if (strcmp(nm, "value") == 0) {
				bit = F_VALUE;
				r = parse_value(&s, lp);
			} else if (strcmp(nm, "error") == 0) {
				bit = F_ERROR;
				if (js_peek(&s) == '"') {
					r = js_string(&s, &lp->err);
					lp->has_error = true;
				} else {
					r = js_skip(&s);
				}
			} else {
				r = js_skip(&s);
			}
			if (r < 0) {
				if (bit && bit != F_VALUE && bit != F_ERROR && s.err)
					return history_fail(h, "line", line, "field \"%s\": %s", nm, s.err);
				goto bad_json;
			}
			if (seen & bit)
				return history_fail(h, "line", line, "field \"%s\" given twice", nm);
			seen |= bit;
		} while (js_eat(&s, ','));
		if (!js_eat(&s, '}')) {
			s.err = s.p >= s.end ? "truncated line" : "expected , or } in object";
			goto bad_json;
		}
	}
	js_ws(&s);
	if (s.p != s.end)
		return history_fail(h, "line", line, "text after the JSON object");

	static const struct { unsigned bit; const char *name; } required[] = {
		{ F_PROCESS, "process" }, { F_TYPE, "type" }, { F_F, "f" }, { F_KEY, "key" }, { F_TIME, "time" },
	};
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		if (!(seen & required[i].bit))
			return history_fail(h, "line", line, "missing field \"%s\"", required[i].name);
	int t = lookup(lp->type.buf ? lp->type.buf : "", types, 4);
	if (t < 0 || lp->type.len != strlen(types[t]))
		return history_fail(h, "line", line, "\"type\" must be invoke, ok, fail or info");
	int f = lookup(lp->f.buf ? lp->f.buf : "", fns, 4);
	if (f < 0 || lp->f.len != strlen(fns[f]))
		return history_fail(h, "line", line, "\"f\" must be read, write, cas or append");
	ev.type = (check_type)t;
	ev.f = (check_fn)f;
	ev.key = sb_str(&lp->key);

	/* Shape of "value" for this f and type; history_add checks the rest. */
	bool invoke = ev.type == CHECK_INVOKE;
	switch (ev.f) {
	case CHECK_READ:
		if (invoke && lp->value != V_MISSING && lp->value != V_NULL)
			return history_fail(h, "line", line, "a read invoke's value must be null");
		if (ev.type == CHECK_OK) {
			if (lp->value == V_STR)
				ev.value = sb_str(&lp->v[0]);
			else if (lp->value != V_NULL)
				return history_fail(h, "line", line,
						    "a read ok needs \"value\": a string, or null when absent");
		}
		break;
	case CHECK_WRITE:
	case CHECK_APPEND:
		if (lp->value == V_STR)
			ev.value = sb_str(&lp->v[0]);
		else if (invoke || (lp->value != V_MISSING && lp->value != V_NULL))
			return history_fail(h, "line", line, "%s \"value\" must be a string", fns[f]);
		break;
	case CHECK_CAS:
		if (lp->value == V_PAIR && !lp->pair_null[1]) {
			ev.value = lp->pair_null[0] ? (check_str){ NULL, 0 } : sb_str(&lp->v[0]);
			ev.value2 = sb_str(&lp->v[1]);
		} else if (invoke || (lp->value != V_MISSING && lp->value != V_NULL)) {
			return history_fail(h, "line", line,
					    "cas \"value\" must be [expected, new]: expected a string or null, new a string");
		}
		ev.mismatch = lp->has_error && lp->err.len == 8 && memcmp(lp->err.buf, "mismatch", 8) == 0;
		break;
	}
	return history_add(h, &ev, "line", line);

bad_json:
	return history_fail(h, "line", line, "bad JSON: %s", s.err ? s.err : "syntax error");
}

static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

int check_history_parse(check_history *h, const char *buf, size_t len)
{
	line_parser lp;
	memset(&lp, 0, sizeof lp);
	uint64_t line = 0;
	int rc = 0;
	size_t at = 0;
	while (at < len) {
		const char *nl = memchr(buf + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (buf + at)) : len - at;
		line++;
		if (!blank(buf + at, n) && parse_line(h, &lp, buf + at, n, line) < 0) {
			rc = -1;
			break;
		}
		at += n + (nl ? 1 : 0);
	}
	lp_free(&lp);
	if (rc == 0)
		sb_reset(&h->err);
	return rc;
}

int check_history_read_file(check_history *h, FILE *in)
{
	line_parser lp;
	memset(&lp, 0, sizeof lp);
	char *buf = NULL;
	size_t cap = 0;
	uint64_t line = 0;
	int rc = 0;
	for (;;) {
		errno = 0;
		ssize_t n = getline(&buf, &cap, in);
		if (n < 0) {
			if (ferror(in) || errno == ENOMEM) {
				rc = history_fail(h, "line", line + 1, "read error: %s",
						  errno ? strerror(errno) : "I/O error");
			}
			break;
		}
		line++;
		size_t len = (size_t)n;
		if (len && buf[len - 1] == '\n')
			len--;
		if (!blank(buf, len) && parse_line(h, &lp, buf, len, line) < 0) {
			rc = -1;
			break;
		}
	}
	free(buf);
	lp_free(&lp);
	if (rc == 0)
		sb_reset(&h->err);
	return rc;
}
