/* kv_command.c — encoding and garbage-safe decoding of state machine commands. */
#include "kv_command.h"

#include <stdlib.h>
#include <string.h>

#include "../common/le.h"

/* ---- writing: the size is computed first so one malloc suffices ---- */

static size_t bytes_size(kv_bytes b)
{
	return 4u + b.len;
}

static size_t payload_size(const kv_command *c)
{
	size_t n = 0;
	switch (c->op) {
	case KV_OP_NOOP:
		return 0;
	case KV_OP_PUT:
	case KV_OP_APPEND:
		return bytes_size(c->key) + bytes_size(c->value);
	case KV_OP_DELETE:
	case KV_OP_READ:
		return bytes_size(c->key);
	case KV_OP_CAS:
		return bytes_size(c->key) + 1u + bytes_size(c->from) + bytes_size(c->value);
	case KV_OP_TXN:
		n = 4;
		for (uint32_t i = 0; i < c->n_txn; i++)
			n += 1u + bytes_size(c->txn[i].key) + bytes_size(c->txn[i].value);
		return n;
	default:
		return SIZE_MAX;
	}
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
	le_put32(p, v);
	return p + 4;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
	le_put64(p, v);
	return p + 8;
}

static uint8_t *put_bytes(uint8_t *p, kv_bytes b)
{
	p = put_u32(p, b.len);
	if (b.len > 0)
		memcpy(p, b.p, b.len);
	return p + b.len;
}

int kv_command_encode(const kv_command *c, uint8_t **out, size_t *len)
{
	size_t psize = payload_size(c);
	if (psize == SIZE_MAX || (c->op == KV_OP_TXN && c->n_txn > KV_MAX_TXN_OPS))
		return -1;
	size_t total = KV_HEADER_BYTES + psize;
	uint8_t *buf = malloc(total);
	if (buf == NULL)
		return -1;
	uint8_t *p = buf;
	*p++ = c->op;
	p = put_u32(p, c->origin);
	p = put_u64(p, c->nonce);
	p = put_u64(p, c->req_id);
	switch (c->op) {
	case KV_OP_PUT:
	case KV_OP_APPEND:
		p = put_bytes(p, c->key);
		p = put_bytes(p, c->value);
		break;
	case KV_OP_DELETE:
	case KV_OP_READ:
		p = put_bytes(p, c->key);
		break;
	case KV_OP_CAS:
		p = put_bytes(p, c->key);
		*p++ = c->from_present ? 1 : 0;
		p = put_bytes(p, c->from);
		p = put_bytes(p, c->value);
		break;
	case KV_OP_TXN:
		p = put_u32(p, c->n_txn);
		for (uint32_t i = 0; i < c->n_txn; i++) {
			*p++ = c->txn[i].kind;
			p = put_bytes(p, c->txn[i].key);
			p = put_bytes(p, c->txn[i].value);
		}
		break;
	default:
		break;
	}
	*out = buf;
	*len = (size_t)(p - buf);
	return 0;
}

/* ---- reading: a cursor that refuses to step past the end ---- */

typedef struct reader {
	const uint8_t *p;
	size_t left;
	bool bad;
} reader;

static inline uint8_t get_u8(reader *r)
{
	if (r->bad || r->left < 1) {
		r->bad = true;
		return 0;
	}
	r->left--;
	return *r->p++;
}

static inline uint64_t get_uint(reader *r, int nbytes)
{
	if (r->bad || r->left < (size_t)nbytes) {
		r->bad = true;
		return 0;
	}
	uint64_t v = nbytes == 8 ? le_get64(r->p) : nbytes == 4 ? le_get32(r->p) : r->p[0];
	r->p += nbytes;
	r->left -= (size_t)nbytes;
	return v;
}

static inline kv_bytes get_bytes(reader *r)
{
	kv_bytes b = {NULL, 0};
	uint32_t n = (uint32_t)get_uint(r, 4);
	if (r->bad || r->left < n) {
		r->bad = true;
		return b;
	}
	b.p = r->p;
	b.len = n;
	r->p += n;
	r->left -= n;
	return b;
}

static bool valid_txn_kind(uint8_t k)
{
	return k == KV_TXN_READ || k == KV_TXN_WRITE || k == KV_TXN_APPEND;
}

int kv_command_decode(const uint8_t *data, size_t len, kv_command *c)
{
	memset(c, 0, sizeof *c);
	reader r = {data, len, false};
	c->op = get_u8(&r);
	c->origin = (uint32_t)get_uint(&r, 4);
	c->nonce = get_uint(&r, 8);
	c->req_id = get_uint(&r, 8);
	switch (c->op) {
	case KV_OP_NOOP:
		break;
	case KV_OP_PUT:
	case KV_OP_APPEND:
		c->key = get_bytes(&r);
		c->value = get_bytes(&r);
		break;
	case KV_OP_DELETE:
	case KV_OP_READ:
		c->key = get_bytes(&r);
		break;
	case KV_OP_CAS: {
		c->key = get_bytes(&r);
		uint8_t fp = get_u8(&r);
		if (fp > 1)
			r.bad = true;
		c->from_present = fp == 1;
		c->from = get_bytes(&r);
		c->value = get_bytes(&r);
		break;
	}
	case KV_OP_TXN: {
		uint32_t n = (uint32_t)get_uint(&r, 4);
		/* Each op takes at least 9 bytes: a count that cannot fit in what
		 * is left is garbage, and must not drive a huge allocation. */
		if (r.bad || n > KV_MAX_TXN_OPS || (size_t)n > r.left / 9u) {
			r.bad = true;
			break;
		}
		if (n > 0) {
			c->txn = calloc(n, sizeof *c->txn);
			if (c->txn == NULL) {
				r.bad = true;
				break;
			}
		}
		c->n_txn = n;
		for (uint32_t i = 0; i < n && !r.bad; i++) {
			c->txn[i].kind = get_u8(&r);
			if (!valid_txn_kind(c->txn[i].kind))
				r.bad = true;
			c->txn[i].key = get_bytes(&r);
			c->txn[i].value = get_bytes(&r);
		}
		break;
	}
	default:
		r.bad = true;
		break;
	}
	if (r.bad || r.left != 0) {
		kv_command_release(c);
		return -1;
	}
	return 0;
}

void kv_command_release(kv_command *c)
{
	free(c->txn);
	c->txn = NULL;
	c->n_txn = 0;
}

const char *kv_op_name(uint8_t op)
{
	switch (op) {
	case KV_OP_NOOP: return "noop";
	case KV_OP_PUT: return "put";
	case KV_OP_DELETE: return "delete";
	case KV_OP_CAS: return "cas";
	case KV_OP_APPEND: return "append";
	case KV_OP_TXN: return "txn";
	case KV_OP_READ: return "read";
	default: return "unknown";
	}
}
