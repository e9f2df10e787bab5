/* ring.c — growable FIFO, see ring.h. */
#include "ring.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void ring_init(ring *q, size_t elem)
{
	memset(q, 0, sizeof(*q));
	q->elem = elem;
}

void ring_free(ring *q)
{
	free(q->buf);
	q->buf = NULL;
	q->head = q->len = q->cap = 0;
}

void *ring_at(const ring *q, size_t i)
{
	assert(i < q->len);
	return q->buf + ((q->head + i) % q->cap) * q->elem;
}

/* Doubles the capacity, unwrapping the contents to start at slot 0. */
static int ring_grow(ring *q)
{
	size_t ncap = q->cap ? q->cap * 2 : 16;
	if (ncap > ((size_t)-1) / q->elem)
		return -1;
	unsigned char *nb = malloc(ncap * q->elem);
	if (nb == NULL)
		return -1;
	for (size_t i = 0; i < q->len; i++)
		memcpy(nb + i * q->elem, ring_at(q, i), q->elem);
	free(q->buf);
	q->buf = nb;
	q->head = 0;
	q->cap = ncap;
	return 0;
}

void *ring_push(ring *q)
{
	if (q->len == q->cap && ring_grow(q) != 0)
		return NULL;
	q->len++;
	return ring_at(q, q->len - 1);
}

void ring_pop_front(ring *q, size_t n)
{
	assert(n <= q->len);
	q->len -= n;
	q->head = q->len ? (q->head + n) % q->cap : 0;
}
