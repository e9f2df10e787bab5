/*
 * test_net_wire.c — peer frame encoding: round trips of every message type,
 * and a decoder that refuses truncations, bit flips and random garbage
 * without reading out of bounds (run under ASan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../node/common/crc32c.h"
#include "../../node/net/wire.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
	/* xorshift64*: deterministic so a failure reproduces. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static void fill_msg(raft_msg *m, uint8_t type, size_t n_entries)
{
	memset(m, 0, sizeof *m);
	m->type = type;
	m->from = 2;
	m->to = 1;
	m->term = 0x0102030405060708ull;
	m->log_term = 77;
	m->index = UINT64_MAX;
	m->commit = 12345;
	m->ctx = 0xdeadbeefcafef00dull;
	m->reject = type % 2 == 0;
	m->hint_index = 99;
	m->hint_term = 98;
	m->incarnation = 0x1234567890abcdefull;
	m->n_entries = n_entries;
	if (n_entries == 0)
		return;
	m->entries = calloc(n_entries, sizeof(raft_entry));
	assert_non_null(m->entries);
	for (size_t i = 0; i < n_entries; i++) {
		raft_entry *e = &m->entries[i];
		e->term = 5 + i;
		e->index = 100 + i;
		e->type = (uint8_t)(i % 2);
		e->len = (uint32_t)(i * 7 % 300);
		if (e->len) {
			e->data = malloc(e->len);
			assert_non_null(e->data);
			for (uint32_t k = 0; k < e->len; k++)
				e->data[k] = (uint8_t)(k * 31 + i);
		}
	}
}

static void free_built(raft_msg *m)
{
	for (size_t i = 0; i < m->n_entries; i++)
		free(m->entries[i].data);
	free(m->entries);
}

static void assert_msg_equal(const raft_msg *a, const raft_msg *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->from, b->from);
	assert_int_equal(a->to, b->to);
	assert_true(a->term == b->term);
	assert_true(a->log_term == b->log_term);
	assert_true(a->index == b->index);
	assert_true(a->commit == b->commit);
	assert_true(a->ctx == b->ctx);
	assert_int_equal(a->reject, b->reject);
	assert_true(a->hint_index == b->hint_index);
	assert_true(a->hint_term == b->hint_term);
	assert_true(a->incarnation == b->incarnation);
	assert_int_equal(a->n_entries, b->n_entries);
	for (size_t i = 0; i < a->n_entries; i++) {
		const raft_entry *x = &a->entries[i], *y = &b->entries[i];
		assert_true(x->term == y->term);
		assert_true(x->index == y->index);
		assert_int_equal(x->type, y->type);
		assert_int_equal(x->len, y->len);
		if (x->len)
			assert_memory_equal(x->data, y->data, x->len);
		else
			assert_null(y->data);
	}
}

static void test_round_trip_all_types(void **state)
{
	(void)state;
	for (uint8_t type = RAFT_MSG_PREVOTE; type <= RAFT_MSG_TIMEOUT_NOW; type++) {
		size_t counts[] = { 0, 1, 5, 64 };
		for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
			raft_msg m, out;
			fill_msg(&m, type, counts[k]);
			uint8_t *f;
			size_t len;
			assert_int_equal(wire_encode(&m, &f, &len), 0);
			/* The stream decoder sees the same length. */
			assert_int_equal(wire_frame_length(f, len), (long)len);
			for (size_t part = 0; part < 6; part++)
				assert_int_equal(wire_frame_length(f, part), 0);
			const char *why = NULL;
			assert_int_equal(wire_decode(f, len, &out, &why), 0);
			assert_msg_equal(&m, &out);
			wire_msg_free(&out);
			assert_null(out.entries);
			free(f);
			free_built(&m);
		}
	}
}

static void test_hello(void **state)
{
	(void)state;
	uint8_t h[WIRE_HELLO_LEN], mac[WIRE_MAC_LEN], got[WIRE_MAC_LEN];
	for (size_t i = 0; i < sizeof mac; i++)
		mac[i] = (uint8_t)(i * 7 + 1);
	wire_encode_hello(3, 9, mac, h);
	assert_int_equal(wire_frame_length(h, sizeof h), WIRE_HELLO_LEN);
	uint32_t from, to;
	assert_int_equal(wire_decode_hello(h, sizeof h, &from, &to, got, NULL), 0);
	assert_int_equal(from, 3);
	assert_int_equal(to, 9);
	assert_memory_equal(got, mac, sizeof mac);
	wire_encode_hello(3, 9, NULL, h); /* no secret: zeros */
	assert_int_equal(wire_decode_hello(h, sizeof h, &from, &to, got, NULL), 0);
	memset(mac, 0, sizeof mac);
	assert_memory_equal(got, mac, sizeof mac);
	/* The challenge carries the nonce; it is neither a hello nor a message. */
	uint8_t ch[WIRE_CHALLENGE_LEN], nonce[WIRE_NONCE_LEN], nonce2[WIRE_NONCE_LEN];
	for (size_t i = 0; i < sizeof nonce; i++)
		nonce[i] = (uint8_t)(0xa0 + i);
	wire_encode_challenge(nonce, ch);
	assert_int_equal(wire_frame_length(ch, sizeof ch), WIRE_CHALLENGE_LEN);
	assert_int_equal(wire_decode_challenge(ch, sizeof ch, nonce2, NULL), 0);
	assert_memory_equal(nonce, nonce2, sizeof nonce);
	assert_int_equal(wire_decode_hello(ch, sizeof ch, &from, &to, NULL, NULL), -1);
	assert_int_equal(wire_decode_challenge(h, sizeof h, nonce2, NULL), -1);
	raft_msg cm;
	assert_int_equal(wire_decode(ch, sizeof ch, &cm, NULL), -1);
	ch[WIRE_CHALLENGE_LEN - 1] ^= 1; /* checksum */
	assert_int_equal(wire_decode_challenge(ch, sizeof ch, nonce2, NULL), -1);
	/* A hello is not a Raft message, and a message is not a hello. */
	raft_msg m;
	const char *why = NULL;
	assert_int_equal(wire_decode(h, sizeof h, &m, &why), -1);
	assert_non_null(why);
	raft_msg hb;
	fill_msg(&hb, RAFT_MSG_HEARTBEAT, 0);
	uint8_t *f;
	size_t len;
	assert_int_equal(wire_encode(&hb, &f, &len), 0);
	assert_int_equal(wire_decode_hello(f, len, &from, &to, NULL, &why), -1);
	free(f);
}

static void test_truncated(void **state)
{
	(void)state;
	raft_msg m, out;
	fill_msg(&m, RAFT_MSG_APPEND, 10);
	uint8_t *f;
	size_t len;
	assert_int_equal(wire_encode(&m, &f, &len), 0);
	for (size_t cut = 0; cut < len; cut++) {
		/* Copy to an exact-size buffer so ASan catches any over-read. */
		uint8_t *p = malloc(cut ? cut : 1);
		assert_non_null(p);
		memcpy(p, f, cut);
		const char *why = NULL;
		assert_int_equal(wire_decode(p, cut, &out, &why), -1);
		assert_non_null(why);
		assert_null(out.entries);
		free(p);
	}
	free(f);
	free_built(&m);
}

/* Builds a frame around an arbitrary body with a valid checksum, to reach
 * the body checks past the CRC. */
static uint8_t *forge(uint8_t type, const uint8_t *body, size_t blen, size_t *len)
{
	uint8_t *f = malloc(10 + blen);
	assert_non_null(f);
	uint8_t vt[2] = { WIRE_VERSION, type };
	uint32_t rest = (uint32_t)(blen + 6), crc = crc32c(crc32c(0, vt, 2), body, blen);
	memcpy(f + 10, body, blen);
	for (int i = 0; i < 4; i++) {
		f[i] = (uint8_t)(rest >> (8 * i));
		f[6 + i] = (uint8_t)(crc >> (8 * i));
	}
	f[4] = WIRE_VERSION;
	f[5] = type;
	*len = 10 + blen;
	return f;
}

static void test_bad_counts_and_lengths(void **state)
{
	(void)state;
	raft_msg m, out;
	fill_msg(&m, RAFT_MSG_APPEND, 2);
	uint8_t *f;
	size_t len;
	assert_int_equal(wire_encode(&m, &f, &len), 0);
	const char *why;
	size_t flen;
	uint8_t *g;

	/* Entry count far larger than the frame. */
	uint8_t *body = malloc(len - 10);
	assert_non_null(body);
	memcpy(body, f + 10, len - 10);
	body[65] = 0xff, body[66] = 0xff, body[67] = 0xff, body[68] = 0xff;
	g = forge(RAFT_MSG_APPEND, body, len - 10, &flen);
	assert_int_equal(wire_decode(g, flen, &out, &why), -1);
	assert_string_equal(why, "entry count exceeds frame");
	free(g);

	/* First entry's length claims more than is left. */
	memcpy(body, f + 10, len - 10);
	body[77 + 17] = 0xff, body[77 + 18] = 0xff, body[77 + 19] = 0xff, body[77 + 20] = 0x7f; /* 77: FIXED_LEN */
	g = forge(RAFT_MSG_APPEND, body, len - 10, &flen);
	assert_int_equal(wire_decode(g, flen, &out, &why), -1);
	assert_string_equal(why, "entry exceeds frame");
	free(g);

	/* Trailing bytes. */
	uint8_t *longer = calloc(1, len - 10 + 3);
	assert_non_null(longer);
	memcpy(longer, f + 10, len - 10);
	g = forge(RAFT_MSG_APPEND, longer, len - 10 + 3, &flen);
	assert_int_equal(wire_decode(g, flen, &out, &why), -1);
	assert_string_equal(why, "trailing bytes after entries");
	free(g);
	free(longer);

	/* Reject flag other than 0/1. */
	memcpy(body, f + 10, len - 10);
	body[48] = 2;
	g = forge(RAFT_MSG_APPEND, body, len - 10, &flen);
	assert_int_equal(wire_decode(g, flen, &out, &why), -1);
	free(g);

	/* Unknown type and version. */
	memcpy(body, f + 10, len - 10);
	g = forge(0, body, len - 10, &flen);
	assert_int_equal(wire_frame_length(g, flen), -1);
	assert_int_equal(wire_decode(g, flen, &out, &why), -1);
	g[5] = 13;
	assert_int_equal(wire_frame_length(g, flen), -1);
	assert_int_equal(wire_decode(g, flen, &out, &why), -1);
	g[5] = RAFT_MSG_APPEND;
	g[4] = WIRE_VERSION + 1;
	assert_int_equal(wire_frame_length(g, flen), -1);
	assert_int_equal(wire_decode(g, flen, &out, &why), -1);
	assert_string_equal(why, "unknown wire version");
	free(g);

	/* Length prefix disagreeing with the buffer, and absurd lengths. */
	f[0] ^= 1;
	assert_int_equal(wire_decode(f, len, &out, &why), -1);
	f[0] ^= 1;
	uint8_t huge[6] = { 0xff, 0xff, 0xff, 0xff, WIRE_VERSION, RAFT_MSG_APPEND };
	assert_int_equal(wire_frame_length(huge, sizeof huge), -1);
	uint8_t tiny[6] = { 2, 0, 0, 0, WIRE_VERSION, RAFT_MSG_APPEND };
	assert_int_equal(wire_frame_length(tiny, sizeof tiny), -1);
	const uint8_t http[] = "GET / HTTP/1.1\r\n";
	assert_int_equal(wire_frame_length(http, sizeof http - 1), -1);

	free(body);
	free(f);
	free_built(&m);
}

static void test_bit_flips(void **state)
{
	(void)state;
	raft_msg m, out;
	fill_msg(&m, RAFT_MSG_APPEND, 4);
	uint8_t *f;
	size_t len;
	assert_int_equal(wire_encode(&m, &f, &len), 0);
	/* Every single-bit flip is caught (by a header check or the CRC). */
	for (size_t i = 0; i < len; i++) {
		for (int b = 0; b < 8; b++) {
			f[i] ^= (uint8_t)(1u << b);
			const char *why = NULL;
			assert_int_equal(wire_decode(f, len, &out, &why), -1);
			f[i] ^= (uint8_t)(1u << b);
		}
	}
	assert_int_equal(wire_decode(f, len, &out, NULL), 0);
	wire_msg_free(&out);
	free(f);
	free_built(&m);
}

static void test_garbage_fuzz(void **state)
{
	(void)state;
	raft_msg m, out;
	fill_msg(&m, RAFT_MSG_PROPOSE, 3);
	uint8_t *good;
	size_t glen;
	assert_int_equal(wire_encode(&m, &good, &glen), 0);
	for (int iter = 0; iter < 200000; iter++) {
		size_t len = next_rand() % 400;
		uint8_t *p = malloc(len ? len : 1);
		assert_non_null(p);
		uint64_t mode = next_rand() % 3;
		if (mode == 0 || glen == 0) {
			for (size_t i = 0; i < len; i++)
				p[i] = (uint8_t)next_rand();
		} else {
			/* Mutations of a valid frame reach deeper. */
			size_t n = len < glen ? len : glen;
			memcpy(p, good, n);
			for (size_t i = n; i < len; i++)
				p[i] = (uint8_t)next_rand();
			for (int k = 0; k < 1 + (int)(next_rand() % 4) && len > 0; k++)
				p[next_rand() % len] = (uint8_t)next_rand();
			if (mode == 2 && len >= 10) {
				/* Fix up length and CRC so the body parser is hit. */
				p[4] = WIRE_VERSION;
				uint32_t rest = (uint32_t)(len - 4);
				uint32_t crc = crc32c(crc32c(0, p + 4, 2), p + 10, len - 10);
				for (int i = 0; i < 4; i++) {
					p[i] = (uint8_t)(rest >> (8 * i));
					p[6 + i] = (uint8_t)(crc >> (8 * i));
				}
			}
		}
		long fl = wire_frame_length(p, len);
		assert_true(fl >= -1);
		const char *why = NULL;
		if (wire_decode(p, len, &out, &why) == 0) {
			/* Whatever decodes must be internally consistent. */
			size_t total = 0;
			for (size_t i = 0; i < out.n_entries; i++)
				total += out.entries[i].len;
			assert_true(total <= len);
			wire_msg_free(&out);
		} else {
			assert_non_null(why);
		}
		free(p);
	}
	free(good);
	free_built(&m);
}

static void test_encode_limits(void **state)
{
	(void)state;
	/* An entry too big for a frame is refused at encode time. */
	raft_msg m;
	fill_msg(&m, RAFT_MSG_APPEND, 0);
	raft_entry e = { .term = 1, .index = 1, .len = WIRE_MAX_FRAME, .data = NULL };
	m.entries = &e;
	m.n_entries = 1;
	uint8_t *f = NULL;
	size_t len = 0;
	assert_int_equal(wire_encode(&m, &f, &len), -1);
	assert_null(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_all_types),
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_counts_and_lengths),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_garbage_fuzz),
		cmocka_unit_test(test_encode_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
