/*
 * model.h — the sequential specification of one key: a value that is absent
 * or a byte string, under read, write, cas, cas-mismatch and append.
 * States are interned (equal strings share an id) so the search compares and
 * hashes them as integers; id MODEL_ABSENT is the absent value.
 */
#ifndef RAFTKV_CHECK_MODEL_H
#define RAFTKV_CHECK_MODEL_H

#include "util.h"

#define MODEL_ABSENT 0u

typedef enum op_kind {
	OP_READ,         /* ok iff state == a */
	OP_WRITE,        /* state := a */
	OP_CAS,          /* ok iff state == a; state := b */
	OP_CAS_MAYBE,    /* info cas: state := (state == a ? b : state) */
	OP_CAS_MISMATCH, /* failed cas, an observation: ok iff state != a */
	OP_APPEND,       /* state := state ++ text (absent counts as "") */
} op_kind;

typedef struct op {
	uint8_t kind;
	bool required;      /* false for info: may be left out */
	uint32_t a, b;      /* state ids */
	const char *text;   /* append's suffix */
	size_t text_len;
	int64_t call, ret;  /* ret unused when !required */
	uint32_t inv, comp; /* event indices; comp HEV_NONE when none */
} op;

typedef struct model {
	strtab states; /* id i+1 is states' string i */
	strbuf scratch;
} model;

/* Interns a value (NULL = absent) as a state id. 0, or -1 on ENOMEM. */
int model_state(model *m, const char *p, size_t n, uint32_t *id);
/* The string of a state; NULL for absent. */
const char *model_str(const model *m, uint32_t id, size_t *len);
/* 1 and *out set when o may take effect in state s; 0 if not; -1 ENOMEM. */
int model_step(model *m, const op *o, uint32_t s, uint32_t *out);
size_t model_bytes(const model *m);
void model_free(model *m);

#endif
