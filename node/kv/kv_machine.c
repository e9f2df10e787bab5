/* kv_machine.c — applying commands to the store (see kv_machine.h). */
#include "kv_machine.h"

#include <stdlib.h>
#include <string.h>

int kv_machine_init(kv_machine *m)
{
	memset(m, 0, sizeof *m);
	m->store = kv_store_new();
	m->dedup = kv_dedup_new();
	if (m->store == NULL || m->dedup == NULL) {
		kv_machine_destroy(m);
		return -1;
	}
	return 0;
}

void kv_machine_destroy(kv_machine *m)
{
	kv_store_free(m->store);
	kv_dedup_free(m->dedup);
	m->store = NULL;
	m->dedup = NULL;
}

void kv_result_release(kv_result *res)
{
	if (res == NULL)
		return;
	free(res->value.p);
	for (uint32_t i = 0; i < res->n_txn; i++)
		free(res->txn_reads[i].p);
	free(res->txn_reads);
	memset(res, 0, sizeof *res);
}

/* Copies the current value of key into *out (for a result). 0 or -1 ENOMEM. */
static int observe(const kv_store *s, kv_bytes key, kv_value *out)
{
	const uint8_t *v;
	size_t n;
	out->found = kv_store_get(s, key.p, key.len, &v, &n);
	if (!out->found)
		return 0;
	out->p = malloc(n + 1);
	if (out->p == NULL)
		return -1;
	memcpy(out->p, v, n + 1);
	out->len = n;
	return 0;
}

static bool equals(const kv_store *s, kv_bytes key, bool present, kv_bytes want)
{
	const uint8_t *v;
	size_t n;
	bool found = kv_store_get(s, key.p, key.len, &v, &n);
	if (!present)
		return !found;
	return found && n == want.len && (n == 0 || memcmp(v, want.p, n) == 0);
}

/* A txn is atomic: all of its ops are applied in one go between two log
 * entries, so no read or write of another command can come between them.
 * ENOMEM part-way would break that, and is fatal for the node anyway. */
static int apply_txn(kv_machine *m, const kv_command *c, kv_result *res)
{
	if (res != NULL && c->n_txn > 0) {
		res->txn_reads = calloc(c->n_txn, sizeof *res->txn_reads);
		if (res->txn_reads == NULL)
			return -1;
		res->n_txn = c->n_txn;
	}
	for (uint32_t i = 0; i < c->n_txn; i++) {
		const kv_txn_op *op = &c->txn[i];
		int rc = 0;
		switch (op->kind) {
		case KV_TXN_READ:
			if (res != NULL)
				rc = observe(m->store, op->key, &res->txn_reads[i]);
			break;
		case KV_TXN_WRITE:
			rc = kv_store_put(m->store, op->key.p, op->key.len, op->value.p, op->value.len);
			break;
		case KV_TXN_APPEND:
			rc = kv_store_append(m->store, op->key.p, op->key.len, op->value.p, op->value.len);
			break;
		default:
			break;
		}
		if (rc != 0)
			return -1;
	}
	return 0;
}

int kv_machine_apply(kv_machine *m, const kv_command *c, kv_result *res)
{
	if (res != NULL)
		memset(res, 0, sizeof *res);
	if (c->op == KV_OP_NOOP)
		return 0;
	int verdict = kv_dedup_check(m->dedup, c->origin, c->nonce, c->req_id);
	if (verdict < 0)
		return -1;
	if (verdict != KV_DEDUP_NEW) {
		m->skipped_duplicates++;
		if (res != NULL)
			res->status = verdict == KV_DEDUP_SEEN ? KV_DUPLICATE : KV_STALE;
		return 0;
	}
	m->applied_commands++;
	switch (c->op) {
	case KV_OP_PUT:
		return kv_store_put(m->store, c->key.p, c->key.len, c->value.p, c->value.len);
	case KV_OP_APPEND:
		return kv_store_append(m->store, c->key.p, c->key.len, c->value.p, c->value.len);
	case KV_OP_DELETE:
		kv_store_delete(m->store, c->key.p, c->key.len);
		return 0;
	case KV_OP_READ:
		return res != NULL ? observe(m->store, c->key, &res->value) : 0;
	case KV_OP_CAS:
		if (!equals(m->store, c->key, c->from_present, c->from)) {
			if (res == NULL)
				return 0;
			res->status = KV_CAS_MISMATCH;
			return observe(m->store, c->key, &res->value);
		}
		return kv_store_put(m->store, c->key.p, c->key.len, c->value.p, c->value.len);
	case KV_OP_TXN:
		return apply_txn(m, c, res);
	default:
		return 0;
	}
}
