/*
 * kv_snapshot.c — encoding the state machine to a stream and restoring it
 * from one (see kv_snapshot.h; layout in node/snapshot/FORMAT.md).
 *
 * Stream: a 64-byte header with its own checksum, then records
 * (type u8, 3 reserved bytes, payload length u32, payload): one CONFIG,
 * the DEDUP windows, one KV record per key, and an END record whose last
 * 4 bytes are the CRC-32C of every byte before them.
 */
#include "kv_snapshot.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/crc32c.h"
#include "../common/le.h"

#define SNAP_MAGIC "RKVSNAP\n"
#define REC_HDR 8u
#define REC_CONFIG 1u
#define REC_DEDUP 2u
#define REC_KV 3u
#define REC_END 4u
#define DEDUP_PAYLOAD (4u + 8u + 8u + 8u + KV_DEDUP_WORDS * 8u)
#define END_PAYLOAD 12u /* record count u64, then the stream CRC u32 */
/* A flipped length must not make the reader wait for (or allocate) absurd
 * amounts: no legitimate record is larger (keys and values are u32-sized
 * and far smaller in practice). */
#define MAX_RECORD (1u << 30)

static void errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool meta_valid(const kv_snap_meta *m)
{
	return m->n_voters >= 1 && m->n_voters <= KV_SNAP_MAX_VOTERS &&
	       m->n_outgoing <= KV_SNAP_MAX_VOTERS && m->conf_len <= KV_SNAP_CONF_MAX;
}

/* ------------------------------------------------------------ writing */

typedef struct writer {
	kv_snap_sink_fn sink;
	void *ctx;
	uint8_t *buf;
	size_t len;
	uint32_t crc;
	uint64_t total;
	uint64_t records;
	bool failed;
} writer;

static int w_flush(writer *w)
{
	if (w->len == 0 || w->failed)
		return w->failed ? -1 : 0;
	if (w->sink(w->ctx, w->buf, w->len) != 0) {
		w->failed = true;
		return -1;
	}
	w->len = 0;
	return 0;
}

/* Copies bytes into the chunk buffer, handing out full chunks. */
static int w_put(writer *w, const uint8_t *p, size_t n)
{
	w->crc = crc32c(w->crc, p, n);
	w->total += n;
	while (n > 0) {
		size_t room = KV_SNAP_CHUNK - w->len;
		size_t k = n < room ? n : room;
		memcpy(w->buf + w->len, p, k);
		w->len += k;
		p += k;
		n -= k;
		if (w->len == KV_SNAP_CHUNK && w_flush(w) != 0)
			return -1;
	}
	return 0;
}

static int w_rec_hdr(writer *w, uint8_t type, uint32_t len)
{
	uint8_t h[REC_HDR] = {type, 0, 0, 0};
	le_put32(h + 4, len);
	w->records++;
	return w_put(w, h, sizeof h);
}

static int w_config(writer *w, const kv_snap_meta *meta)
{
	uint8_t p[12 + 8 * KV_SNAP_MAX_VOTERS];
	size_t n = 0;
	le_put32(p + n, meta->n_voters);
	n += 4;
	for (uint32_t i = 0; i < meta->n_voters; i++, n += 4)
		le_put32(p + n, meta->voters[i]);
	le_put32(p + n, meta->n_outgoing);
	n += 4;
	for (uint32_t i = 0; i < meta->n_outgoing; i++, n += 4)
		le_put32(p + n, meta->outgoing[i]);
	/* The core's configuration record, when there is one (an older
	 * reader's record ends before it: its length says which). */
	if (meta->conf_len > 0) {
		le_put32(p + n, meta->conf_len);
		n += 4;
	}
	if (w_rec_hdr(w, REC_CONFIG, (uint32_t)(n + meta->conf_len)) != 0 || w_put(w, p, n) != 0)
		return -1;
	return meta->conf_len > 0 ? w_put(w, meta->conf, meta->conf_len) : 0;
}

static int w_dedup(writer *w, const kv_dedup *d)
{
	for (size_t i = 0; i < kv_dedup_window_count(d); i++) {
		kv_dedup_window_state s;
		kv_dedup_window_get(d, i, &s);
		uint8_t h[28];
		le_put32(h, s.origin);
		le_put64(h + 4, s.nonce);
		le_put64(h + 12, s.high);
		le_put64(h + 20, s.last_use);
		if (w_rec_hdr(w, REC_DEDUP, DEDUP_PAYLOAD) != 0 || w_put(w, h, sizeof h) != 0)
			return -1;
		for (size_t k = 0; k < KV_DEDUP_WORDS; k++) {
			uint8_t b[8];
			le_put64(b, s.bits[k]);
			if (w_put(w, b, 8) != 0)
				return -1;
		}
	}
	return 0;
}

static int w_key(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	writer *w = ctx;
	if (klen > MAX_RECORD || vlen > MAX_RECORD - 4 - klen)
		return -2; /* too large for the format */
	uint8_t kl[4];
	le_put32(kl, (uint32_t)klen);
	if (w_rec_hdr(w, REC_KV, (uint32_t)(4 + klen + vlen)) != 0 || w_put(w, kl, 4) != 0 ||
	    w_put(w, key, klen) != 0 || w_put(w, val, vlen) != 0)
		return -1;
	return 0;
}

int kv_snapshot_write(const kv_machine *m, const kv_snap_meta *meta, kv_snap_sink_fn sink,
		      void *ctx, uint64_t *bytes_out, char *err, size_t errlen)
{
	if (!meta_valid(meta)) {
		errf(err, errlen, "snapshot: bad configuration (%" PRIu32 " voters)", meta->n_voters);
		return -1;
	}
	writer w = {.sink = sink, .ctx = ctx};
	w.buf = malloc(KV_SNAP_CHUNK);
	if (w.buf == NULL) {
		errf(err, errlen, "snapshot: out of memory");
		return -1;
	}
	uint8_t h[KV_SNAP_HEADER_BYTES] = {0};
	memcpy(h, SNAP_MAGIC, 8);
	le_put32(h + 8, KV_SNAP_VERSION);
	le_put32(h + 12, KV_SNAP_HEADER_BYTES);
	le_put64(h + 16, meta->index);
	le_put64(h + 24, meta->term);
	le_put64(h + 32, kv_store_count(m->store));
	le_put32(h + 40, (uint32_t)kv_dedup_window_count(m->dedup));
	le_put64(h + 44, kv_dedup_stamp(m->dedup));
	le_put32(h + 60, crc32c(0, h, 60));
	int rc = w_put(&w, h, sizeof h);
	if (rc == 0)
		rc = w_config(&w, meta);
	if (rc == 0)
		rc = w_dedup(&w, m->dedup);
	if (rc == 0)
		rc = kv_store_foreach(m->store, w_key, &w);
	if (rc == -2) {
		errf(err, errlen, "snapshot: a key or value exceeds %u bytes", MAX_RECORD);
		free(w.buf);
		return -1;
	}
	if (rc == 0) {
		uint8_t e[8];
		le_put64(e, w.records + 1);
		rc = w_rec_hdr(&w, REC_END, END_PAYLOAD);
		if (rc == 0)
			rc = w_put(&w, e, 8);
		if (rc == 0) {
			uint8_t c[4];
			le_put32(c, w.crc);
			rc = w_put(&w, c, 4);
		}
	}
	if (rc == 0)
		rc = w_flush(&w);
	free(w.buf);
	if (rc != 0) {
		errf(err, errlen, "snapshot: the output refused a chunk at byte %" PRIu64, w.total);
		return -1;
	}
	if (bytes_out != NULL)
		*bytes_out = w.total;
	return 0;
}

/* ------------------------------------------------------------ reading */

enum rstate { R_HEADER, R_REC_HDR, R_PAYLOAD, R_DONE, R_FAILED };

struct kv_snap_reader {
	enum rstate state;
	uint8_t *acc; /* the unit being assembled */
	size_t have, want, cap;
	uint8_t rec_type;
	uint64_t offset;    /* bytes consumed */
	uint64_t unit_off;  /* where the current unit started */
	uint32_t crc;       /* of every byte of the finished units */
	bool have_meta;
	kv_snap_meta meta;
	uint64_t want_keys, keys;
	uint32_t want_windows, windows;
	uint64_t dedup_stamp;
	uint64_t records;
	kv_machine m; /* built aside; handed out by finish */
	bool m_live;
	char err[160];
};

kv_snap_reader *kv_snap_reader_new(void)
{
	kv_snap_reader *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	if (kv_machine_init(&r->m) != 0) {
		free(r);
		return NULL;
	}
	r->m_live = true;
	r->want = KV_SNAP_HEADER_BYTES;
	return r;
}

void kv_snap_reader_free(kv_snap_reader *r)
{
	if (r == NULL)
		return;
	if (r->m_live)
		kv_machine_destroy(&r->m);
	free(r->acc);
	free(r);
}

int kv_snap_reader_meta(const kv_snap_reader *r, kv_snap_meta *meta)
{
	if (!r->have_meta)
		return 0;
	*meta = r->meta;
	return 1;
}

uint64_t kv_snap_reader_offset(const kv_snap_reader *r)
{
	return r->offset;
}

static int fail(kv_snap_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(kv_snap_reader *r, const char *fmt, ...)
{
	char what[120];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(r->err, sizeof r->err, "snapshot: %s at byte %" PRIu64, what, r->unit_off);
	r->state = R_FAILED;
	return -1;
}

static int take_header(kv_snap_reader *r)
{
	const uint8_t *h = r->acc;
	if (memcmp(h, SNAP_MAGIC, 8) != 0)
		return fail(r, "not a raftkv snapshot (bad magic)");
	if (crc32c(0, h, 60) != le_get32(h + 60))
		return fail(r, "header checksum mismatch");
	if (le_get32(h + 8) != KV_SNAP_VERSION)
		return fail(r, "unknown format version %" PRIu32, le_get32(h + 8));
	if (le_get32(h + 12) != KV_SNAP_HEADER_BYTES || le_get64(h + 52) != 0)
		return fail(r, "bad header size or reserved bytes");
	r->meta.index = le_get64(h + 16);
	r->meta.term = le_get64(h + 24);
	r->want_keys = le_get64(h + 32);
	r->want_windows = le_get32(h + 40);
	r->dedup_stamp = le_get64(h + 44);
	if (r->want_windows > KV_DEDUP_MAX_ORIGINS)
		return fail(r, "%" PRIu32 " dedup windows (at most %u)", r->want_windows,
			    KV_DEDUP_MAX_ORIGINS);
	if ((r->meta.index == 0) != (r->meta.term == 0))
		return fail(r, "index and term must both be zero or both non-zero");
	kv_dedup_set_stamp(r->m.dedup, r->dedup_stamp);
	return 0;
}

static int take_config(kv_snap_reader *r, const uint8_t *p, uint32_t len)
{
	if (r->records != 0)
		return fail(r, "configuration record out of place");
	if (len < 8)
		return fail(r, "configuration record too short");
	uint32_t nv = le_get32(p);
	if (nv < 1 || nv > KV_SNAP_MAX_VOTERS || len < 8 + 4 * nv)
		return fail(r, "bad voter count %" PRIu32, nv);
	uint32_t no = le_get32(p + 4 + 4 * nv);
	if (no > KV_SNAP_MAX_VOTERS || len < 8 + 4 * nv + 4 * no)
		return fail(r, "bad configuration record size");
	uint32_t base = 8 + 4 * nv + 4 * no, cl = 0;
	if (len != base) {
		if (len < base + 4)
			return fail(r, "bad configuration record size");
		cl = le_get32(p + base);
		if (cl == 0 || cl > KV_SNAP_CONF_MAX || len != base + 4 + cl)
			return fail(r, "bad configuration record size");
		memcpy(r->meta.conf, p + base + 4, cl);
	}
	r->meta.conf_len = cl;
	r->meta.n_voters = nv;
	for (uint32_t i = 0; i < nv; i++)
		r->meta.voters[i] = le_get32(p + 4 + 4 * i);
	r->meta.n_outgoing = no;
	for (uint32_t i = 0; i < no; i++)
		r->meta.outgoing[i] = le_get32(p + 8 + 4 * nv + 4 * i);
	r->have_meta = true;
	return 0;
}

static int take_dedup(kv_snap_reader *r, const uint8_t *p, uint32_t len)
{
	if (r->records == 0 || r->keys > 0 || r->windows >= r->want_windows)
		return fail(r, "dedup record out of place");
	if (len != DEDUP_PAYLOAD)
		return fail(r, "bad dedup record size");
	uint64_t *bits = malloc(KV_DEDUP_WORDS * sizeof *bits);
	if (bits == NULL)
		return fail(r, "out of memory");
	for (size_t k = 0; k < KV_DEDUP_WORDS; k++)
		bits[k] = le_get64(p + 28 + 8 * k);
	kv_dedup_window_state s = {
		.origin = le_get32(p),
		.nonce = le_get64(p + 4),
		.high = le_get64(p + 12),
		.last_use = le_get64(p + 20),
		.bits = bits,
	};
	int rc = kv_dedup_window_add(r->m.dedup, &s);
	free(bits);
	if (rc != 0)
		return fail(r, "dedup window of origin %" PRIu32 " is inconsistent", s.origin);
	r->windows++;
	return 0;
}

static int take_kv(kv_snap_reader *r, const uint8_t *p, uint32_t len)
{
	if (r->records == 0 || r->windows != r->want_windows || r->keys >= r->want_keys)
		return fail(r, "key record out of place");
	if (len < 4 || le_get32(p) > len - 4)
		return fail(r, "bad key record size");
	uint32_t klen = le_get32(p);
	const uint8_t *key = p + 4, *val = p + 4 + klen;
	size_t vlen = len - 4 - klen;
	const uint8_t *old;
	size_t oldlen;
	if (kv_store_get(r->m.store, key, klen, &old, &oldlen))
		return fail(r, "key stored twice");
	if (kv_store_put(r->m.store, key, klen, val, vlen) != 0)
		return fail(r, "out of memory");
	r->keys++;
	return 0;
}

static int take_end(kv_snap_reader *r, const uint8_t *p, uint32_t len)
{
	if (len != END_PAYLOAD)
		return fail(r, "bad end record size");
	uint32_t crc = crc32c(r->crc, p, 8);
	if (crc != le_get32(p + 8))
		return fail(r, "checksum mismatch (the snapshot is damaged)");
	if (r->records == 0 || r->keys != r->want_keys || r->windows != r->want_windows ||
	    le_get64(p) != r->records + 1)
		return fail(r, "record counts do not match the header");
	r->records++;
	r->state = R_DONE;
	return 0;
}

/* A whole unit (header, record header or payload) is in acc. */
static int take_unit(kv_snap_reader *r)
{
	switch (r->state) {
	case R_HEADER:
		if (take_header(r) != 0)
			return -1;
		r->state = R_REC_HDR;
		r->want = REC_HDR;
		break;
	case R_REC_HDR: {
		uint8_t t = r->acc[0];
		uint32_t len = le_get32(r->acc + 4);
		if (t < REC_CONFIG || t > REC_END || r->acc[1] || r->acc[2] || r->acc[3])
			return fail(r, "unknown record type %u", t);
		if (len > MAX_RECORD)
			return fail(r, "record length %" PRIu32 " too large", len);
		r->rec_type = t;
		r->state = R_PAYLOAD;
		r->want = len;
		break;
	}
	case R_PAYLOAD: {
		int rc;
		uint32_t len = (uint32_t)r->want;
		switch (r->rec_type) {
		case REC_CONFIG: rc = take_config(r, r->acc, len); break;
		case REC_DEDUP: rc = take_dedup(r, r->acc, len); break;
		case REC_KV: rc = take_kv(r, r->acc, len); break;
		default: return take_end(r, r->acc, len);
		}
		if (rc != 0)
			return -1;
		r->records++;
		r->state = R_REC_HDR;
		r->want = REC_HDR;
		break;
	}
	default:
		return -1;
	}
	return 0;
}

int kv_snap_reader_feed(kv_snap_reader *r, const uint8_t *buf, size_t len, char *err,
			size_t errlen)
{
	while (len > 0 || (r->state != R_FAILED && r->state != R_DONE && r->want == 0)) {
		if (r->state == R_FAILED)
			break;
		if (r->state == R_DONE) {
			fail(r, "%zu bytes after the end record", len);
			break;
		}
		size_t k = r->want - r->have;
		if (k > len)
			k = len;
		if (r->have + k > r->cap) {
			/* Grow with what actually arrives, never to a length the
			 * input merely claims. */
			size_t nc = r->cap ? r->cap : 4096;
			while (nc < r->have + k)
				nc *= 2;
			if (nc > r->want)
				nc = r->want;
			uint8_t *n = realloc(r->acc, nc);
			if (n == NULL) {
				fail(r, "out of memory");
				break;
			}
			r->acc = n;
			r->cap = nc;
		}
		if (k > 0)
			memcpy(r->acc + r->have, buf, k);
		r->have += k;
		r->offset += k;
		buf += k;
		len -= k;
		if (r->have < r->want)
			continue;
		bool end_payload = r->state == R_PAYLOAD && r->rec_type == REC_END;
		if (take_unit(r) != 0)
			break;
		if (!end_payload)
			r->crc = crc32c(r->crc, r->acc, r->have);
		r->have = 0;
		r->unit_off = r->offset;
	}
	if (r->state == R_FAILED) {
		errf(err, errlen, "%s", r->err);
		return -1;
	}
	return 0;
}

int kv_snap_reader_finish(kv_snap_reader *r, kv_machine *out, kv_snap_meta *meta, char *err,
			  size_t errlen)
{
	if (r->state == R_FAILED) {
		errf(err, errlen, "%s", r->err);
		return -1;
	}
	if (r->state != R_DONE || !r->m_live) {
		errf(err, errlen, "snapshot: truncated after %" PRIu64 " bytes", r->offset);
		return -1;
	}
	*out = r->m;
	*meta = r->meta;
	r->m_live = false;
	return 0;
}

int kv_snapshot_restore_buf(const uint8_t *buf, size_t len, kv_machine *out,
			    kv_snap_meta *meta, char *err, size_t errlen)
{
	kv_snap_reader *r = kv_snap_reader_new();
	if (r == NULL) {
		errf(err, errlen, "snapshot: out of memory");
		return -1;
	}
	int rc = kv_snap_reader_feed(r, buf, len, err, errlen);
	if (rc == 0)
		rc = kv_snap_reader_finish(r, out, meta, err, errlen);
	kv_snap_reader_free(r);
	return rc;
}
