/*
 * fuzz_kv_command.c — the KV command decoder (node/kv/kv_command.c) on
 * hostile entry data. A command that decodes must encode back to bytes that
 * decode to the same command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../node/kv/kv_command.h"
#include "fuzz.h"

static int bytes_eq(kv_bytes a, kv_bytes b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kv_command c;
	memset(&c, 0, sizeof c);
	if (kv_command_decode(data, size, &c) != 0)
		return 0;
	(void)kv_op_name(c.op);
	uint8_t *enc;
	size_t len;
	if (kv_command_encode(&c, &enc, &len) == 0) {
		kv_command d;
		memset(&d, 0, sizeof d);
		FUZZ_CHECK(kv_command_decode(enc, len, &d) == 0);
		FUZZ_CHECK(d.op == c.op && d.origin == c.origin && d.nonce == c.nonce &&
			   d.req_id == c.req_id && bytes_eq(d.key, c.key) &&
			   bytes_eq(d.value, c.value) && d.n_txn == c.n_txn);
		for (uint32_t i = 0; i < d.n_txn; i++)
			FUZZ_CHECK(d.txn[i].kind == c.txn[i].kind &&
				   bytes_eq(d.txn[i].key, c.txn[i].key) &&
				   bytes_eq(d.txn[i].value, c.txn[i].value));
		kv_command_release(&d);
		free(enc);
	}
	kv_command_release(&c);
	return 0;
}
