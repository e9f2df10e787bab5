/*
 * kv_command.h — the state machine's commands as they travel inside Raft
 * entries.
 *
 * Layout (little-endian, no padding):
 *
 *   [u8 op][u32 origin node][u64 origin boot nonce][u64 request id][payload]
 *
 * The header names who proposed the command, so the proposing node can answer
 * its waiting HTTP client when it applies the entry, and so every replica can
 * drop a command it has already applied (a forwarded proposal that the network
 * duplicated). Payloads, with bytes = [u32 len][len bytes]:
 *
 *   put, append   bytes key, bytes value
 *   delete, read  bytes key
 *   cas           bytes key, u8 from_present, bytes from, bytes to
 *   txn           u32 n, then n x ([u8 kind][bytes key][bytes value])
 *   noop          nothing
 *
 * Decoding never trusts the input: every length is checked against what is
 * left, and anything that does not parse exactly is refused.
 */
#ifndef RAFTKV_KV_COMMAND_H
#define RAFTKV_KV_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kv_op {
	KV_OP_NOOP = 0,
	KV_OP_PUT = 1,
	KV_OP_DELETE = 2,
	KV_OP_CAS = 3,
	KV_OP_APPEND = 4,
	KV_OP_TXN = 5,
	KV_OP_READ = 6, /* a read through the log (consistency=log) */
};

/* Kinds of a txn micro-operation (the letters clients use in JSON). */
enum kv_txn_kind {
	KV_TXN_READ = 'r',
	KV_TXN_WRITE = 'w',
	KV_TXN_APPEND = 'a',
};

#define KV_HEADER_BYTES 21u    /* op + origin + nonce + request id */
#define KV_MAX_TXN_OPS 100000u /* a txn longer than this is refused */

/* A byte string; in a decoded command it points into the entry data. */
typedef struct kv_bytes {
	const uint8_t *p;
	uint32_t len;
} kv_bytes;

typedef struct kv_txn_op {
	uint8_t kind; /* enum kv_txn_kind */
	kv_bytes key;
	kv_bytes value; /* empty for reads */
} kv_txn_op;

typedef struct kv_command {
	uint8_t op; /* enum kv_op */
	uint32_t origin;
	uint64_t nonce;
	uint64_t req_id;
	kv_bytes key;
	kv_bytes value;    /* put/append value, cas "to" */
	bool from_present; /* cas: false = "only if absent" */
	kv_bytes from;     /* cas expected value */
	uint32_t n_txn;
	kv_txn_op *txn;    /* decoded: malloc'd array (kv_command_release) */
} kv_command;

/* Encodes c into a malloc'd buffer. 0, or -1 (ENOMEM, unknown op). */
int kv_command_encode(const kv_command *c, uint8_t **out, size_t *len);
/* The encoded size of c, SIZE_MAX for a command that cannot be encoded
 * (unknown op, too many txn ops); then kv_command_encode_to writes it into
 * buf (room for that size) and returns the bytes written. */
size_t kv_command_size(const kv_command *c);
size_t kv_command_encode_to(const kv_command *c, uint8_t *buf);

/* Decodes data into c, whose byte strings then point into data. 0, or -1 for
 * anything malformed (c is left released). */
int kv_command_decode(const uint8_t *data, size_t len, kv_command *c);

/* Frees what decode allocated (the txn array). Safe on a zeroed command. */
void kv_command_release(kv_command *c);

const char *kv_op_name(uint8_t op);

#endif
