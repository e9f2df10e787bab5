/*
 * supply.h — dead-end detection for the search by counting, per value, the
 * unplaced operations that need it (ok reads, ok cas expectations) and the
 * unplaced ones that could still produce it. There are no deletes, and
 * every producer is known: a write or cas of that value, or an append whose
 * text the value ends with. So once a needed value has no producer left and
 * is not the current value, its consumers can never be placed: the node is
 * dead. This turns "k concurrent writes (or appends), then a read of one
 * result" from 2^k configurations into a handful when values are unique, as
 * workloads make them.
 *
 * A second rule covers appends whose intermediate values nobody reads: take
 * the unplaced reads that must come soonest (earliest completion). Until
 * such a read, the value only grows by appends, except where a write or cas
 * lays down a new base; so the read's value must start with the current
 * value or with the value of an unplaced write or cas invoked before the
 * read completed. Without it, k concurrent appends cost k! orders.
 */
#ifndef RAFTKV_CHECK_SUPPLY_H
#define RAFTKV_CHECK_SUPPLY_H

#include "model.h"

typedef struct supply {
	uint32_t *need, *prod; /* per state id below nstates */
	uint32_t nstates;
	uint32_t starved;   /* values needed with no producer left */
	uint32_t *app_off;  /* op i (an append) produces app_ids[app_off[i] ..
	                       app_off[i+1]) */
	uint32_t *app_ids;
	size_t blind;       /* unplaced appends whose products were not indexed
	                       (too many pairs): while any, never dead */
	bool indexed;
	/* For the prefix rule: reads by completion, resets (write, cas) by
	 * invoke, each with a cursor at or before its first unplaced entry. */
	uint32_t *reads, *resets;
	size_t nreads, nresets, read_cur, reset_cur;
	uint32_t *pos;  /* op -> index in reads or resets */
	bool *placed;
} supply;

/* Counts every op of the key as unplaced. The model must already hold every
 * value the ops mention. 0, or -1 on ENOMEM. */
int supply_init(supply *s, const model *m, const op *ops, size_t n);
void supply_place(supply *s, const op *ops, uint32_t i);
void supply_unplace(supply *s, const op *ops, uint32_t i); /* exact inverse */
/* True when some unplaced op needs a value that can no longer come. */
bool supply_dead(supply *s, const model *m, const op *ops, uint32_t state);
void supply_free(supply *s);

#endif
