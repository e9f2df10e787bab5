/*
 * wire.c — raft_msg <-> peer frame (layout in WIRE.md).
 *
 * Decoding treats every byte as hostile: each read is preceded by a bounds
 * check against the frame length, counts are checked against the bytes that
 * remain before anything is allocated, and the checksum is verified before
 * the body is looked at.
 */
#include "wire.h"

#include <stdlib.h>
#include <string.h>

#include "../common/crc32c.h"
#include "../common/le.h"

#define HDR_LEN WIRE_HDR_LEN
#define FIXED_LEN 77      /* the raft_msg fields before the entries */
#define ENTRY_HDR_LEN 21  /* term u64 | index u64 | type u8 | len u32 */
#define HELLO_BODY_LEN (12 + WIRE_MAC_LEN) /* magic u32 | from u32 | to u32 | mac */
#define CHALLENGE_BODY_LEN (4 + WIRE_NONCE_LEN) /* magic u32 | nonce */
#define HELLO_MAGIC 0x3156524bu /* "KRV1" read little-endian: a recognisable constant */

/* A cursor that refuses to move past its end. */
typedef struct rd {
	const uint8_t *p;
	size_t left;
} rd;

static inline int rd_u8(rd *r, uint8_t *v)
{
	if (r->left < 1)
		return -1;
	*v = r->p[0];
	r->p++;
	r->left--;
	return 0;
}

static inline int rd_u32(rd *r, uint32_t *v)
{
	if (r->left < 4)
		return -1;
	*v = le_get32(r->p);
	r->p += 4;
	r->left -= 4;
	return 0;
}

static inline int rd_u64(rd *r, uint64_t *v)
{
	if (r->left < 8)
		return -1;
	*v = le_get64(r->p);
	r->p += 8;
	r->left -= 8;
	return 0;
}

static bool type_known(uint8_t t)
{
	return (t >= RAFT_MSG_PREVOTE && t <= RAFT_MSG_TIMEOUT_NOW) || t == WIRE_MSG_HELLO ||
	       t == WIRE_MSG_CHALLENGE || t == WIRE_MSG_SNAP_CHUNK || t == WIRE_MSG_SNAP_ACK;
}

/* ------------------------------------------------------------ encoding */

/* The checksum covers version and type as well as the body: a flipped type
 * byte would otherwise turn one valid message into another. */
static uint32_t frame_crc(const uint8_t *f, size_t body_len)
{
	return crc32c(crc32c(0, f + 4, 2), f + HDR_LEN, body_len);
}

void wire_put_header(uint8_t *f, size_t body_len, uint8_t type)
{
	le_put32(f, (uint32_t)(body_len + HDR_LEN - 4));
	f[4] = WIRE_VERSION;
	f[5] = type;
	le_put32(f + 6, frame_crc(f, body_len));
}

int wire_encode(const raft_msg *m, uint8_t **frame, size_t *len)
{
	size_t body = FIXED_LEN;
	if (m->n_entries > UINT32_MAX)
		return -1;
	for (size_t i = 0; i < m->n_entries; i++) {
		size_t add = ENTRY_HDR_LEN + (size_t)m->entries[i].len;
		body += add;
		if (body > WIRE_MAX_FRAME)
			return -1; /* the peer would refuse it anyway */
	}
	if (body + HDR_LEN > WIRE_MAX_FRAME)
		return -1;
	uint8_t *f = malloc(HDR_LEN + body);
	if (f == NULL)
		return -1;
	uint8_t *p = f + HDR_LEN;
	le_put32(p, m->from);
	le_put32(p + 4, m->to);
	le_put64(p + 8, m->term);
	le_put64(p + 16, m->log_term);
	le_put64(p + 24, m->index);
	le_put64(p + 32, m->commit);
	le_put64(p + 40, m->ctx);
	p[48] = m->reject ? 1 : 0;
	le_put64(p + 49, m->hint_index);
	le_put64(p + 57, m->hint_term);
	le_put32(p + 65, (uint32_t)m->n_entries);
	le_put64(p + 69, m->incarnation);
	p += FIXED_LEN;
	for (size_t i = 0; i < m->n_entries; i++) {
		const raft_entry *e = &m->entries[i];
		le_put64(p, e->term);
		le_put64(p + 8, e->index);
		p[16] = e->type;
		le_put32(p + 17, e->len);
		p += ENTRY_HDR_LEN;
		if (e->len > 0) {
			memcpy(p, e->data, e->len);
			p += e->len;
		}
	}
	wire_put_header(f, body, m->type);
	*frame = f;
	*len = HDR_LEN + body;
	return 0;
}

void wire_encode_hello(uint32_t from, uint32_t to, const uint8_t *mac, uint8_t out[WIRE_HELLO_LEN])
{
	le_put32(out + HDR_LEN, HELLO_MAGIC);
	le_put32(out + HDR_LEN + 4, from);
	le_put32(out + HDR_LEN + 8, to);
	if (mac != NULL)
		memcpy(out + HDR_LEN + 12, mac, WIRE_MAC_LEN);
	else
		memset(out + HDR_LEN + 12, 0, WIRE_MAC_LEN);
	wire_put_header(out, HELLO_BODY_LEN, WIRE_MSG_HELLO);
}

void wire_encode_challenge(const uint8_t nonce[WIRE_NONCE_LEN], uint8_t out[WIRE_CHALLENGE_LEN])
{
	le_put32(out + HDR_LEN, HELLO_MAGIC);
	memcpy(out + HDR_LEN + 4, nonce, WIRE_NONCE_LEN);
	wire_put_header(out, CHALLENGE_BODY_LEN, WIRE_MSG_CHALLENGE);
}

/* ------------------------------------------------------------ decoding */

long wire_frame_length(const uint8_t *buf, size_t avail)
{
	/* Wait for length, version and type so that garbage (an HTTP request,
	 * random bytes) is refused at once instead of waiting for a huge frame. */
	if (avail < 6)
		return 0;
	uint32_t rest = le_get32(buf);
	if (rest < HDR_LEN - 4 || rest > WIRE_MAX_FRAME - 4)
		return -1;
	if (buf[4] != WIRE_VERSION || !type_known(buf[5]))
		return -1;
	return (long)rest + 4;
}

/* Header checks shared by messages and hello: returns the body or NULL. */
const uint8_t *wire_check_frame(const uint8_t *f, size_t len, size_t *body_len,
				  const char **why)
{
	if (len < HDR_LEN) {
		*why = "frame shorter than its header";
		return NULL;
	}
	if ((size_t)le_get32(f) + 4 != len) {
		*why = "length prefix does not match frame";
		return NULL;
	}
	if (f[4] != WIRE_VERSION) {
		*why = "unknown wire version";
		return NULL;
	}
	if (!type_known(f[5])) {
		*why = "unknown message type";
		return NULL;
	}
	*body_len = len - HDR_LEN;
	if (frame_crc(f, *body_len) != le_get32(f + 6)) {
		*why = "checksum mismatch";
		return NULL;
	}
	return f + HDR_LEN;
}

const uint8_t *wire_open_frame(const uint8_t *f, size_t len, uint8_t type, size_t *body_len,
			       const char **why, const char *expected)
{
	static const char *unused;
	if (why == NULL)
		why = &unused;
	const uint8_t *body = wire_check_frame(f, len, body_len, why);
	if (body != NULL && f[5] != type) {
		*why = expected;
		return NULL;
	}
	return body;
}

int wire_decode(const uint8_t *frame, size_t len, raft_msg *m, const char **why)
{
	static const char *unused;
	if (why == NULL)
		why = &unused;
	memset(m, 0, sizeof *m);
	size_t blen;
	const uint8_t *body = wire_check_frame(frame, len, &blen, why);
	if (body == NULL)
		return -1;
	if (frame[5] == WIRE_MSG_HELLO || frame[5] == WIRE_MSG_CHALLENGE) {
		*why = "handshake frame where a message was expected";
		return -1;
	}
	if (frame[5] == WIRE_MSG_SNAP_CHUNK || frame[5] == WIRE_MSG_SNAP_ACK) {
		*why = "snapshot frame where a message was expected";
		return -1;
	}
	rd r = { body, blen };
	uint8_t reject;
	uint32_t n;
	if (rd_u32(&r, &m->from) || rd_u32(&r, &m->to) || rd_u64(&r, &m->term) ||
	    rd_u64(&r, &m->log_term) || rd_u64(&r, &m->index) || rd_u64(&r, &m->commit) ||
	    rd_u64(&r, &m->ctx) || rd_u8(&r, &reject) || rd_u64(&r, &m->hint_index) ||
	    rd_u64(&r, &m->hint_term) || rd_u32(&r, &n) || rd_u64(&r, &m->incarnation)) {
		*why = "message body truncated";
		return -1;
	}
	if (reject > 1) {
		*why = "bad reject flag";
		return -1;
	}
	m->type = frame[5];
	m->reject = reject == 1;
	/* Every entry takes at least its header: a count that cannot fit in
	 * what is left is refused before any allocation. */
	if (n > r.left / ENTRY_HDR_LEN) {
		*why = "entry count exceeds frame";
		return -1;
	}
	/* First pass: validate lengths and total the data. */
	rd scan = r;
	size_t data_total = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t t, idx;
		uint8_t ty;
		uint32_t elen;
		if (rd_u64(&scan, &t) || rd_u64(&scan, &idx) || rd_u8(&scan, &ty) ||
		    rd_u32(&scan, &elen) || elen > scan.left) {
			*why = "entry exceeds frame";
			return -1;
		}
		scan.p += elen;
		scan.left -= elen;
		data_total += elen;
	}
	if (scan.left != 0) {
		*why = "trailing bytes after entries";
		return -1;
	}
	if (n == 0)
		return 0;
	/* One block: the entry array, then every entry's data. */
	uint8_t *block = malloc((size_t)n * sizeof(raft_entry) + data_total);
	if (block == NULL) {
		*why = "out of memory";
		return -1;
	}
	raft_entry *es = (raft_entry *)block;
	uint8_t *data = block + (size_t)n * sizeof(raft_entry);
	for (uint32_t i = 0; i < n; i++) {
		raft_entry *e = &es[i];
		/* Cannot fail: the first pass checked the same reads. */
		(void)(rd_u64(&r, &e->term) || rd_u64(&r, &e->index) || rd_u8(&r, &e->type) ||
		       rd_u32(&r, &e->len));
		if (e->len > 0) {
			memcpy(data, r.p, e->len);
			e->data = data;
			data += e->len;
			r.p += e->len;
			r.left -= e->len;
		} else {
			e->data = NULL;
		}
	}
	m->entries = es;
	m->n_entries = n;
	return 0;
}

int wire_decode_hello(const uint8_t *frame, size_t len, uint32_t *from, uint32_t *to,
		      uint8_t *mac, const char **why)
{
	static const char *unused;
	if (why == NULL)
		why = &unused;
	size_t blen;
	const uint8_t *body = wire_open_frame(frame, len, WIRE_MSG_HELLO, &blen, why, "expected a hello frame");
	if (body == NULL)
		return -1;
	if (blen != HELLO_BODY_LEN || le_get32(body) != HELLO_MAGIC) {
		*why = "expected a hello frame";
		return -1;
	}
	*from = le_get32(body + 4);
	*to = le_get32(body + 8);
	if (mac != NULL)
		memcpy(mac, body + 12, WIRE_MAC_LEN);
	return 0;
}

int wire_decode_challenge(const uint8_t *frame, size_t len, uint8_t nonce[WIRE_NONCE_LEN],
			  const char **why)
{
	static const char *unused;
	if (why == NULL)
		why = &unused;
	size_t blen;
	const uint8_t *body =
		wire_open_frame(frame, len, WIRE_MSG_CHALLENGE, &blen, why, "expected a challenge frame");
	if (body == NULL)
		return -1;
	if (blen != CHALLENGE_BODY_LEN || le_get32(body) != HELLO_MAGIC) {
		*why = "expected a challenge frame";
		return -1;
	}
	memcpy(nonce, body + 4, WIRE_NONCE_LEN);
	return 0;
}

void wire_msg_free(raft_msg *m)
{
	free(m->entries);
	m->entries = NULL;
	m->n_entries = 0;
}
