/*
 * wal_record.c — framing of one record: [len u32][crc u32][type u8][0 0 0][payload].
 *
 * The checksum covers the length, the type byte, the reserved bytes and the
 * payload, i.e. everything but itself, so a flipped bit anywhere in a record
 * is caught. Every length is checked against the bytes actually present
 * before it is used: a bad length can neither overread nor allocate.
 */
#include <string.h>

#include "../common/crc32c.h"
#include "wal_int.h"

static uint32_t record_crc(const uint8_t *hdr, uint32_t payload_len)
{
	uint32_t c = crc32c(0, hdr, 4);                /* the length */
	return crc32c(c, hdr + 8, 4 + (size_t)payload_len); /* type, reserved, payload */
}

void wal_record_seal(uint8_t *hdr, uint8_t type, uint32_t payload_len)
{
	wal_put32(hdr, payload_len);
	hdr[8] = type;
	hdr[9] = hdr[10] = hdr[11] = 0;
	wal_put32(hdr + 4, record_crc(hdr, payload_len));
}

void wal_record_hard_state(uint8_t *out, const raft_hard_state *hs)
{
	uint8_t *p = out + WAL_REC_HDR;
	wal_put64(p, hs->term);
	wal_put32(p + 8, hs->vote);
	wal_put64(p + 12, hs->commit);
	wal_record_seal(out, WAL_REC_HARD_STATE, WAL_HS_PAYLOAD);
}

void wal_record_segment_start(uint8_t *out, const raft_hard_state *hs, uint64_t last_index,
			      uint64_t last_term)
{
	uint8_t *p = out + WAL_REC_HDR;
	wal_put64(p, hs->term);
	wal_put32(p + 8, hs->vote);
	wal_put64(p + 12, hs->commit);
	wal_put64(p + 20, last_index);
	wal_put64(p + 28, last_term);
	wal_record_seal(out, WAL_REC_SEGMENT_START, WAL_START_PAYLOAD);
}

/* The record at off, read as if its length field held len. */
static int check_with_len(const uint8_t *buf, size_t n, size_t off, uint32_t len, wal_rec *rec)
{
	if (off > n || n - off < WAL_REC_HDR)
		return 0;
	const uint8_t *h = buf + off;
	/* Cheap structural tests first: they reject zero fill and most garbage
	 * without touching the payload, which keeps the forward scan of
	 * wal_record_find_valid fast. */
	if (h[8] < WAL_REC_ENTRIES || h[8] > WAL_REC_RESET)
		return 0;
	if (h[9] != 0 || h[10] != 0 || h[11] != 0)
		return 0;
	if (len > WAL_MAX_PAYLOAD || len > n - off - WAL_REC_HDR)
		return 0;
	uint8_t lenb[4];
	wal_put32(lenb, len);
	uint32_t c = crc32c(0, lenb, 4);
	if (crc32c(c, h + 8, 4 + (size_t)len) != wal_get32(h + 4))
		return 0;
	rec->type = h[8];
	rec->payload = h + WAL_REC_HDR;
	rec->len = len;
	rec->size = WAL_REC_HDR + (size_t)len;
	return 1;
}

int wal_record_check(const uint8_t *buf, size_t n, size_t off, wal_rec *rec)
{
	if (off > n || n - off < WAL_REC_HDR)
		return 0;
	return check_with_len(buf, n, off, wal_get32(buf + off), rec);
}

int wal_record_header_plausible(const uint8_t *buf, size_t n, size_t off)
{
	if (off > n || n - off < WAL_REC_HDR)
		return 0;
	const uint8_t *h = buf + off;
	return h[8] >= WAL_REC_ENTRIES && h[8] <= WAL_REC_SEGMENT_START && h[9] == 0 &&
	       h[10] == 0 && h[11] == 0 && wal_get32(h) <= WAL_MAX_PAYLOAD;
}

size_t wal_record_length_flip(const uint8_t *buf, size_t n, size_t off)
{
	if (off > n || n - off < WAL_REC_HDR)
		return 0;
	uint32_t len = wal_get32(buf + off);
	wal_rec rec;
	for (int b = 0; b < 32; b++) {
		uint32_t l = len ^ (UINT32_C(1) << b);
		if (l <= n - off - WAL_REC_HDR && check_with_len(buf, n, off, l, &rec) &&
		    off + rec.size < n)
			return off + rec.size;
	}
	return 0;
}

size_t wal_record_find_valid(const uint8_t *buf, size_t n, size_t from)
{
	wal_rec rec;
	for (size_t p = from; p + WAL_REC_HDR <= n; p++)
		if (wal_record_check(buf, n, p, &rec))
			return p;
	return n;
}
