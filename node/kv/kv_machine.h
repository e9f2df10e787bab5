/*
 * kv_machine.h — the deterministic state machine: applies committed commands,
 * in log order, to the store, on every replica alike.
 *
 * The result of a command (a read value, a cas mismatch, the reads of a txn)
 * is computed on every replica but only kept when the caller asks for it: the
 * node that proposed the command uses it to answer its client.
 */
#ifndef RAFTKV_KV_MACHINE_H
#define RAFTKV_KV_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv_command.h"
#include "kv_dedup.h"
#include "kv_store.h"

enum kv_status {
	KV_OK = 0,
	KV_CAS_MISMATCH = 1, /* cas not applied: value (if found) is the current one */
	KV_DUPLICATE = 2,    /* already applied once: skipped */
	KV_STALE = 3,        /* too old to prove new: skipped (see kv_dedup.h) */
};

/* One value observed by a read: found=false means the key was absent. */
typedef struct kv_value {
	bool found;
	uint8_t *p;   /* malloc'd copy, NUL-terminated; NULL when !found */
	size_t len;
} kv_value;

typedef struct kv_result {
	int status;     /* enum kv_status */
	kv_value value; /* read: the value; cas mismatch: the current value */
	kv_value *txn_reads; /* txn: one per op (reads filled, others !found) */
	uint32_t n_txn;
} kv_result;

typedef struct kv_machine {
	kv_store *store;
	kv_dedup *dedup;
	uint64_t applied_commands;
	uint64_t skipped_duplicates;
} kv_machine;

int kv_machine_init(kv_machine *m);
void kv_machine_destroy(kv_machine *m);

/* Applies a decoded command. With res != NULL the result is filled (release
 * it with kv_result_release). 0, or -1 on ENOMEM: the replica can no longer
 * follow the log deterministically and must stop. */
int kv_machine_apply(kv_machine *m, const kv_command *c, kv_result *res);

void kv_result_release(kv_result *res);

#endif
