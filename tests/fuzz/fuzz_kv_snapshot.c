/*
 * fuzz_kv_snapshot.c — the state-machine snapshot reader (node/kv/
 * kv_snapshot.c) on hostile streams, fed in chunks whose sizes come from the
 * input. A stream that is accepted must write back to one that restores the
 * same keys, values and configuration.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../node/kv/kv_snapshot.h"
#include "fuzz.h"

typedef struct buf {
	uint8_t *p;
	size_t len, cap;
} buf;

static int sink(void *ctx, const uint8_t *p, size_t n)
{
	buf *b = ctx;
	if (b->len + n > b->cap) {
		size_t nc = (b->len + n) * 2;
		uint8_t *q = realloc(b->p, nc);
		if (q == NULL)
			return -1;
		b->p = q;
		b->cap = nc;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static int in_other(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	const uint8_t *w;
	size_t wl;
	return !kv_store_get(ctx, k, kl, &w, &wl) || wl != vl || (vl && memcmp(w, v, vl) != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t step = 1 + data[0] % 97; /* chunk size chosen by the input */
	data++;
	size--;
	kv_snap_reader *r = kv_snap_reader_new();
	if (r == NULL)
		return 0;
	char err[200];
	int rc = 0;
	for (size_t off = 0; off < size && rc == 0; off += step)
		rc = kv_snap_reader_feed(r, data + off, size - off < step ? size - off : step, err,
					 sizeof err);
	kv_machine m;
	kv_snap_meta meta;
	if (rc == 0 && kv_snap_reader_finish(r, &m, &meta, err, sizeof err) == 0) {
		buf b = {0};
		FUZZ_CHECK(kv_snapshot_write(&m, &meta, sink, &b, NULL, err, sizeof err) == 0);
		kv_machine m2;
		kv_snap_meta meta2;
		FUZZ_CHECK(kv_snapshot_restore_buf(b.p, b.len, &m2, &meta2, err, sizeof err) == 0);
		FUZZ_CHECK(meta2.index == meta.index && meta2.term == meta.term &&
			   meta2.n_voters == meta.n_voters &&
			   kv_store_count(m2.store) == kv_store_count(m.store) &&
			   kv_store_foreach(m.store, in_other, m2.store) == 0);
		kv_machine_destroy(&m2);
		kv_machine_destroy(&m);
		free(b.p);
	}
	kv_snap_reader_free(r);
	return 0;
}
