/*
 * api_txn_local.c — a /txn answered from this node's own state machine, without
 * the log. Only the unsafe bug switches do this (stale_reads for read-only
 * transactions, ack_before_commit for the rest), so that a tester checking
 * /txn sees the same violations it sees on /kv.
 *
 * The map is not changed: a read sees the local map plus this transaction's
 * own earlier writes and appends to that key, as the real apply would.
 */
#include <stdlib.h>
#include <string.h>

#include "api_reply.h"

static bool same_key(const kv_txn_op *a, const kv_txn_op *b)
{
	return a->key.len == b->key.len && memcmp(a->key.p, b->key.p, a->key.len) == 0;
}

/* The value op i reads: the local map, then ops 0..i-1 on the same key. */
static int read_local(server *s, const kv_command *c, uint32_t i, kv_value *out)
{
	const kv_txn_op *r = &c->txn[i];
	const uint8_t *v = NULL;
	size_t len = 0;
	bool found = kv_store_get(rt_kv(s->rt)->store, r->key.p, r->key.len, &v, &len);
	uint8_t *buf = malloc(len + 1);
	if (buf == NULL)
		return -1;
	if (len > 0)
		memcpy(buf, v, len);
	for (uint32_t j = 0; j < i; j++) {
		const kv_txn_op *op = &c->txn[j];
		if (op->kind == KV_TXN_READ || !same_key(op, r))
			continue;
		size_t base = op->kind == KV_TXN_WRITE ? 0 : len;
		uint8_t *nb = realloc(buf, base + op->value.len + 1);
		if (nb == NULL) {
			free(buf);
			return -1;
		}
		buf = nb;
		if (op->value.len > 0)
			memcpy(buf + base, op->value.p, op->value.len);
		len = base + op->value.len;
		found = true;
	}
	buf[len] = '\0';
	out->found = found;
	out->len = found ? len : 0;
	out->p = found ? buf : NULL;
	if (!found)
		free(buf);
	return 0;
}

bool api_txn_read_only(const kv_command *c)
{
	for (uint32_t i = 0; i < c->n_txn; i++)
		if (c->txn[i].kind != KV_TXN_READ)
			return false;
	return true;
}

int api_txn_out_local(server *s, const kv_command *c, uint64_t index)
{
	kv_result res;
	memset(&res, 0, sizeof res);
	if (c->n_txn > 0) {
		res.txn_reads = calloc(c->n_txn, sizeof *res.txn_reads);
		if (res.txn_reads == NULL)
			return -1;
	}
	res.n_txn = c->n_txn;
	int rc = 0;
	for (uint32_t i = 0; i < c->n_txn && rc == 0; i++)
		if (c->txn[i].kind == KV_TXN_READ)
			rc = read_local(s, c, i, &res.txn_reads[i]);
	if (rc == 0)
		rc = api_out_txn(s, c, &res, index);
	kv_result_release(&res);
	return rc;
}
