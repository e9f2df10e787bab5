/* bytebuf.c — growable byte buffer (see bytebuf.h). */
#include "bytebuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int bytebuf_grow(bytebuf *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len)
		return -1;
	size_t need = b->len + extra;
	if (need <= b->cap)
		return 0;
	/* Doubling keeps appends amortised O(1). */
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	uint8_t *p = realloc(b->data, cap);
	if (p == NULL)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

size_t u64_decimal(char out[20], uint64_t v)
{
	/* Two digits per division, from the end. */
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
				    "25262728293031323334353637383940414243444546474849"
				    "50515253545556575859606162636465666768697071727374"
				    "75767778798081828384858687888990919293949596979899";
	char tmp[20];
	char *p = tmp + sizeof tmp;
	while (v >= 100) {
		size_t d = (size_t)(v % 100);
		v /= 100;
		p -= 2;
		memcpy(p, pairs + 2 * d, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	size_t n = (size_t)(tmp + sizeof tmp - p);
	memcpy(out, p, n);
	return n;
}

int bytebuf_append_u64(bytebuf *b, uint64_t v)
{
	if (bytebuf_reserve(b, 20) != 0)
		return -1;
	b->len += u64_decimal((char *)b->data + b->len, v);
	return 0;
}

void bytebuf_consume(bytebuf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void bytebuf_shrink(bytebuf *b, size_t keep)
{
	if (b->len != 0 || b->cap <= keep)
		return;
	free(b->data);
	b->data = NULL;
	b->cap = 0;
}

void bytebuf_free(bytebuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
