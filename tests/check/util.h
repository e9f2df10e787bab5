/*
 * util.h — small containers the checker is built from: a bump arena (so
 * interned strings never move), a string-interning table (so model states and
 * keys compare as integers), and a growable text buffer for messages.
 * Internal to libcheck; nothing here is part of check.h.
 */
#ifndef RAFTKV_CHECK_UTIL_H
#define RAFTKV_CHECK_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 64-bit hash of a byte string (FNV-1a folded through a mixer). */
uint64_t util_hash_bytes(const void *p, size_t n);

/* splitmix64 finaliser: spreads the bits of x; also a cheap PRNG step. */
static inline uint64_t util_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Length of the valid UTF-8 sequence starting at the non-ASCII byte p[0]
 * (no overlongs, surrogates or code points past U+10FFFF), or 0. */
size_t util_utf8_seq(const unsigned char *p, const unsigned char *end);
/* True if all n bytes are valid UTF-8. */
bool util_utf8_valid(const char *p, size_t n);

/* Bump allocator: many small blocks, freed all at once. */
typedef struct arena_chunk arena_chunk;
typedef struct arena {
	arena_chunk *head;
	size_t bytes; /* total held, for the memory cap */
} arena;

void *arena_alloc(arena *a, size_t n); /* 8-aligned; NULL on ENOMEM */
void arena_free(arena *a);

/* Interning: equal byte strings get the same id, 0, 1, 2, ... in order of
 * first sight. Stored copies are NUL-terminated (values may also hold NULs). */
typedef struct strtab {
	const char **ptr;
	size_t *len;
	uint64_t *hash;
	uint32_t n, cap;
	uint32_t *slot; /* open addressing: id+1, 0 = empty */
	uint32_t nslot;
	arena mem;
} strtab;

/* 0 and *id set, or -1 on ENOMEM (or more than 2^31 strings). */
int strtab_intern(strtab *t, const char *p, size_t n, uint32_t *id);
/* Like intern but never adds: 1 found, 0 not there. */
int strtab_find(const strtab *t, const char *p, size_t n, uint32_t *id);
size_t strtab_bytes(const strtab *t);
void strtab_free(strtab *t);

/* Growable text. A failed allocation sets oom and makes later calls no-ops,
 * so builders check once, at sb_take, rather than after every append. */
typedef struct strbuf {
	char *buf;
	size_t len, cap;
	bool oom;
} strbuf;

void sb_put(strbuf *b, const char *p, size_t n);
void sb_putc(strbuf *b, char c);
void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends p with the escapes JSON and EDN strings share (\" \\ \n \t \r and
 * \u00XX for other control bytes), without the surrounding quotes. */
void sb_escape(strbuf *b, const char *p, size_t n);
/* Quotes a value for a human message: "text" with JSON escapes, or null when
 * p is NULL; long values are cut to max bytes with a "..." marker. */
void sb_quote(strbuf *b, const char *p, size_t n, size_t max);
/* Hands over the NUL-terminated text (caller frees), or NULL after an oom. */
char *sb_take(strbuf *b);
void sb_reset(strbuf *b); /* empties, keeps capacity */
void sb_free(strbuf *b);

#endif
