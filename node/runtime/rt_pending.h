/*
 * rt_pending.h — requests waiting for Raft (a commit, a read index, an
 * apply). Each is found by id when its answer arrives (hash table) and sits
 * in one FIFO ordered by deadline: every request gets the same timeout, so
 * arrival order is deadline order and expiring them costs O(1) each.
 */
#ifndef RAFTKV_RT_PENDING_H
#define RAFTKV_RT_PENDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ids of reads (never in the log) carry this bit, so they cannot collide
 * with the ids of commands, which are kept dense for de-duplication. */
#define PENDING_READ_BIT ((uint64_t)1 << 63)

typedef struct pending {
	uint64_t id;
	void *ctx;           /* the host's request */
	uint64_t stamp;      /* the host's, given back in the outcome */
	uint8_t kind;        /* enum rt_kind */
	bool proposed;       /* once true a failure is "unknown outcome" */
	uint64_t deadline_ms;/* real ms */
	char *key;           /* copy of the key (after the entry), for answers and reads */
	size_t klen;
	size_t bytes;        /* proposed command bytes, counted in the table's bytes */
	bool big;            /* its bytes count in the table's big_bytes too */
	uint8_t *cmd;        /* a forwarded command (malloc'd), kept to forward it */
	size_t cmd_len;      /* again to the next leader (rt.c, reforward) */
	uint32_t fwd_to;     /* the leader it was last forwarded to */
	size_t room;         /* bytes allocated for the key after the entry */
	struct pending *hnext;       /* hash chain */
	struct pending *prev, *next; /* deadline FIFO */
} pending;

typedef struct pending_table {
	pending **buckets;
	size_t n_buckets; /* power of two */
	size_t count;
	size_t bytes;         /* sum of entries' bytes: proposed and not yet answered */
	size_t big_bytes;     /* the part of bytes that big commands hold (rt.c admission) */
	pending *head, *tail; /* oldest first */
	pending *spare;       /* freed entries kept for reuse (PENDING_SPARE at most), */
	size_t n_spare;       /* each with PENDING_KEY_ROOM bytes of key room */
} pending_table;

int pending_table_init(pending_table *t);
void pending_table_destroy(pending_table *t); /* frees the table and the spares, not the requests */

/* Creates an entry (key copied) and links it. NULL on ENOMEM. */
pending *pending_add(pending_table *t, uint64_t id, void *ctx, uint64_t stamp, uint8_t kind,
		     const char *key, size_t klen, uint64_t deadline_ms);
pending *pending_find(pending_table *t, uint64_t id);
/* Unlinks p; the caller ends it and frees it with pending_free. */
void pending_remove(pending_table *t, pending *p);
/* Frees an unlinked entry, or keeps it in t for the next pending_add. */
void pending_free(pending_table *t, pending *p);
/* The oldest entry, or NULL. */
static inline pending *pending_oldest(pending_table *t)
{
	return t->head;
}

#endif
