/*
 * test_kv_edge.c — the key-value API's edge: the strict UTF-8 check every key
 * and value passes (RFC 3629's table of well-formed sequences), and the JSON
 * string writer that must round-trip any stored value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "../../node/api/json_out.h"
#include "../../node/api/utf8.h"

#define V(s) utf8_valid(s, sizeof(s) - 1)

static void test_utf8_accepts_well_formed(void **state)
{
	(void)state;
	assert_true(V(""));
	assert_true(V("plain ascii"));
	assert_true(V("\x00"));                 /* U+0000 is valid UTF-8 */
	assert_true(V("\xc2\x80"));             /* U+0080 */
	assert_true(V("\xdf\xbf"));             /* U+07FF */
	assert_true(V("\xe0\xa0\x80"));         /* U+0800 */
	assert_true(V("\xed\x9f\xbf"));         /* U+D7FF, just below surrogates */
	assert_true(V("\xee\x80\x80"));         /* U+E000, just above */
	assert_true(V("\xef\xbf\xbf"));         /* U+FFFF */
	assert_true(V("\xf0\x90\x80\x80"));     /* U+10000 */
	assert_true(V("\xf4\x8f\xbf\xbf"));     /* U+10FFFF, the last */
	assert_true(V("k\xc3\xa9y \xe2\x82\xac \xf0\x9f\x98\x80"));
}

static void test_utf8_refuses_ill_formed(void **state)
{
	(void)state;
	assert_false(V("\x80"));                /* lone continuation */
	assert_false(V("\xbf"));
	assert_false(V("\xc0\x80"));            /* overlong NUL */
	assert_false(V("\xc1\xbf"));            /* overlong */
	assert_false(V("\xe0\x80\x80"));        /* overlong */
	assert_false(V("\xe0\x9f\xbf"));        /* overlong */
	assert_false(V("\xed\xa0\x80"));        /* surrogate U+D800 */
	assert_false(V("\xed\xbf\xbf"));        /* surrogate U+DFFF */
	assert_false(V("\xf0\x80\x80\x80"));    /* overlong */
	assert_false(V("\xf0\x8f\xbf\xbf"));    /* overlong */
	assert_false(V("\xf4\x90\x80\x80"));    /* above U+10FFFF */
	assert_false(V("\xf5\x80\x80\x80"));
	assert_false(V("\xff"));
	assert_false(V("\xfe\xff"));
	assert_false(V("\xc3"));                /* truncated */
	assert_false(V("\xe2\x82"));
	assert_false(V("\xf0\x9f\x98"));
	assert_false(V("\xc3\x28"));            /* bad continuation */
	assert_false(V("ok\xe2\x28\xa1"));
}

/* A decoder written from the definition, unlike utf8.c's table: read the
 * lead byte's length, assemble the code point, then require it to be in the
 * range only that length may encode and not a surrogate. */
static bool ref_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = p[i];
		size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		if (len == 0 || i + len > n)
			return false;
		uint32_t cp = len == 1 ? c : (uint32_t)(c & (0x7f >> len));
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
		if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* Every sequence of up to 3 bytes, and a sample of 4-byte ones: the
 * validator agrees with the reference decoder. */
static void test_utf8_agrees_with_reference(void **state)
{
	(void)state;
	for (uint32_t x = 0; x < (1u << 24); x++) {
		uint8_t b[3] = {(uint8_t)(x >> 16), (uint8_t)(x >> 8), (uint8_t)x};
		for (size_t n = 1; n <= 3; n++) {
			const uint8_t *p = b + 3 - n;
			if (n < 3 && (x >> (8 * n)) != 0)
				continue; /* shorter ones are visited once */
			if (utf8_valid(p, n) != ref_valid(p, n))
				fail_msg("bytes %02x %02x %02x (n=%zu): validator says %d", b[0], b[1],
					 b[2], n, utf8_valid(p, n));
		}
	}
	uint64_t r = 88172645463325252ULL;
	for (int i = 0; i < 2000000; i++) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		uint8_t b[4] = {(uint8_t)(0xf0 | (r & 7)), (uint8_t)(r >> 8), (uint8_t)(r >> 16), (uint8_t)(r >> 24)};
		if (i & 1) /* bias toward continuation bytes, where the edge cases are */
			for (int k = 1; k < 4; k++)
				b[k] = (uint8_t)(0x80 | (b[k] & 0x3f));
		if (utf8_valid(b, 4) != ref_valid(b, 4))
			fail_msg("bytes %02x %02x %02x %02x", b[0], b[1], b[2], b[3]);
	}
}

/* Whatever bytes a value holds (valid UTF-8, with quotes, backslashes and
 * control bytes), the JSON written for it parses back to the same bytes. */
static void test_json_str_round_trips(void **state)
{
	(void)state;
	const char *samples[] = {"", "plain", "quote\" back\\slash", "tab\tnl\ncr\r",
				 "\x01\x1f\x7f", "caf\xc3\xa9 \xf0\x9f\x98\x80", "</script>"};
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		bytebuf b = {0};
		assert_int_equal(json_raw(&b, "{\"v\":"), 0);
		assert_int_equal(json_cstr(&b, samples[i]), 0);
		assert_int_equal(json_raw(&b, ",\"n\":"), 0);
		assert_int_equal(json_u64(&b, UINT64_MAX), 0);
		assert_int_equal(json_raw(&b, "}"), 0);
		cJSON *o = cJSON_ParseWithLength((const char *)b.data, b.len);
		assert_non_null(o);
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "v");
		assert_true(cJSON_IsString(v));
		assert_string_equal(v->valuestring, samples[i]);
		cJSON_Delete(o);
		bytebuf_free(&b);
	}
	/* An embedded NUL is escaped, not cut. */
	bytebuf b = {0};
	assert_int_equal(json_str(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data, "\"a\\u0000b\"", 10);
	bytebuf_free(&b);
}

/* Both functions take plain ASCII eight bytes at a time: a special byte
 * (non-ASCII lead or continuation, a quote, a backslash, a control byte) at
 * every offset of strings up to 40 bytes, and random strings, must give the
 * answers of the byte-by-byte definitions. */
static void json_ref(bytebuf *b, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	assert_int_equal(bytebuf_append(b, "\"", 1), 0);
	for (size_t i = 0; i < n; i++) {
		char e[6] = {'\\', 'u', '0', '0', hex[s[i] >> 4], hex[s[i] & 15]};
		if (s[i] == '"' || s[i] == '\\') {
			e[1] = (char)s[i];
			assert_int_equal(bytebuf_append(b, e, 2), 0);
		} else if (s[i] < 0x20) {
			assert_int_equal(bytebuf_append(b, e, 6), 0);
		} else {
			assert_int_equal(bytebuf_append(b, s + i, 1), 0);
		}
	}
	assert_int_equal(bytebuf_append(b, "\"", 1), 0);
}

static void check_both(const uint8_t *s, size_t n)
{
	if (utf8_valid(s, n) != ref_valid(s, n))
		fail_msg("utf8_valid disagrees on %zu bytes", n);
	bytebuf got = {0}, want = {0};
	assert_int_equal(json_str(&got, s, n), 0);
	json_ref(&want, s, n);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	bytebuf_free(&got);
	bytebuf_free(&want);
}

static void test_word_at_a_time_paths(void **state)
{
	(void)state;
	static const uint8_t special[] = {'"', '\\', 0x00, 0x1f, 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80,
					  0xc3, 0xa9, 0xe2, 0xf0, 0xff};
	uint8_t s[48];
	for (size_t n = 0; n <= 40; n++) {
		for (size_t at = 0; at < n; at++) {
			for (size_t k = 0; k < sizeof special; k++) {
				memset(s, 'a', n);
				s[at] = special[k];
				check_both(s, n);
				if (at + 1 < n) { /* a well-formed pair: é */
					s[at] = 0xc3;
					s[at + 1] = 0xa9;
					check_both(s, n);
				}
			}
		}
	}
	uint64_t r = 0x2545f4914f6cdd1dULL;
	for (int i = 0; i < 200000; i++) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		size_t n = (size_t)(r % 41);
		for (size_t k = 0; k < n; k++) {
			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			/* mostly printable ASCII, sometimes anything */
			s[k] = (r & 0xf00) ? (uint8_t)(0x20 + (r % 95)) : (uint8_t)(r >> 24);
		}
		check_both(s, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_accepts_well_formed),
		cmocka_unit_test(test_utf8_refuses_ill_formed),
		cmocka_unit_test(test_utf8_agrees_with_reference),
		cmocka_unit_test(test_json_str_round_trips),
		cmocka_unit_test(test_word_at_a_time_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
