/* json_out.c — hand-written JSON output (see json_out.h). */
#include "json_out.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <string.h>

int json_raw(bytebuf *b, const char *s)
{
	return bytebuf_append_str(b, s);
}

int json_str(bytebuf *b, const void *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *s = p;
	/* Worst case every byte becomes a 6-byte \u00XX escape. */
	if (len > (SIZE_MAX - 2) / 6 || bytebuf_reserve(b, len * 6 + 2) != 0)
		return -1;
	uint8_t *o = b->data + b->len;
	*o++ = '"';
	for (size_t i = 0; i < len; i++) {
		/* Eight bytes at a time while none needs an escape: no byte
		 * below 0x20, no '"' (0x22), no '\\' (0x5c). */
		while (len - i >= 8) {
			const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
			uint64_t w;
			memcpy(&w, s + i, sizeof w);
			uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
			uint64_t special = ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((bs - ones) & ~bs);
			if ((special & high) != 0)
				break;
			memcpy(o, &w, sizeof w);
			o += 8;
			i += 8;
		}
		if (i == len)
			break;
		uint8_t c = s[i];
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = c;
		} else if (c < 0x20) {
			*o++ = '\\';
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = (uint8_t)hex[c >> 4];
			*o++ = (uint8_t)hex[c & 15];
		} else {
			*o++ = c;
		}
	}
	*o++ = '"';
	b->len = (size_t)(o - b->data);
	return 0;
}

int json_cstr(bytebuf *b, const char *s)
{
	return json_str(b, s, strlen(s));
}

int json_u64(bytebuf *b, uint64_t v)
{
	return bytebuf_append_u64(b, v);
}

bool json_has_nul_escape(const char *text, size_t len)
{
	/* Outside strings a backslash is a syntax error the parser reports;
	 * inside, "\\" is one escaped backslash, so escapes are skipped in
	 * pairs and only a real \u escape is examined. */
	if (len == 0)
		return false;
	if (memchr(text, '\0', len) != NULL)
		return true;
	for (size_t i = 0; i + 1 < len; i++) {
		if (text[i] != '\\')
			continue;
		if (text[i + 1] == 'u' && i + 5 < len && memcmp(text + i + 2, "0000", 4) == 0)
			return true;
		i++; /* skip the escaped character */
	}
	return false;
}

struct cJSON *json_parse_whole(const char *body, size_t len)
{
	const char *end = NULL;
	cJSON *o = cJSON_ParseWithLengthOpts(body, len, &end, false);
	if (o == NULL)
		return NULL;
	size_t used = end >= body ? (size_t)(end - body) : len + 1;
	for (size_t i = used; i <= len; i++) {
		if (i == len)
			return o;
		char ch = body[i];
		if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n')
			break;
	}
	cJSON_Delete(o);
	return NULL;
}

struct cJSON *json_add_u64(struct cJSON *o, const char *name, uint64_t v)
{
	char digits[24];
	snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
	return cJSON_AddRawToObject(o, name, digits);
}
