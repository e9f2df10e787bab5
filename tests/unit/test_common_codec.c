/*
 * test_common_codec.c — the request path's hand-rolled helpers against the
 * slow, obvious versions they replaced: CRC-32C by instruction against the
 * table, decimal formatting against snprintf, the inline bytebuf growth.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../node/common/bytebuf.h"
#include "../../node/common/crc32c.h"
#include "../../node/common/splitmix.h"

static void test_crc32c_known_value(void **state)
{
	(void)state;
	/* The check value of CRC-32C (RFC 3720 appendix B.4's polynomial). */
	assert_int_equal(crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(crc32c_sw(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(crc32c(0, "", 0), 0);
	/* 32 bytes of zeros, RFC 3720 B.4. */
	uint8_t z[32] = {0};
	assert_int_equal(crc32c(0, z, sizeof z), 0x8A9136AAu);
}

/* Every length 0..300 at every alignment 0..7, whole and in two chained
 * pieces: the instruction path and the table must agree byte for byte. */
static void test_crc32c_matches_table(void **state)
{
	(void)state;
	uint8_t buf[320];
	uint64_t seed = 42;
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)splitmix64_next(&seed);
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= 300; len++) {
			uint32_t want = crc32c_sw(0, buf + off, len);
			assert_int_equal(crc32c(0, buf + off, len), want);
			size_t cut = len / 3;
			assert_int_equal(crc32c(crc32c(0, buf + off, cut), buf + off + cut, len - cut), want);
		}
}

static void check_u64(uint64_t v)
{
	char want[32], got[24];
	int n = snprintf(want, sizeof want, "%llu", (unsigned long long)v);
	size_t m = u64_decimal(got, v);
	assert_int_equal(m, (size_t)n);
	assert_memory_equal(got, want, m);
}

static void test_u64_decimal(void **state)
{
	(void)state;
	check_u64(0);
	check_u64(9);
	check_u64(10);
	check_u64(UINT64_MAX);
	for (uint64_t p = 1; p < UINT64_MAX / 10; p *= 10) {
		check_u64(p - 1);
		check_u64(p);
	}
	uint64_t seed = 7;
	for (int i = 0; i < 10000; i++)
		check_u64(splitmix64_next(&seed) >> (i % 64));
}

static void test_bytebuf_appends(void **state)
{
	(void)state;
	bytebuf b = {0};
	char want[64 * 1024];
	size_t wl = 0;
	for (int i = 0; i < 3000; i++) {
		assert_int_equal(bytebuf_append_str(&b, "k="), 0);
		assert_int_equal(bytebuf_append_u64(&b, (uint64_t)i * 7919u), 0);
		assert_int_equal(bytebuf_append(&b, ";", 1), 0);
		wl += (size_t)snprintf(want + wl, sizeof want - wl, "k=%llu;", (unsigned long long)i * 7919u);
	}
	assert_int_equal(b.len, wl);
	assert_memory_equal(b.data, want, wl);
	assert_true(b.cap >= b.len);
	/* An impossible reservation fails and leaves the buffer as it was. */
	assert_int_equal(bytebuf_reserve(&b, SIZE_MAX), -1);
	assert_int_equal(b.len, wl);
	bytebuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_known_value),
		cmocka_unit_test(test_crc32c_matches_table),
		cmocka_unit_test(test_u64_decimal),
		cmocka_unit_test(test_bytebuf_appends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
