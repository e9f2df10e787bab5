/*
 * wire_snapshot.c — CHUNK and ACK frames of the snapshot transfer (see
 * wire_snapshot.h and WIRE.md). Same framing and checksum as every frame.
 */
#include "wire_snapshot.h"

#include <stdlib.h>
#include <string.h>

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* What both sides refuse: a chunk that lies about its place in the stream. */
static const char *chunk_invalid(const wire_snap_chunk *c)
{
	if (c->index == 0 || c->snap_term == 0)
		return "snapshot chunk for index or term 0";
	if (c->len > WIRE_SNAP_MAX_CHUNK)
		return "snapshot chunk too large";
	if (c->offset > c->total || c->len > c->total - c->offset)
		return "snapshot chunk past the end of the stream";
	if (c->last != (c->offset + c->len == c->total))
		return "snapshot chunk last flag does not match offset and total";
	if (c->len == 0 && !c->last)
		return "empty snapshot chunk";
	return NULL;
}

int wire_encode_snap_chunk(const wire_snap_chunk *c, uint8_t **frame, size_t *len)
{
	if (chunk_invalid(c) != NULL || (c->len > 0 && c->data == NULL))
		return -1;
	size_t body = WIRE_SNAP_CHUNK_FIXED + c->len;
	uint8_t *f = malloc(10 + body);
	if (f == NULL)
		return -1;
	uint8_t *p = f + 10;
	put32(p, c->from);
	put32(p + 4, c->to);
	put64(p + 8, c->term);
	put64(p + 16, c->index);
	put64(p + 24, c->snap_term);
	put64(p + 32, c->total);
	put64(p + 40, c->offset);
	p[48] = c->last ? 1 : 0;
	put32(p + 49, c->stream_crc);
	put32(p + 53, c->len);
	put32(p + 57, 0); /* reserved */
	if (c->len > 0)
		memcpy(p + WIRE_SNAP_CHUNK_FIXED, c->data, c->len);
	wire_put_header(f, body, WIRE_MSG_SNAP_CHUNK);
	*frame = f;
	*len = 10 + body;
	return 0;
}

int wire_decode_snap_chunk(const uint8_t *frame, size_t len, wire_snap_chunk *c,
			   const char **why)
{
	static const char *unused;
	if (why == NULL)
		why = &unused;
	memset(c, 0, sizeof *c);
	size_t blen;
	const uint8_t *p = wire_check_frame(frame, len, &blen, why);
	if (p == NULL)
		return -1;
	if (frame[5] != WIRE_MSG_SNAP_CHUNK) {
		*why = "expected a snapshot chunk";
		return -1;
	}
	if (blen < WIRE_SNAP_CHUNK_FIXED) {
		*why = "snapshot chunk truncated";
		return -1;
	}
	c->from = get32(p);
	c->to = get32(p + 4);
	c->term = get64(p + 8);
	c->index = get64(p + 16);
	c->snap_term = get64(p + 24);
	c->total = get64(p + 32);
	c->offset = get64(p + 40);
	if (p[48] > 1 || get32(p + 57) != 0) {
		*why = "bad snapshot chunk flags";
		return -1;
	}
	c->last = p[48] == 1;
	c->stream_crc = get32(p + 49);
	c->len = get32(p + 53);
	if ((size_t)c->len != blen - WIRE_SNAP_CHUNK_FIXED) {
		*why = "snapshot chunk length does not match the frame";
		return -1;
	}
	c->data = p + WIRE_SNAP_CHUNK_FIXED;
	const char *bad = chunk_invalid(c);
	if (bad != NULL) {
		*why = bad;
		return -1;
	}
	return 0;
}

void wire_encode_snap_ack(const wire_snap_ack *a, uint8_t out[WIRE_SNAP_ACK_LEN])
{
	uint8_t *p = out + 10;
	put32(p, a->from);
	put32(p + 4, a->to);
	put64(p + 8, a->term);
	put64(p + 16, a->index);
	put64(p + 24, a->snap_term);
	put64(p + 32, a->offset);
	p[40] = a->status;
	wire_put_header(out, WIRE_SNAP_ACK_LEN - 10, WIRE_MSG_SNAP_ACK);
}

int wire_decode_snap_ack(const uint8_t *frame, size_t len, wire_snap_ack *a, const char **why)
{
	static const char *unused;
	if (why == NULL)
		why = &unused;
	memset(a, 0, sizeof *a);
	size_t blen;
	const uint8_t *p = wire_check_frame(frame, len, &blen, why);
	if (p == NULL)
		return -1;
	if (frame[5] != WIRE_MSG_SNAP_ACK || blen != WIRE_SNAP_ACK_LEN - 10) {
		*why = "expected a snapshot ack";
		return -1;
	}
	a->from = get32(p);
	a->to = get32(p + 4);
	a->term = get64(p + 8);
	a->index = get64(p + 16);
	a->snap_term = get64(p + 24);
	a->offset = get64(p + 32);
	a->status = p[40];
	if (a->status > WIRE_SNAP_RESTART) {
		*why = "bad snapshot ack status";
		return -1;
	}
	return 0;
}
