/* rt_pending.c — the table of waiting requests (see rt_pending.h). */
#include "rt_pending.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_BUCKETS 1024u
/* Entries are recycled (an allocation and a free less per request) when
 * their key fits in PENDING_KEY_ROOM bytes; a longer key gets its own. */
#define PENDING_KEY_ROOM 64u
#if defined(__SANITIZE_ADDRESS__)
#define PENDING_SPARE 0u /* every entry freed: ASan sees a use after the end */
#else
#define PENDING_SPARE 256u
#endif

static size_t slot(const pending_table *t, uint64_t id)
{
	/* Ids are sequential: multiply to spread the high-bit read ids too. */
	return (size_t)((id * 0x9E3779B97F4A7C15ULL) >> 20) & (t->n_buckets - 1);
}

int pending_table_init(pending_table *t)
{
	memset(t, 0, sizeof *t);
	t->buckets = calloc(INITIAL_BUCKETS, sizeof *t->buckets);
	if (t->buckets == NULL)
		return -1;
	t->n_buckets = INITIAL_BUCKETS;
	return 0;
}

void pending_table_destroy(pending_table *t)
{
	while (t->spare != NULL) {
		pending *p = t->spare;
		t->spare = p->next;
		free(p);
	}
	free(t->buckets);
	memset(t, 0, sizeof *t);
}

static void grow(pending_table *t)
{
	size_t nb = t->n_buckets * 2;
	pending **b = calloc(nb, sizeof *b);
	if (b == NULL)
		return; /* longer chains, still correct */
	pending_table old = *t;
	t->buckets = b;
	t->n_buckets = nb;
	for (size_t i = 0; i < old.n_buckets; i++) {
		pending *p = old.buckets[i];
		while (p != NULL) {
			pending *next = p->hnext;
			size_t j = slot(t, p->id);
			p->hnext = b[j];
			b[j] = p;
			p = next;
		}
	}
	free(old.buckets);
}

pending *pending_add(pending_table *t, uint64_t id, void *ctx, uint64_t stamp, uint8_t kind,
		     const char *key, size_t klen, uint64_t deadline_ms)
{
	/* One allocation for the entry and its key, or a spare one. */
	size_t extra = key != NULL ? klen + 1 : 0;
	if (extra > SIZE_MAX - sizeof(pending))
		return NULL;
	pending *p;
	size_t room = extra <= PENDING_KEY_ROOM ? PENDING_KEY_ROOM : extra;
	if (room == PENDING_KEY_ROOM && t->spare != NULL) {
		p = t->spare;
		t->spare = p->next;
		t->n_spare--;
	} else {
		p = malloc(sizeof *p + room);
		if (p == NULL)
			return NULL;
	}
	memset(p, 0, sizeof *p);
	p->room = room;
	if (key != NULL) {
		p->key = (char *)(p + 1);
		memcpy(p->key, key, klen);
		p->key[klen] = '\0';
		p->klen = klen;
	}
	p->id = id;
	p->ctx = ctx;
	p->stamp = stamp;
	p->kind = kind;
	p->deadline_ms = deadline_ms;
	if (t->count >= t->n_buckets)
		grow(t);
	size_t j = slot(t, id);
	p->hnext = t->buckets[j];
	t->buckets[j] = p;
	p->prev = t->tail;
	if (t->tail != NULL)
		t->tail->next = p;
	else
		t->head = p;
	t->tail = p;
	t->count++;
	return p;
}

pending *pending_find(pending_table *t, uint64_t id)
{
	for (pending *p = t->buckets[slot(t, id)]; p != NULL; p = p->hnext)
		if (p->id == id)
			return p;
	return NULL;
}

void pending_remove(pending_table *t, pending *p)
{
	pending **pp = &t->buckets[slot(t, p->id)];
	while (*pp != NULL && *pp != p)
		pp = &(*pp)->hnext;
	if (*pp == p)
		*pp = p->hnext;
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		t->head = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	else
		t->tail = p->prev;
	p->prev = p->next = p->hnext = NULL;
	t->count--;
	t->bytes -= p->bytes;
	if (p->big)
		t->big_bytes -= p->bytes;
	p->bytes = 0;
	p->big = false;
}

void pending_free(pending_table *t, pending *p)
{
	if (p == NULL)
		return;
	free(p->cmd); /* the key lives in p's own allocation */
	p->cmd = NULL;
#if PENDING_SPARE > 0
	if (p->room == PENDING_KEY_ROOM && t->n_spare < PENDING_SPARE) {
		p->next = t->spare;
		t->spare = p;
		t->n_spare++;
		return;
	}
#else
	(void)t;
#endif
	free(p);
}
