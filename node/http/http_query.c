/* http_query.c — percent-decoding and query-string lookup. */
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

long http_pct_decode(const char *src, size_t n, char *dst, bool plus, bool strict)
{
	/* Most paths and queries have nothing to decode. */
	if (n == 0)
		return 0;
	if (memchr(src, '%', n) == NULL && (!plus || memchr(src, '+', n) == NULL)) {
		memcpy(dst, src, n);
		return (long)n;
	}
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = src[i];
		if (ch == '%') {
			/* A valid escape needs two hex digits inside the n bytes. */
			int hi = i + 1 < n ? hexval(src[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(src[i + 2]) : -1;
			/* %00 would cut a C string short; a strict caller refuses it. */
			if (hi < 0 || lo < 0 || (strict && hi == 0 && lo == 0)) {
				if (strict)
					return -1;
				dst[o++] = ch; /* lenient: keep a stray '%' as it is */
				continue;
			}
			dst[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (plus && ch == '+') {
			dst[o++] = ' ';
		} else {
			dst[o++] = ch;
		}
	}
	return (long)o;
}

/* The first parameter whose decoded name is name: its raw value (*v, *vlen
 * bytes, still encoded). 0 found, -1 absent, -3 out of memory. */
static int find_param(const http_request *req, const char *name, const char **v, size_t *vlen)
{
	const char *q = req->query ? req->query : "";
	size_t nlen = strlen(name);
	while (*q) {
		const char *amp = strchr(q, '&');
		size_t plen = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', plen);
		size_t klen = eq ? (size_t)(eq - q) : plen;
		bool match;
		if (memchr(q, '%', klen) == NULL && memchr(q, '+', klen) == NULL) {
			/* Nothing to decode (nearly every key): compare in place.
			 * The copy below cost a malloc and a free per parameter,
			 * ~10% of the leader's instructions per linearizable read. */
			match = klen == nlen && memcmp(q, name, nlen) == 0;
		} else {
			/* Keys are decoded too, so "a%62c" matches "abc". */
			char *key = malloc(klen + 1);
			if (key == NULL)
				return -3;
			long kd = http_pct_decode(q, klen, key, true, false);
			match = kd >= 0 && (size_t)kd == nlen && memcmp(key, name, nlen) == 0;
			free(key);
		}
		if (match) {
			*v = eq ? eq + 1 : q + plen;
			*vlen = eq ? plen - klen - 1 : 0;
			return 0;
		}
		if (!amp)
			break;
		q = amp + 1;
	}
	return -1;
}

/* Decodes vlen bytes at v into dst (room for vlen + 1): 0, or -2 if the
 * value holds a NUL byte. */
static int decode_value(const char *v, size_t vlen, char *dst)
{
	long vd = http_pct_decode(v, vlen, dst, true, false);
	if (vd > 0 && memchr(dst, '\0', (size_t)vd) != NULL)
		return -2;
	dst[vd < 0 ? 0 : vd] = '\0';
	return 0;
}

int http_query_get(const http_request *req, const char *name, char **out)
{
	const char *v;
	size_t vlen;
	if (find_param(req, name, &v, &vlen) != 0)
		return -1;
	char *val = malloc(vlen + 1);
	if (val == NULL)
		return -1;
	if (decode_value(v, vlen, val) != 0) {
		free(val);
		return -2;
	}
	*out = val;
	return 0;
}

int http_query_copy(const http_request *req, const char *name, char *buf, size_t cap)
{
	const char *v;
	size_t vlen;
	if (find_param(req, name, &v, &vlen) != 0)
		return -1;
	/* Decoding never lengthens: vlen + 1 bytes always suffice. */
	if (vlen >= cap)
		return -3;
	return decode_value(v, vlen, buf);
}
