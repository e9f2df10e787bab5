/*
 * bytebuf.h — a growable byte buffer. Connections keep one per direction and
 * reuse it (len reset to 0, capacity kept) so the steady state allocates
 * nothing per request or frame.
 */
#ifndef RAFTKV_BYTEBUF_H
#define RAFTKV_BYTEBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct bytebuf {
	uint8_t *data;
	size_t len;
	size_t cap;
} bytebuf;

/* The slow path of bytebuf_reserve: grows the buffer. */
int bytebuf_grow(bytebuf *b, size_t extra);

/* Makes room for at least `extra` more bytes. 0, or -1 on ENOMEM/overflow.
 * Inline: on the request path the room is nearly always there already. */
static inline int bytebuf_reserve(bytebuf *b, size_t extra)
{
	if (extra <= b->cap - b->len)
		return 0;
	return bytebuf_grow(b, extra);
}

static inline int bytebuf_append(bytebuf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (bytebuf_reserve(b, n) != 0)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static inline int bytebuf_append_str(bytebuf *b, const char *s)
{
	return bytebuf_append(b, s, strlen(s));
}

/* Writes v in decimal into out (at least 20 bytes, no NUL); returns the
 * number of digits. snprintf costs ~1000 instructions per call, and the
 * request path formats several numbers per answer. */
size_t u64_decimal(char out[20], uint64_t v);
/* Appends v in decimal. */
int bytebuf_append_u64(bytebuf *b, uint64_t v);
/* Drops the first n bytes (consumed input), keeping the rest at the front. */
void bytebuf_consume(bytebuf *b, size_t n);
/* Gives memory back when a burst left a buffer much larger than `keep`. */
void bytebuf_shrink(bytebuf *b, size_t keep);
void bytebuf_free(bytebuf *b);

#endif
