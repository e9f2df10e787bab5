/*
 * kv_store.h — the replicated map itself: byte-string keys to byte-string
 * values, in memory. It is rebuilt on restart by replaying the log, so it
 * holds nothing durable of its own.
 *
 * A chained hash table that doubles when full; every operation is O(1)
 * expected, so no request ever costs a scan.
 */
#ifndef RAFTKV_KV_STORE_H
#define RAFTKV_KV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kv_store kv_store;

kv_store *kv_store_new(void);
void kv_store_free(kv_store *s);

/* Looks key up. On true, *val and *vlen describe the stored value (NUL-terminated
 * for convenience), valid until the next mutation of the store. */
bool kv_store_get(const kv_store *s, const uint8_t *key, size_t klen,
		  const uint8_t **val, size_t *vlen);

/* Sets key to value. 0, or -1 on ENOMEM (the store is unchanged). */
int kv_store_put(kv_store *s, const uint8_t *key, size_t klen,
		 const uint8_t *val, size_t vlen);

/* Appends to the value of key (an absent key counts as ""). 0 or -1 ENOMEM. */
int kv_store_append(kv_store *s, const uint8_t *key, size_t klen,
		    const uint8_t *suffix, size_t slen);

/* Removes key; true if it was present. */
bool kv_store_delete(kv_store *s, const uint8_t *key, size_t klen);

size_t kv_store_count(const kv_store *s);

/* Calls fn for every key (in no particular order) until it returns non-zero,
 * which is then returned; 0 when every key was visited. The store must not
 * change during the walk (snapshots walk it, see kv_snapshot.h). */
typedef int (*kv_store_visit_fn)(void *ctx, const uint8_t *key, size_t klen,
				 const uint8_t *val, size_t vlen);
int kv_store_foreach(const kv_store *s, kv_store_visit_fn fn, void *ctx);

#endif
