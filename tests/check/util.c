/* util.c — arena, interning table and text buffer for the checker. */
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t util_hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return util_mix64(h ^ n);
}

size_t util_utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n;
	unsigned cp;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

bool util_utf8_valid(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p, *end = s + n;
	while (s < end) {
		if (*s < 0x80) {
			s++;
			continue;
		}
		size_t k = util_utf8_seq(s, end);
		if (!k)
			return false;
		s += k;
	}
	return true;
}

/* ---------------------------------------------------------------- arena */

struct arena_chunk {
	arena_chunk *next;
	size_t used, size;
	max_align_t data[];
};

#define ARENA_CHUNK (64 * 1024)

void *arena_alloc(arena *a, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	if (n == 0)
		n = 8;
	arena_chunk *c = a->head;
	if (!c || c->size - c->used < n) {
		/* Big requests get a chunk of their own, so waste stays small. */
		size_t size = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;
		if (size > SIZE_MAX - sizeof(arena_chunk))
			return NULL;
		arena_chunk *nc = malloc(sizeof(arena_chunk) + size);
		if (!nc)
			return NULL;
		nc->used = 0;
		nc->size = size;
		a->bytes += sizeof(arena_chunk) + size;
		if (c && size != ARENA_CHUNK) {
			/* Keep filling the current chunk: slot the big one behind it. */
			nc->next = c->next;
			c->next = nc;
			nc->used = n;
			return (char *)nc->data;
		}
		nc->next = c;
		a->head = c = nc;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

void arena_free(arena *a)
{
	arena_chunk *c = a->head;
	while (c) {
		arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->bytes = 0;
}

/* ---------------------------------------------------------------- strtab */

static int strtab_grow_slots(strtab *t)
{
	uint32_t nslot = t->nslot ? t->nslot * 2 : 64;
	if (nslot < t->nslot)
		return -1;
	uint32_t *slot = calloc(nslot, sizeof *slot);
	if (!slot)
		return -1;
	for (uint32_t id = 0; id < t->n; id++) {
		uint32_t i = (uint32_t)t->hash[id] & (nslot - 1);
		while (slot[i])
			i = (i + 1) & (nslot - 1);
		slot[i] = id + 1;
	}
	free(t->slot);
	t->slot = slot;
	t->nslot = nslot;
	return 0;
}

static int strtab_grow_arrays(strtab *t)
{
	uint32_t cap = t->cap ? t->cap * 2 : 32;
	if (cap > (1u << 31))
		return -1;
	const char **ptr = realloc(t->ptr, cap * sizeof *ptr);
	if (!ptr)
		return -1;
	t->ptr = ptr;
	size_t *len = realloc(t->len, cap * sizeof *len);
	if (!len)
		return -1;
	t->len = len;
	uint64_t *hash = realloc(t->hash, cap * sizeof *hash);
	if (!hash)
		return -1;
	t->hash = hash;
	t->cap = cap;
	return 0;
}

static int strtab_lookup(const strtab *t, const char *p, size_t n, uint64_t h, uint32_t *id)
{
	if (!t->nslot)
		return 0;
	uint32_t i = (uint32_t)h & (t->nslot - 1);
	while (t->slot[i]) {
		uint32_t cand = t->slot[i] - 1;
		if (t->hash[cand] == h && t->len[cand] == n && memcmp(t->ptr[cand], p, n) == 0) {
			*id = cand;
			return 1;
		}
		i = (i + 1) & (t->nslot - 1);
	}
	return 0;
}

int strtab_find(const strtab *t, const char *p, size_t n, uint32_t *id)
{
	return strtab_lookup(t, p, n, util_hash_bytes(p, n), id);
}

int strtab_intern(strtab *t, const char *p, size_t n, uint32_t *id)
{
	uint64_t h = util_hash_bytes(p, n);
	if (strtab_lookup(t, p, n, h, id))
		return 0;
	if (t->n == t->cap && strtab_grow_arrays(t) < 0)
		return -1;
	/* Load factor at most 1/2 keeps probe chains short. */
	if ((uint64_t)(t->n + 1) * 2 > t->nslot && strtab_grow_slots(t) < 0)
		return -1;
	if (n == SIZE_MAX)
		return -1;
	char *copy = arena_alloc(&t->mem, n + 1);
	if (!copy)
		return -1;
	if (n)
		memcpy(copy, p, n);
	copy[n] = '\0';
	uint32_t nid = t->n++;
	t->ptr[nid] = copy;
	t->len[nid] = n;
	t->hash[nid] = h;
	uint32_t i = (uint32_t)h & (t->nslot - 1);
	while (t->slot[i])
		i = (i + 1) & (t->nslot - 1);
	t->slot[i] = nid + 1;
	*id = nid;
	return 0;
}

size_t strtab_bytes(const strtab *t)
{
	return t->mem.bytes + (size_t)t->cap * (sizeof(char *) + sizeof(size_t) + sizeof(uint64_t)) +
	       (size_t)t->nslot * sizeof(uint32_t);
}

void strtab_free(strtab *t)
{
	free(t->ptr);
	free(t->len);
	free(t->hash);
	free(t->slot);
	arena_free(&t->mem);
	memset(t, 0, sizeof *t);
}

/* ---------------------------------------------------------------- strbuf */

static bool sb_reserve(strbuf *b, size_t extra)
{
	if (b->oom)
		return false;
	if (extra > SIZE_MAX - b->len - 1)
		goto oom;
	if (b->len + extra + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1) {
		if (cap > SIZE_MAX / 2)
			goto oom;
		cap *= 2;
	}
	char *nb = realloc(b->buf, cap);
	if (!nb)
		goto oom;
	b->buf = nb;
	b->cap = cap;
	return true;
oom:
	b->oom = true;
	return false;
}

void sb_put(strbuf *b, const char *p, size_t n)
{
	if (!sb_reserve(b, n))
		return;
	if (n)
		memcpy(b->buf + b->len, p, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void sb_putc(strbuf *b, char c)
{
	sb_put(b, &c, 1);
}

void sb_printf(strbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char small[256];
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n < sizeof small) {
		sb_put(b, small, (size_t)n);
		return;
	}
	if (!sb_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	int m = vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	if (m != n) {
		b->oom = true;
		return;
	}
	b->len += (size_t)n;
}

void sb_escape(strbuf *b, const char *p, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sb_put(b, p + run, i - run);
		run = i + 1;
		if (c == '"' || c == '\\') {
			sb_putc(b, '\\');
			sb_putc(b, (char)c);
		} else if (c == '\n') {
			sb_put(b, "\\n", 2);
		} else if (c == '\t') {
			sb_put(b, "\\t", 2);
		} else if (c == '\r') {
			sb_put(b, "\\r", 2);
		} else {
			sb_printf(b, "\\u%04x", c);
		}
	}
	sb_put(b, p + run, n - run);
}

void sb_quote(strbuf *b, const char *p, size_t n, size_t max)
{
	if (!p) {
		sb_put(b, "null", 4);
		return;
	}
	bool cut = n > max;
	if (cut) {
		n = max;
		/* Do not split a UTF-8 sequence. */
		while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
			n--;
	}
	sb_putc(b, '"');
	sb_escape(b, p, n);
	if (cut)
		sb_put(b, "...", 3);
	sb_putc(b, '"');
}

char *sb_take(strbuf *b)
{
	if (b->oom) {
		sb_free(b);
		return NULL;
	}
	if (!b->buf) {
		char *empty = malloc(1);
		if (empty)
			empty[0] = '\0';
		return empty;
	}
	char *r = b->buf;
	b->buf = NULL;
	b->len = b->cap = 0;
	return r;
}

void sb_reset(strbuf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->buf)
		b->buf[0] = '\0';
}

void sb_free(strbuf *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}
