/*
 * http_fast.c — the strict scanner for complete common requests (see
 * http_fast.h for what it accepts; everything else goes to http-parser).
 */
#include "http_fast.h"

#include <http_parser.h>
#include <stdbool.h>
#include <string.h>

/* Character classes of the bytes 0-255: C_URL letters, digits and
 * -._~!$&'()*+,;=:@/%? ; C_TOKEN letters, digits and !#$%&'*+-.^_`|~ ;
 * C_VALUE 0x20-0x7e and tab; C_DIGIT 0-9. Bytes from 0x80 are in none
 * (tests/unit/test_http_fast.c checks the table against these lists). */
const unsigned char http_fast_class[256] = {
	/* 00 */  0,  0,  0,  0,  0,  0,  0,  0,  0,  4,  0,  0,  0,  0,  0,  0,
	/* 10 */  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	/* 20 */  4,  7,  4,  6,  7,  7,  7,  7,  5,  5,  7,  7,  5,  7,  7,  5,
	/* 30 */ 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,  5,  5,  4,  5,  4,  5,
	/* 40 */  5,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,
	/* 50 */  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  4,  4,  4,  6,  7,
	/* 60 */  6,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,
	/* 70 */  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  4,  6,  4,  7,  0,
	/* 80-ff: 0 */
};
#define cls http_fast_class
#define C_URL HTTP_FAST_URL
#define C_TOKEN HTTP_FAST_TOKEN
#define C_VALUE HTTP_FAST_VALUE
#define C_DIGIT HTTP_FAST_DIGIT

static uint64_t load64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/* name (n bytes, all C_TOKEN) equals lit (lower case letters and '-') in
 * any case. Setting bit 0x20 lowers a letter and keeps '-'; the only other
 * byte it turns into a letter or '-' would be a control byte, and a token
 * has none. Eight bytes at a time from the start, then the last eight. */
static bool name_eq(const char *name, size_t n, const char *lit, size_t litlen)
{
	if (n != litlen)
		return false;
	const uint64_t low = 0x2020202020202020ull;
	if (n < 8) {
		for (size_t i = 0; i < n; i++)
			if (((unsigned char)name[i] | 0x20) != (unsigned char)lit[i])
				return false;
		return true;
	}
	for (size_t i = 0; i + 8 <= n; i += 8)
		if ((load64(name + i) | low) != load64(lit + i))
			return false;
	return (load64(name + n - 8) | low) == load64(lit + n - 8);
}
#define NAME_IS(p, n, lit) name_eq((p), (n), (lit), sizeof(lit) - 1)

/* Headers the server or http-parser gives a meaning: declined (except
 * Content-Length, which the caller parses). */
static bool special_name(const char *p, size_t n)
{
	switch (n) {
	case 6: return NAME_IS(p, n, "expect");
	case 7: return NAME_IS(p, n, "upgrade");
	case 10: return NAME_IS(p, n, "connection");
	case 13: return NAME_IS(p, n, "authorization");
	case 16: return NAME_IS(p, n, "proxy-connection");
	case 17: return NAME_IS(p, n, "transfer-encoding");
	default: return false;
	}
}

static int method_of(const char *b, size_t len, size_t *mlen)
{
	if (len < 5)
		return -1;
	switch (b[0]) {
	case 'G':
		if (memcmp(b, "GET ", 4) == 0) {
			*mlen = 3;
			return HTTP_GET;
		}
		break;
	case 'P':
		if (memcmp(b, "PUT ", 4) == 0) {
			*mlen = 3;
			return HTTP_PUT;
		}
		if (memcmp(b, "POST ", 5) == 0) {
			*mlen = 4;
			return HTTP_POST;
		}
		break;
	case 'H':
		if (memcmp(b, "HEAD ", 5) == 0) {
			*mlen = 4;
			return HTTP_HEAD;
		}
		break;
	case 'D':
		if (len >= 7 && memcmp(b, "DELETE ", 7) == 0) {
			*mlen = 6;
			return HTTP_DELETE;
		}
		break;
	default:
		break;
	}
	return -1;
}

/* The end of the run of bytes of class c from i (at most lim): four bytes
 * a time while four are left, then one by one. */
static inline size_t span(const unsigned char *b, size_t i, size_t lim, unsigned char c)
{
	while (lim - i >= 4 && (cls[b[i]] & cls[b[i + 1]] & cls[b[i + 2]] & cls[b[i + 3]] & c))
		i += 4;
	while (i < lim && (cls[b[i]] & c))
		i++;
	return i;
}

int http_fast_parse(const char *buf, size_t len, http_fast_req *out)
{
	const unsigned char *b = (const unsigned char *)buf;
	size_t lim = len < HTTP_FAST_MAX_HEAD ? len : HTTP_FAST_MAX_HEAD;
	size_t mlen = 0;
	int method = method_of(buf, lim, &mlen);
	if (method < 0)
		return 0;
	/* The target: '/' then URL characters up to the space. */
	size_t i = mlen + 1, u0 = i;
	if (i >= lim || b[i] != '/')
		return 0;
	i = span(b, i, lim, C_URL);
	size_t ulen = i - u0;
	static const char ver[] = " HTTP/1.1\r\n";
	if (lim - i < sizeof ver - 1 || memcmp(b + i, ver, sizeof ver - 1) != 0)
		return 0;
	i += sizeof ver - 1;
	/* Header lines up to the empty one. */
	bool have_len = false;
	uint64_t clen = 0;
	for (;;) {
		if (i + 1 >= lim)
			return 0; /* incomplete, or too long for this path */
		if (b[i] == '\r') {
			if (b[i + 1] != '\n')
				return 0;
			i += 2;
			break;
		}
		size_t n0 = i;
		i = span(b, i, lim, C_TOKEN);
		size_t nlen = i - n0;
		if (nlen == 0 || i >= lim || b[i] != ':')
			return 0;
		i++;
		while (i < lim && (b[i] == ' ' || b[i] == '\t'))
			i++;
		size_t v0 = i;
		i = span(b, i, lim, C_VALUE);
		if (i + 1 >= lim || b[i] != '\r' || b[i + 1] != '\n')
			return 0;
		size_t vlen = i - v0;
		i += 2;
		if (nlen == 14 && NAME_IS(buf + n0, nlen, "content-length")) {
			if (have_len || vlen == 0 || vlen > 15)
				return 0;
			for (size_t k = 0; k < vlen; k++) {
				if (!(cls[b[v0 + k]] & C_DIGIT))
					return 0;
				clen = clen * 10 + (uint64_t)(b[v0 + k] - '0');
			}
			have_len = true;
		} else if (special_name(buf + n0, nlen)) {
			return 0;
		}
	}
	if (clen > len - i)
		return 0; /* the body is not all here yet */
	out->method = method;
	out->url = buf + u0;
	out->url_len = ulen;
	out->head_len = i;
	out->body_len = clen;
	out->body = buf + i;
	out->total = i + (size_t)clen;
	return 1;
}
