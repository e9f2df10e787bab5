/* kv_store.c — chained hash map of byte strings (see kv_store.h). */
#include "kv_store.h"

#include <stdlib.h>
#include <string.h>

typedef struct kv_item {
	struct kv_item *next;
	uint64_t hash;
	uint8_t *val; /* vlen bytes + NUL; never NULL */
	size_t vlen;
	size_t vcap;  /* allocated bytes of val, NUL included */
	size_t klen;
	uint8_t key[]; /* klen bytes */
} kv_item;

struct kv_store {
	kv_item **buckets;
	size_t n_buckets; /* power of two */
	size_t count;
};

#define INITIAL_BUCKETS 1024u

/* FNV-1a, then a final mix so the low bits used for the bucket index depend
 * on every input byte. Keys come from clients, but a node serves a test
 * cluster, not the open internet, so no keyed hash is needed. */
static uint64_t hash_key(const uint8_t *k, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= k[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

kv_store *kv_store_new(void)
{
	kv_store *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->buckets = calloc(INITIAL_BUCKETS, sizeof *s->buckets);
	if (s->buckets == NULL) {
		free(s);
		return NULL;
	}
	s->n_buckets = INITIAL_BUCKETS;
	return s;
}

void kv_store_free(kv_store *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n_buckets; i++) {
		kv_item *it = s->buckets[i];
		while (it != NULL) {
			kv_item *next = it->next;
			free(it->val);
			free(it);
			it = next;
		}
	}
	free(s->buckets);
	free(s);
}

static kv_item **find_slot(const kv_store *s, const uint8_t *key, size_t klen, uint64_t h)
{
	kv_item **pp = &s->buckets[h & (s->n_buckets - 1)];
	for (; *pp != NULL; pp = &(*pp)->next) {
		kv_item *it = *pp;
		if (it->hash == h && it->klen == klen && memcmp(it->key, key, klen) == 0)
			break;
	}
	return pp;
}

bool kv_store_get(const kv_store *s, const uint8_t *key, size_t klen,
		  const uint8_t **val, size_t *vlen)
{
	kv_item *it = *find_slot(s, key, klen, hash_key(key, klen));
	if (it == NULL)
		return false;
	*val = it->val;
	*vlen = it->vlen;
	return true;
}

/* Doubling keeps chains short; failure to grow is harmless (just slower). */
static void maybe_grow(kv_store *s)
{
	if (s->count < s->n_buckets || s->n_buckets > SIZE_MAX / 2 / sizeof(kv_item *))
		return;
	size_t nb = s->n_buckets * 2;
	kv_item **b = calloc(nb, sizeof *b);
	if (b == NULL)
		return;
	for (size_t i = 0; i < s->n_buckets; i++) {
		kv_item *it = s->buckets[i];
		while (it != NULL) {
			kv_item *next = it->next;
			size_t j = it->hash & (nb - 1);
			it->next = b[j];
			b[j] = it;
			it = next;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->n_buckets = nb;
}

/* Finds key, creating an empty item if absent. NULL on ENOMEM. */
static kv_item *get_or_create(kv_store *s, const uint8_t *key, size_t klen)
{
	uint64_t h = hash_key(key, klen);
	kv_item **pp = find_slot(s, key, klen, h);
	if (*pp != NULL)
		return *pp;
	if (klen > SIZE_MAX - sizeof(kv_item))
		return NULL;
	kv_item *it = malloc(sizeof *it + klen);
	if (it == NULL)
		return NULL;
	it->val = malloc(1);
	if (it->val == NULL) {
		free(it);
		return NULL;
	}
	it->val[0] = 0;
	it->vlen = 0;
	it->vcap = 1;
	it->hash = h;
	it->klen = klen;
	if (klen > 0)
		memcpy(it->key, key, klen);
	it->next = NULL;
	*pp = it;
	s->count++;
	maybe_grow(s);
	return it;
}

/* Makes room for n value bytes + NUL. 0 or -1 (value untouched). */
static int reserve_value(kv_item *it, size_t n)
{
	if (n == SIZE_MAX)
		return -1;
	if (n + 1 <= it->vcap)
		return 0;
	size_t cap = it->vcap;
	while (cap < n + 1)
		cap = cap > SIZE_MAX / 2 ? n + 1 : cap * 2;
	uint8_t *v = realloc(it->val, cap);
	if (v == NULL)
		return -1;
	it->val = v;
	it->vcap = cap;
	return 0;
}

static void drop_if_new(kv_store *s, kv_item *it, bool existed)
{
	if (!existed)
		kv_store_delete(s, it->key, it->klen);
}

int kv_store_put(kv_store *s, const uint8_t *key, size_t klen,
		 const uint8_t *val, size_t vlen)
{
	size_t before = s->count;
	kv_item *it = get_or_create(s, key, klen);
	if (it == NULL)
		return -1;
	/* Overwrites shrink an oversized buffer back, so one huge value does
	 * not pin memory forever. */
	if (it->vcap > 4096 && vlen + 1 < it->vcap / 4) {
		uint8_t *v = malloc(vlen + 1);
		if (v != NULL) {
			free(it->val);
			it->val = v;
			it->vcap = vlen + 1;
		}
	}
	if (reserve_value(it, vlen) != 0) {
		drop_if_new(s, it, s->count == before);
		return -1;
	}
	if (vlen > 0)
		memcpy(it->val, val, vlen);
	it->val[vlen] = 0;
	it->vlen = vlen;
	return 0;
}

int kv_store_append(kv_store *s, const uint8_t *key, size_t klen,
		    const uint8_t *suffix, size_t slen)
{
	size_t before = s->count;
	kv_item *it = get_or_create(s, key, klen);
	if (it == NULL)
		return -1;
	if (slen > SIZE_MAX - 1 - it->vlen || reserve_value(it, it->vlen + slen) != 0) {
		drop_if_new(s, it, s->count == before);
		return -1;
	}
	if (slen > 0)
		memcpy(it->val + it->vlen, suffix, slen);
	it->vlen += slen;
	it->val[it->vlen] = 0;
	return 0;
}

bool kv_store_delete(kv_store *s, const uint8_t *key, size_t klen)
{
	kv_item **pp = find_slot(s, key, klen, hash_key(key, klen));
	kv_item *it = *pp;
	if (it == NULL)
		return false;
	*pp = it->next;
	free(it->val);
	free(it);
	s->count--;
	return true;
}

size_t kv_store_count(const kv_store *s)
{
	return s->count;
}

int kv_store_foreach(const kv_store *s, kv_store_visit_fn fn, void *ctx)
{
	for (size_t i = 0; i < s->n_buckets; i++) {
		for (const kv_item *it = s->buckets[i]; it != NULL; it = it->next) {
			int rc = fn(ctx, it->key, it->klen, it->val, it->vlen);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}
