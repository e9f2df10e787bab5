/*
 * test_net_wire_snapshot.c — the snapshot transfer frames: chunks and acks
 * round-trip; a chunk that lies about its place in the stream is refused
 * both when encoding and (checksum re-sealed) when decoding; every
 * truncation and bit flip is refused; the stream reader accepts these frame
 * types and wire_decode never mistakes them for Raft messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../node/common/crc32c.h"
#include "../../node/net/wire_snapshot.h"

static wire_snap_chunk sample(const uint8_t *data, uint32_t len, uint64_t offset, uint64_t total)
{
	wire_snap_chunk c = {.from = 1, .to = 3, .term = 7, .index = 4242, .snap_term = 6,
			     .total = total, .offset = offset, .last = offset + len == total,
			     .stream_crc = 0xdeadbeef, .data = data, .len = len};
	return c;
}

static void test_chunk_round_trip(void **state)
{
	(void)state;
	uint8_t data[1000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 13);
	uint64_t offsets[] = {0, 1000, 2000};
	for (size_t k = 0; k < 3; k++) {
		wire_snap_chunk c = sample(data, sizeof data, offsets[k], 3000);
		uint8_t *f;
		size_t n;
		assert_int_equal(wire_encode_snap_chunk(&c, &f, &n), 0);
		assert_int_equal(wire_frame_length(f, n), (long)n);
		wire_snap_chunk d;
		const char *why = NULL;
		assert_int_equal(wire_decode_snap_chunk(f, n, &d, &why), 0);
		assert_int_equal(d.from, 1);
		assert_int_equal(d.to, 3);
		assert_int_equal(d.term, 7);
		assert_int_equal(d.index, 4242);
		assert_int_equal(d.snap_term, 6);
		assert_int_equal(d.total, 3000);
		assert_int_equal(d.offset, offsets[k]);
		assert_int_equal(d.last, k == 2);
		assert_int_equal(d.stream_crc, 0xdeadbeef);
		assert_int_equal(d.len, sizeof data);
		assert_memory_equal(d.data, data, sizeof data);
		/* Never a Raft message. */
		raft_msg m;
		assert_int_equal(wire_decode(f, n, &m, &why), -1);
		assert_non_null(strstr(why, "snapshot frame"));
		free(f);
	}
}

static void test_lying_chunks_are_refused(void **state)
{
	(void)state;
	uint8_t data[10] = {0};
	wire_snap_chunk bad[] = {
		sample(data, 10, 95, 100),  /* past the end */
		sample(data, 10, 0, 100),   /* claims last */
		sample(data, 0, 0, 100),    /* empty, not last */
		sample(data, 10, 0, 10),    /* index 0 */
	};
	bad[1].last = true;
	bad[3].index = 0;
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		uint8_t *f = NULL;
		size_t n;
		assert_int_equal(wire_encode_snap_chunk(&bad[k], &f, &n), -1);
		assert_null(f);
	}
	/* Forged on the wire with a valid checksum: offset moved past total. */
	wire_snap_chunk c = sample(data, 10, 0, 10);
	uint8_t *f;
	size_t n;
	assert_int_equal(wire_encode_snap_chunk(&c, &f, &n), 0);
	f[10 + 40] = 50; /* offset = 50 */
	uint32_t crc = crc32c(crc32c(0, f + 4, 2), f + 10, n - 10);
	for (int i = 0; i < 4; i++)
		f[6 + i] = (uint8_t)(crc >> (8 * i));
	wire_snap_chunk d;
	const char *why = NULL;
	assert_int_equal(wire_decode_snap_chunk(f, n, &d, &why), -1);
	assert_non_null(strstr(why, "past the end"));
	free(f);
}

static void test_every_truncation_and_flip_is_refused(void **state)
{
	(void)state;
	uint8_t data[64];
	memset(data, 'z', sizeof data);
	wire_snap_chunk c = sample(data, sizeof data, 100, 164);
	uint8_t *f;
	size_t n;
	assert_int_equal(wire_encode_snap_chunk(&c, &f, &n), 0);
	wire_snap_chunk d;
	const char *why;
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(wire_decode_snap_chunk(f, cut, &d, &why), -1);
	uint8_t *g = malloc(n);
	assert_non_null(g);
	for (size_t off = 0; off < n; off++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(g, f, n);
			g[off] ^= (uint8_t)(1u << bit);
			if (wire_decode_snap_chunk(g, n, &d, &why) == 0)
				fail_msg("flip of bit %d at byte %zu accepted", bit, off);
		}
	}
	free(g);
	free(f);
}

static void test_ack_round_trip(void **state)
{
	(void)state;
	wire_snap_ack a = {.from = 3, .to = 1, .term = 7, .index = 4242, .snap_term = 6,
			   .offset = 1u << 20, .status = WIRE_SNAP_CONTINUE};
	uint8_t f[WIRE_SNAP_ACK_LEN];
	wire_encode_snap_ack(&a, f);
	assert_int_equal(wire_frame_length(f, sizeof f), (long)sizeof f);
	wire_snap_ack b;
	const char *why;
	assert_int_equal(wire_decode_snap_ack(f, sizeof f, &b, &why), 0);
	/* field by field: the structs' padding is not part of the frame */
	assert_int_equal(b.from, a.from);
	assert_int_equal(b.to, a.to);
	assert_int_equal(b.term, a.term);
	assert_int_equal(b.index, a.index);
	assert_int_equal(b.snap_term, a.snap_term);
	assert_int_equal(b.offset, a.offset);
	assert_int_equal(b.status, a.status);
	a.status = 3; /* unknown */
	wire_encode_snap_ack(&a, f);
	assert_int_equal(wire_decode_snap_ack(f, sizeof f, &b, &why), -1);
	/* A chunk is not an ack, nor an ack a chunk. */
	a.status = WIRE_SNAP_DONE;
	wire_encode_snap_ack(&a, f);
	wire_snap_chunk c;
	assert_int_equal(wire_decode_snap_chunk(f, sizeof f, &c, &why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunk_round_trip),
		cmocka_unit_test(test_lying_chunks_are_refused),
		cmocka_unit_test(test_every_truncation_and_flip_is_refused),
		cmocka_unit_test(test_ack_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
