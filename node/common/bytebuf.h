/*
 * bytebuf.h — a growable byte buffer. Connections keep one per direction and
 * reuse it (len reset to 0, capacity kept) so the steady state allocates
 * nothing per request or frame.
 */
#ifndef RAFTKV_BYTEBUF_H
#define RAFTKV_BYTEBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct bytebuf {
	uint8_t *data;
	size_t len;
	size_t cap;
} bytebuf;

/* Makes room for at least `extra` more bytes. 0, or -1 on ENOMEM/overflow. */
int bytebuf_reserve(bytebuf *b, size_t extra);
int bytebuf_append(bytebuf *b, const void *p, size_t n);
int bytebuf_append_str(bytebuf *b, const char *s);
/* Drops the first n bytes (consumed input), keeping the rest at the front. */
void bytebuf_consume(bytebuf *b, size_t n);
/* Gives memory back when a burst left a buffer much larger than `keep`. */
void bytebuf_shrink(bytebuf *b, size_t keep);
void bytebuf_free(bytebuf *b);

#endif
