/* log.c — in-memory Raft log storage, see log.h. */
#include "log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* A chunk is LOG_CHUNK-aligned (aligned_alloc), so the chunk of an entry's
 * data is its address rounded down; the header comes first, the data after
 * it, each entry's copy starting on an 8-byte boundary. Under ASan the
 * bytes of a chunk that hold no stored entry are poisoned, with a red zone
 * after each copy, so an overflow or a use after drop is caught as it was
 * with one malloc per entry. */
#define LOG_CHUNK ((size_t)64 << 10)

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define LOG_REDZONE 16
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define LOG_REDZONE 0
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

struct log_chunk {
	size_t size; /* bytes of the chunk, header included (a multiple of LOG_CHUNK) */
	size_t used; /* bytes carved so far, header included */
	size_t live; /* entries whose data is here and still stored */
	size_t pad;  /* keeps the data 16-byte aligned after the header */
};

static log_chunk *chunk_of(const void *data)
{
	return (log_chunk *)((uintptr_t)data & ~(uintptr_t)(LOG_CHUNK - 1));
}

static void chunk_free(log_chunk *c)
{
	UNPOISON(c, c->size);
	free(c);
}

/* An entry's data (len bytes) is dropped. A chunk that holds no entry any
 * more goes, unless it is the one new entries go to: that one starts over. */
static void data_drop(raft_log *l, void *data, uint32_t len)
{
	if (data == NULL)
		return;
	POISON(data, len);
	log_chunk *c = chunk_of(data);
	assert(c->live > 0);
	if (--c->live > 0)
		return;
	if (c != l->chunk)
		chunk_free(c);
	else
		c->used = sizeof(log_chunk);
}

static log_chunk *chunk_new(size_t size)
{
	log_chunk *n = aligned_alloc(LOG_CHUNK, size);
	if (n == NULL)
		return NULL;
	n->size = size;
	n->used = sizeof(log_chunk);
	n->live = 0;
	POISON((uint8_t *)n + n->used, size - n->used);
	return n;
}

/* Room for len bytes of entry data; NULL on ENOMEM. An entry too big for a
 * chunk gets one of its own, which takes nothing else: the chunk of an
 * entry is found from the entry's first byte, which must lie in the chunk's
 * first LOG_CHUNK bytes. */
static uint8_t *data_alloc(raft_log *l, uint32_t len)
{
	size_t need = (((size_t)len + 7) & ~(size_t)7) + LOG_REDZONE;
	log_chunk *c = l->chunk;
	if (need > LOG_CHUNK - sizeof(log_chunk)) {
		c = chunk_new((need + sizeof(log_chunk) + LOG_CHUNK - 1) & ~(LOG_CHUNK - 1));
		if (c == NULL)
			return NULL;
	} else if (c == NULL || c->size - c->used < need) {
		log_chunk *n = chunk_new(LOG_CHUNK);
		if (n == NULL)
			return NULL;
		if (c != NULL && c->live == 0)
			chunk_free(c); /* every entry it held was dropped already */
		l->chunk = c = n;
	}
	uint8_t *p = (uint8_t *)c + c->used;
	c->used += need;
	c->live++;
	UNPOISON(p, len);
	return p;
}

void log_init(raft_log *l)
{
	memset(l, 0, sizeof(*l));
}

static raft_entry *slot(const raft_log *l, uint64_t index)
{
	return &l->ents[l->head + (size_t)(index - l->snap_index - 1)];
}

void log_free(raft_log *l)
{
	log_chunk *cur = l->chunk;
	bool cur_empty = cur != NULL && cur->live == 0;
	l->chunk = NULL; /* every chunk goes with its last entry, the current one too */
	for (size_t i = 0; i < l->len; i++)
		data_drop(l, l->ents[l->head + i].data, l->ents[l->head + i].len);
	if (cur_empty)
		chunk_free(cur);
	free(l->ents);
	log_init(l);
}

const raft_entry *log_get(const raft_log *l, uint64_t index)
{
	if (index <= l->snap_index || index > log_last_index(l))
		return NULL;
	return slot(l, index);
}

bool log_term(const raft_log *l, uint64_t index, uint64_t *term)
{
	if (index == l->snap_index) {
		*term = l->snap_term;
		return true;
	}
	const raft_entry *e = log_get(l, index);
	if (e == NULL)
		return false;
	*term = e->term;
	return true;
}

uint64_t log_last_term(const raft_log *l)
{
	return l->len ? l->ents[l->head + l->len - 1].term : l->snap_term;
}

/* Makes room for one more entry at the back: first reclaims the dropped
 * front slots when they are at least half the array, else doubles it. */
static int log_reserve_one(raft_log *l)
{
	if (l->head + l->len < l->cap)
		return 0;
	if (l->head > 0 && l->head >= l->cap / 2) {
		memmove(l->ents, l->ents + l->head, l->len * sizeof(raft_entry));
		l->head = 0;
		return 0;
	}
	size_t ncap = l->cap ? l->cap * 2 : 64;
	if (ncap > ((size_t)-1) / sizeof(raft_entry))
		return -1;
	raft_entry *n = realloc(l->ents, ncap * sizeof(raft_entry));
	if (n == NULL)
		return -1;
	l->ents = n;
	l->cap = ncap;
	return 0;
}

int log_append(raft_log *l, uint64_t term, uint8_t type, const void *data, uint32_t len)
{
	if (log_reserve_one(l) != 0)
		return -1;
	uint8_t *copy = NULL;
	if (len > 0) {
		copy = data_alloc(l, len);
		if (copy == NULL)
			return -1;
		memcpy(copy, data, len);
	}
	raft_entry *e = &l->ents[l->head + l->len];
	e->term = term;
	e->index = log_last_index(l) + 1;
	e->type = type;
	e->len = len;
	e->data = copy;
	l->len++;
	l->bytes += len;
	return 0;
}

void log_truncate_from(raft_log *l, uint64_t index)
{
	assert(index > l->snap_index);
	uint64_t last = log_last_index(l);
	for (uint64_t i = index; i <= last; i++) {
		l->bytes -= slot(l, i)->len;
		data_drop(l, slot(l, i)->data, slot(l, i)->len);
	}
	if (index <= last)
		l->len = (size_t)(index - l->snap_index - 1);
}

void log_compact_to(raft_log *l, uint64_t index)
{
	assert(index > l->snap_index && index <= log_last_index(l));
	uint64_t term = slot(l, index)->term;
	size_t n = (size_t)(index - l->snap_index);
	for (size_t i = 0; i < n; i++) {
		l->bytes -= l->ents[l->head + i].len;
		data_drop(l, l->ents[l->head + i].data, l->ents[l->head + i].len);
	}
	l->head += n;
	l->len -= n;
	if (l->len == 0)
		l->head = 0;
	l->snap_index = index;
	l->snap_term = term;
}

void log_reset(raft_log *l, uint64_t index, uint64_t term)
{
	for (size_t i = 0; i < l->len; i++)
		data_drop(l, l->ents[l->head + i].data, l->ents[l->head + i].len);
	l->head = 0;
	l->len = 0;
	l->bytes = 0;
	l->snap_index = index;
	l->snap_term = term;
}

uint64_t log_first_index_with_term_ge(const raft_log *l, uint64_t term)
{
	size_t lo = 0, hi = l->len; /* answer slot in [lo, hi] */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->ents[l->head + mid].term >= term)
			hi = mid;
		else
			lo = mid + 1;
	}
	return l->snap_index + 1 + lo;
}

uint64_t log_last_index_with_term_le(const raft_log *l, uint64_t term, uint64_t upto)
{
	uint64_t last = log_last_index(l);
	if (upto > last)
		upto = last;
	if (upto <= l->snap_index)
		return l->snap_index;
	size_t lo = 0, hi = (size_t)(upto - l->snap_index); /* count of slots with term <= term */
	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2; /* candidate count */
		if (l->ents[l->head + mid - 1].term <= term)
			lo = mid;
		else
			hi = mid - 1;
	}
	return l->snap_index + lo;
}
