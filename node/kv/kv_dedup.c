/* kv_dedup.c — per-origin sliding windows of applied request ids. */
#include "kv_dedup.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define WORDS (KV_DEDUP_WINDOW / 64u)

typedef struct origin_window {
	uint32_t origin;
	uint64_t nonce;
	uint64_t high;      /* highest id recorded for this nonce (0 = none yet) */
	uint64_t last_use;  /* log-order stamp, for deterministic eviction */
	uint64_t *bits;     /* bit (id % WINDOW) set = id applied, for ids in (high-WINDOW, high] */
} origin_window;

struct kv_dedup {
	origin_window w[KV_DEDUP_MAX_ORIGINS];
	size_t n;
	uint64_t stamp;
};

kv_dedup *kv_dedup_new(void)
{
	return calloc(1, sizeof(kv_dedup));
}

void kv_dedup_free(kv_dedup *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->w[i].bits);
	free(d);
}

/* The window of origin, created (evicting the least recently used origin,
 * an order that depends only on the log) when new. NULL on ENOMEM. */
static origin_window *window_for(kv_dedup *d, uint32_t origin)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->w[i].origin == origin)
			return &d->w[i];
	origin_window *w;
	if (d->n < KV_DEDUP_MAX_ORIGINS) {
		uint64_t *bits = calloc(WORDS, sizeof *bits);
		if (bits == NULL)
			return NULL;
		w = &d->w[d->n++];
		w->bits = bits;
	} else {
		w = &d->w[0];
		for (size_t i = 1; i < d->n; i++)
			if (d->w[i].last_use < w->last_use)
				w = &d->w[i];
		memset(w->bits, 0, WORDS * sizeof *w->bits);
	}
	w->origin = origin;
	w->nonce = 0;
	w->high = 0;
	return w;
}

static bool bit_get(const origin_window *w, uint64_t id)
{
	uint64_t b = id % KV_DEDUP_WINDOW;
	return (w->bits[b / 64] >> (b % 64)) & 1u;
}

static void bit_set(origin_window *w, uint64_t id)
{
	uint64_t b = id % KV_DEDUP_WINDOW;
	w->bits[b / 64] |= (uint64_t)1 << (b % 64);
}

static void bit_clear(origin_window *w, uint64_t id)
{
	uint64_t b = id % KV_DEDUP_WINDOW;
	w->bits[b / 64] &= ~((uint64_t)1 << (b % 64));
}

/* Slides the window up to new_high, forgetting the ids that fall out. */
static void slide(origin_window *w, uint64_t new_high)
{
	if (new_high - w->high >= KV_DEDUP_WINDOW) {
		memset(w->bits, 0, WORDS * sizeof *w->bits);
	} else {
		for (uint64_t id = w->high + 1; id <= new_high; id++)
			bit_clear(w, id);
	}
	w->high = new_high;
}

uint64_t kv_dedup_newest_nonce(const kv_dedup *d, uint32_t origin)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->w[i].origin == origin)
			return d->w[i].nonce;
	return 0;
}

int kv_dedup_check(kv_dedup *d, uint32_t origin, uint64_t nonce, uint64_t id)
{
	origin_window *w = window_for(d, origin);
	if (w == NULL)
		return -1;
	w->last_use = ++d->stamp;
	if (nonce < w->nonce)
		return KV_DEDUP_STALE;
	if (nonce > w->nonce) {
		/* A new boot of that node: its ids start afresh. */
		memset(w->bits, 0, WORDS * sizeof *w->bits);
		w->nonce = nonce;
		w->high = 0;
	}
	if (id > w->high) {
		slide(w, id);
		bit_set(w, id);
		return KV_DEDUP_NEW;
	}
	if (w->high >= KV_DEDUP_WINDOW && id <= w->high - KV_DEDUP_WINDOW)
		return KV_DEDUP_STALE;
	if (bit_get(w, id))
		return KV_DEDUP_SEEN;
	bit_set(w, id);
	return KV_DEDUP_NEW;
}

uint64_t kv_dedup_stamp(const kv_dedup *d)
{
	return d->stamp;
}

size_t kv_dedup_window_count(const kv_dedup *d)
{
	return d->n;
}

void kv_dedup_window_get(const kv_dedup *d, size_t i, kv_dedup_window_state *out)
{
	const origin_window *w = &d->w[i];
	out->origin = w->origin;
	out->nonce = w->nonce;
	out->high = w->high;
	out->last_use = w->last_use;
	out->bits = w->bits;
}

void kv_dedup_set_stamp(kv_dedup *d, uint64_t stamp)
{
	d->stamp = stamp;
}

int kv_dedup_window_add(kv_dedup *d, const kv_dedup_window_state *in)
{
	if (d->n >= KV_DEDUP_MAX_ORIGINS || in->last_use > d->stamp)
		return -1;
	for (size_t i = 0; i < d->n; i++)
		if (d->w[i].origin == in->origin)
			return -1;
	uint64_t *bits = malloc(WORDS * sizeof *bits);
	if (bits == NULL)
		return -1;
	memcpy(bits, in->bits, WORDS * sizeof *bits);
	origin_window *w = &d->w[d->n++];
	w->origin = in->origin;
	w->nonce = in->nonce;
	w->high = in->high;
	w->last_use = in->last_use;
	w->bits = bits;
	return 0;
}
