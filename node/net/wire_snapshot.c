/*
 * wire_snapshot.c — CHUNK and ACK frames of the snapshot transfer (see
 * wire_snapshot.h and WIRE.md). Same framing and checksum as every frame.
 */
#include "wire_snapshot.h"

#include <stdlib.h>
#include <string.h>

#include "../common/le.h"

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
	uint8_t *f = malloc(WIRE_HDR_LEN + body);
	if (f == NULL)
		return -1;
	uint8_t *p = f + WIRE_HDR_LEN;
	le_put32(p, c->from);
	le_put32(p + 4, c->to);
	le_put64(p + 8, c->term);
	le_put64(p + 16, c->index);
	le_put64(p + 24, c->snap_term);
	le_put64(p + 32, c->total);
	le_put64(p + 40, c->offset);
	p[48] = c->last ? 1 : 0;
	le_put32(p + 49, c->stream_crc);
	le_put32(p + 53, c->len);
	le_put32(p + 57, 0); /* reserved */
	if (c->len > 0)
		memcpy(p + WIRE_SNAP_CHUNK_FIXED, c->data, c->len);
	wire_put_header(f, body, WIRE_MSG_SNAP_CHUNK);
	*frame = f;
	*len = WIRE_HDR_LEN + body;
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
	const uint8_t *p = wire_open_frame(frame, len, WIRE_MSG_SNAP_CHUNK, &blen, why, "expected a snapshot chunk");
	if (p == NULL)
		return -1;
	if (blen < WIRE_SNAP_CHUNK_FIXED) {
		*why = "snapshot chunk truncated";
		return -1;
	}
	c->from = le_get32(p);
	c->to = le_get32(p + 4);
	c->term = le_get64(p + 8);
	c->index = le_get64(p + 16);
	c->snap_term = le_get64(p + 24);
	c->total = le_get64(p + 32);
	c->offset = le_get64(p + 40);
	if (p[48] > 1 || le_get32(p + 57) != 0) {
		*why = "bad snapshot chunk flags";
		return -1;
	}
	c->last = p[48] == 1;
	c->stream_crc = le_get32(p + 49);
	c->len = le_get32(p + 53);
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
	uint8_t *p = out + WIRE_HDR_LEN;
	le_put32(p, a->from);
	le_put32(p + 4, a->to);
	le_put64(p + 8, a->term);
	le_put64(p + 16, a->index);
	le_put64(p + 24, a->snap_term);
	le_put64(p + 32, a->offset);
	p[40] = a->status;
	wire_put_header(out, WIRE_SNAP_ACK_LEN - WIRE_HDR_LEN, WIRE_MSG_SNAP_ACK);
}

int wire_decode_snap_ack(const uint8_t *frame, size_t len, wire_snap_ack *a, const char **why)
{
	static const char *unused;
	if (why == NULL)
		why = &unused;
	memset(a, 0, sizeof *a);
	size_t blen;
	const uint8_t *p = wire_open_frame(frame, len, WIRE_MSG_SNAP_ACK, &blen, why, "expected a snapshot ack");
	if (p == NULL)
		return -1;
	if (blen != WIRE_SNAP_ACK_LEN - WIRE_HDR_LEN) {
		*why = "expected a snapshot ack";
		return -1;
	}
	a->from = le_get32(p);
	a->to = le_get32(p + 4);
	a->term = le_get64(p + 8);
	a->index = le_get64(p + 16);
	a->snap_term = le_get64(p + 24);
	a->offset = le_get64(p + 32);
	a->status = p[40];
	if (a->status > WIRE_SNAP_RESTART) {
		*why = "bad snapshot ack status";
		return -1;
	}
	return 0;
}
