/* model.c — the key-value register's sequential semantics. */
#include "model.h"

#include <string.h>

int model_state(model *m, const char *p, size_t n, uint32_t *id)
{
	if (!p) {
		*id = MODEL_ABSENT;
		return 0;
	}
	uint32_t i;
	if (strtab_intern(&m->states, p, n, &i) < 0 || i == UINT32_MAX - 1)
		return -1;
	*id = i + 1;
	return 0;
}

const char *model_str(const model *m, uint32_t id, size_t *len)
{
	if (id == MODEL_ABSENT) {
		*len = 0;
		return NULL;
	}
	*len = m->states.len[id - 1];
	return m->states.ptr[id - 1];
}

int model_step(model *m, const op *o, uint32_t s, uint32_t *out)
{
	switch ((op_kind)o->kind) {
	case OP_READ:
		*out = s;
		return s == o->a;
	case OP_WRITE:
		*out = o->a;
		return 1;
	case OP_CAS:
		*out = o->b;
		return s == o->a;
	case OP_CAS_MAYBE:
		*out = s == o->a ? o->b : s;
		return 1;
	case OP_CAS_MISMATCH:
		*out = s;
		return s != o->a;
	case OP_APPEND: {
		size_t len;
		const char *cur = model_str(m, s, &len);
		sb_reset(&m->scratch);
		if (cur)
			sb_put(&m->scratch, cur, len);
		sb_put(&m->scratch, o->text, o->text_len);
		if (m->scratch.oom)
			return -1;
		/* "" ++ "" is the empty string, still distinct from absent. */
		return model_state(m, m->scratch.buf ? m->scratch.buf : "", m->scratch.len, out) < 0 ? -1 : 1;
	}
	}
	return 0;
}

size_t model_bytes(const model *m)
{
	return strtab_bytes(&m->states) + m->scratch.cap;
}

void model_free(model *m)
{
	strtab_free(&m->states);
	sb_free(&m->scratch);
}
