/*
 * wal_batch.c — records encoded in memory, ready for one write.
 *
 * A batch is a single growing byte buffer holding finished records, so
 * wal_write hands it to the kernel in one piece and encoding costs little
 * more than a memcpy of the entry data (the buffer grows geometrically and
 * is kept across uses). Each add is all-or-nothing: on failure the batch is
 * left exactly as it was.
 */
#include <stdlib.h>
#include <string.h>

#include "wal_int.h"

#define BATCH_MIN_CAP ((size_t)64 << 10)

wal_batch *wal_batch_new(void)
{
	return calloc(1, sizeof(wal_batch));
}

void wal_batch_free(wal_batch *b)
{
	if (!b)
		return;
	free(b->buf);
	free(b);
}

bool wal_batch_empty(const wal_batch *b)
{
	return b->len == 0;
}

/* Makes room for extra more bytes; -1 on overflow or ENOMEM. */
static int batch_reserve(wal_batch *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len)
		return -1;
	size_t need = b->len + extra;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : BATCH_MIN_CAP;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	uint8_t *nb = realloc(b->buf, cap);
	if (!nb)
		return -1;
	b->buf = nb;
	b->cap = cap;
	return 0;
}

static bool entries_valid(const raft_entry *ents, size_t n)
{
	if (ents[0].index == 0)
		return false; /* index 0 is "before the log"; never stored */
	for (size_t i = 0; i < n; i++) {
		if (ents[i].index != ents[0].index + i)
			return false; /* one record = one contiguous run */
		if (ents[i].len > 0 && !ents[i].data)
			return false;
		if ((size_t)ents[i].len > WAL_MAX_PAYLOAD - WAL_ENTRIES_FIXED - WAL_ENTRY_FIXED)
			return false; /* could never fit one record */
	}
	return true;
}

int wal_batch_add_entries(wal_batch *b, const raft_entry *ents, size_t n)
{
	if (!b || (n > 0 && !ents))
		return -1;
	if (n == 0)
		return 0;
	if (!entries_valid(ents, n))
		return -1;
	/* A gap would be written happily and then refused by replay, leaving a
	 * node that cannot restart: refuse it here instead. */
	if ((b->has_entries || b->has_reset) && ents[0].index > b->last_index + 1)
		return -1;
	size_t start_len = b->len;
	size_t i = 0;
	while (i < n) {
		/* As many entries as fit under WAL_MAX_PAYLOAD go in one record;
		 * the next record starts at last + 1 and so truncates nothing. */
		size_t payload = WAL_ENTRIES_FIXED;
		size_t j = i;
		while (j < n && payload + WAL_ENTRY_FIXED + ents[j].len <= WAL_MAX_PAYLOAD)
			payload += WAL_ENTRY_FIXED + ents[j++].len;
		if (batch_reserve(b, WAL_REC_HDR + payload) != 0) {
			b->len = start_len;
			return -1;
		}
		uint8_t *rec = b->buf + b->len;
		uint8_t *q = rec + WAL_REC_HDR;
		wal_put64(q, ents[i].index);
		wal_put32(q + 8, (uint32_t)(j - i));
		q += WAL_ENTRIES_FIXED;
		for (size_t k = i; k < j; k++) {
			wal_put64(q, ents[k].term);
			q[8] = ents[k].type;
			wal_put32(q + 9, ents[k].len);
			q += WAL_ENTRY_FIXED;
			if (ents[k].len) {
				memcpy(q, ents[k].data, ents[k].len);
				q += ents[k].len;
			}
		}
		wal_record_seal(rec, WAL_REC_ENTRIES, (uint32_t)payload);
		b->len += WAL_REC_HDR + payload;
		i = j;
	}
	/* A record starting at i replaces everything from i on, so after it
	 * the log ends exactly at its last entry. */
	if (!b->has_entries && !b->has_reset)
		b->first_index = ents[0].index;
	b->has_entries = true;
	b->last_index = ents[n - 1].index;
	b->last_term = ents[n - 1].term;
	return 0;
}

int wal_batch_add_hard_state(wal_batch *b, const raft_hard_state *hs)
{
	if (!b || !hs)
		return -1;
	if (batch_reserve(b, WAL_REC_HDR + WAL_HS_PAYLOAD) != 0)
		return -1;
	wal_record_hard_state(b->buf + b->len, hs);
	b->len += WAL_REC_HDR + WAL_HS_PAYLOAD;
	b->has_hs = true;
	b->hs = *hs;
	return 0;
}

/* Whether b's first entries precede any reset in it (so the log they
 * continue must reach first_index - 1). */
static bool checks_first(const wal_batch *b)
{
	return b->has_entries && (!b->has_reset || b->entries_first);
}

int wal_batch_append(wal_batch *dst, wal_batch *src)
{
	if (!dst || !src || dst == src)
		return -1;
	if ((dst->has_entries || dst->has_reset) && checks_first(src) &&
	    src->first_index > dst->last_index + 1)
		return -1; /* the merged batch would leave a gap */
	bool dst_empty = !dst->has_entries && !dst->has_reset;
	if (src->has_reset) {
		if (!dst->has_reset)
			dst->entries_first = dst->has_entries || (dst_empty && src->entries_first);
		dst->has_reset = true;
	}
	if (dst->len == 0) {
		/* Swap buffers instead of copying: the common case when the
		 * writer drains a queue into an empty batch. */
		uint8_t *tb = dst->buf;
		size_t tc = dst->cap;
		dst->buf = src->buf;
		dst->cap = src->cap;
		dst->len = src->len;
		src->buf = tb;
		src->cap = tc;
	} else if (src->len > 0) {
		if (batch_reserve(dst, src->len) != 0)
			return -1;
		memcpy(dst->buf + dst->len, src->buf, src->len);
		dst->len += src->len;
	}
	if (src->has_hs) {
		dst->has_hs = true;
		dst->hs = src->hs;
	}
	if (src->has_entries || src->has_reset) {
		if (dst_empty)
			dst->first_index = src->first_index;
		dst->has_entries = dst->has_entries || src->has_entries;
		dst->last_index = src->last_index;
		dst->last_term = src->last_term;
	}
	wal_batch_clear(src);
	return 0;
}

void wal_batch_clear(wal_batch *b)
{
	b->len = 0;
	b->has_hs = false;
	b->has_entries = false;
	b->has_reset = false;
	b->entries_first = false;
}

int wal_batch_add_reset(wal_batch *b, uint64_t index, uint64_t term)
{
	if (!b || (index == 0) != (term == 0))
		return -1;
	if (batch_reserve(b, WAL_REC_HDR + WAL_RESET_PAYLOAD) != 0)
		return -1;
	uint8_t *rec = b->buf + b->len;
	wal_put64(rec + WAL_REC_HDR, index);
	wal_put64(rec + WAL_REC_HDR + 8, term);
	wal_record_seal(rec, WAL_REC_RESET, WAL_RESET_PAYLOAD);
	b->len += WAL_REC_HDR + WAL_RESET_PAYLOAD;
	if (!b->has_reset)
		b->entries_first = b->has_entries;
	b->has_reset = true;
	b->last_index = index;
	b->last_term = term;
	return 0;
}

size_t wal_batch_bytes(const wal_batch *b)
{
	return b->len;
}
