/* json_scan.c — strict single-line JSON scanning (RFC 8259). */
#include "json_scan.h"

#include <string.h>

#define JS_MAX_DEPTH 64

static int js_error(jscan *s, const char *why)
{
	if (!s->err)
		s->err = why;
	return -1;
}

void js_ws(jscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
		s->p++;
}

char js_peek(jscan *s)
{
	js_ws(s);
	return s->p < s->end ? *s->p : 0;
}

bool js_eat(jscan *s, char c)
{
	js_ws(s);
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return true;
	}
	return false;
}

static int hex4(jscan *s, unsigned *out)
{
	if (s->end - s->p < 4)
		return js_error(s, "truncated \\u escape");
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s->p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return js_error(s, "bad \\u escape");
	}
	s->p += 4;
	*out = v;
	return 0;
}

static void put_utf8(strbuf *b, unsigned cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	sb_put(b, u, n);
}

int js_string(jscan *s, strbuf *out)
{
	sb_reset(out);
	if (!js_eat(s, '"'))
		return js_error(s, "expected a string");
	for (;;) {
		const char *run = s->p;
		while (s->p < s->end && *s->p != '"' && *s->p != '\\' &&
		       (unsigned char)*s->p >= 0x20 && (unsigned char)*s->p < 0x80)
			s->p++;
		sb_put(out, run, (size_t)(s->p - run));
		if (s->p >= s->end)
			return js_error(s, "unterminated string");
		unsigned char c = (unsigned char)*s->p;
		if (c == '"') {
			s->p++;
			break;
		}
		if (c < 0x20)
			return js_error(s, "control character in string");
		if (c >= 0x80) {
			size_t n = util_utf8_seq((const unsigned char *)s->p, (const unsigned char *)s->end);
			if (!n)
				return js_error(s, "invalid UTF-8 in string");
			sb_put(out, s->p, n);
			s->p += n;
			continue;
		}
		/* Backslash escape. */
		s->p++;
		if (s->p >= s->end)
			return js_error(s, "unterminated string");
		char e = *s->p++;
		switch (e) {
		case '"': sb_putc(out, '"'); break;
		case '\\': sb_putc(out, '\\'); break;
		case '/': sb_putc(out, '/'); break;
		case 'b': sb_putc(out, '\b'); break;
		case 'f': sb_putc(out, '\f'); break;
		case 'n': sb_putc(out, '\n'); break;
		case 'r': sb_putc(out, '\r'); break;
		case 't': sb_putc(out, '\t'); break;
		case 'u': {
			unsigned cp;
			if (hex4(s, &cp) < 0)
				return -1;
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return js_error(s, "lone low surrogate in string");
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				unsigned lo;
				if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
					return js_error(s, "lone high surrogate in string");
				s->p += 2;
				if (hex4(s, &lo) < 0)
					return -1;
				if (lo < 0xDC00 || lo > 0xDFFF)
					return js_error(s, "bad surrogate pair in string");
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			}
			put_utf8(out, cp);
			break;
		}
		default:
			return js_error(s, "bad escape in string");
		}
	}
	if (out->oom)
		return js_error(s, "out of memory");
	return 0;
}

/* Scans the number grammar; *frac set when it has a fraction or exponent. */
static int scan_number(jscan *s, bool *frac)
{
	js_ws(s);
	*frac = false;
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p >= s->end || *s->p < '0' || *s->p > '9')
		return js_error(s, "bad number");
	if (*s->p == '0') {
		s->p++;
	} else {
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	if (s->p < s->end && *s->p == '.') {
		*frac = true;
		s->p++;
		if (s->p >= s->end || *s->p < '0' || *s->p > '9')
			return js_error(s, "bad number");
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		*frac = true;
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (s->p >= s->end || *s->p < '0' || *s->p > '9')
			return js_error(s, "bad number");
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	return 0;
}

int js_int64(jscan *s, int64_t *out)
{
	js_ws(s);
	const char *start = s->p;
	if (s->p >= s->end || (*s->p != '-' && (*s->p < '0' || *s->p > '9')))
		return js_error(s, "expected an integer");
	bool frac;
	if (scan_number(s, &frac) < 0)
		return js_error(s, "expected an integer");
	if (frac)
		return js_error(s, "expected an integer, not a fraction");
	const char *q = start;
	bool neg = *q == '-';
	if (neg)
		q++;
	/* Accumulate as a negative number: its range includes INT64_MIN. */
	int64_t v = 0;
	for (; q < s->p; q++) {
		int d = *q - '0';
		if (v < (INT64_MIN + d) / 10)
			return js_error(s, "integer out of range");
		v = v * 10 - d;
	}
	if (!neg) {
		if (v == INT64_MIN)
			return js_error(s, "integer out of range");
		v = -v;
	}
	*out = v;
	return 0;
}

static int js_word(jscan *s, const char *w)
{
	js_ws(s);
	size_t n = strlen(w);
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return js_error(s, "bad literal");
	s->p += n;
	return 0;
}

int js_null(jscan *s)
{
	return js_word(s, "null");
}

static int skip_at(jscan *s, int depth, strbuf *tmp)
{
	if (depth > JS_MAX_DEPTH)
		return js_error(s, "nested too deep");
	char c = js_peek(s);
	switch (c) {
	case '"':
		return js_string(s, tmp);
	case 't':
		return js_word(s, "true");
	case 'f':
		return js_word(s, "false");
	case 'n':
		return js_word(s, "null");
	case '[':
		s->p++;
		if (js_eat(s, ']'))
			return 0;
		do {
			if (skip_at(s, depth + 1, tmp) < 0)
				return -1;
		} while (js_eat(s, ','));
		return js_eat(s, ']') ? 0 : js_error(s, "expected , or ] in array");
	case '{':
		s->p++;
		if (js_eat(s, '}'))
			return 0;
		do {
			if (js_string(s, tmp) < 0)
				return -1;
			if (!js_eat(s, ':'))
				return js_error(s, "expected : in object");
			if (skip_at(s, depth + 1, tmp) < 0)
				return -1;
		} while (js_eat(s, ','));
		return js_eat(s, '}') ? 0 : js_error(s, "expected , or } in object");
	case 0:
		return js_error(s, "missing value (truncated line?)");
	default: {
		bool frac;
		return scan_number(s, &frac);
	}
	}
}

int js_skip(jscan *s)
{
	strbuf tmp = { 0 };
	int r = skip_at(s, 0, &tmp);
	sb_free(&tmp);
	return r;
}
