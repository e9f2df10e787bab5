/*
 * ring.h — a growable FIFO of fixed-size elements (internal to the core).
 *
 * Used for queues that are pushed at the back and popped at the front
 * (pending reads, batches awaiting persistence): O(1) amortized per element,
 * and memory is reused instead of allocated per item.
 */
#ifndef RAFTKV_RAFT_RING_H
#define RAFTKV_RAFT_RING_H

#include <stddef.h>

typedef struct ring {
	unsigned char *buf;
	size_t elem; /* element size in bytes */
	size_t head; /* slot of the front element */
	size_t len;  /* elements stored */
	size_t cap;  /* slots allocated */
} ring;

void ring_init(ring *q, size_t elem);
void ring_free(ring *q);
/* Slot for a new back element (uninitialized), or NULL on ENOMEM. */
void *ring_push(ring *q);
/* The i-th element from the front (i < len). */
void *ring_at(const ring *q, size_t i);
void ring_pop_front(ring *q, size_t n);
static inline size_t ring_len(const ring *q) { return q->len; }

#endif
