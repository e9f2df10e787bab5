/* memo.c — open-addressing hash set of compressed search configurations. */
#include "memo.h"

#include <stdlib.h>
#include <string.h>

struct memo_slot {
	uint64_t hash;
	size_t off;     /* tail's first word in memo.words */
	uint32_t state; /* UINT32_MAX = empty slot */
	uint32_t lo, ntail;
};

size_t memo_bytes(const memo *m)
{
	return m->nslot * sizeof(memo_slot) + m->capwords * sizeof(uint64_t);
}

static int memo_grow(memo *m, size_t limit)
{
	size_t nslot = m->nslot ? m->nslot * 2 : 1024;
	if (nslot > SIZE_MAX / sizeof(memo_slot) ||
	    memo_bytes(m) + nslot * sizeof(memo_slot) > limit)
		return -1;
	memo_slot *ns = malloc(nslot * sizeof *ns);
	if (!ns)
		return -1;
	for (size_t i = 0; i < nslot; i++)
		ns[i].state = UINT32_MAX;
	for (size_t i = 0; i < m->nslot; i++) {
		if (m->slot[i].state == UINT32_MAX)
			continue;
		size_t j = m->slot[i].hash & (nslot - 1);
		while (ns[j].state != UINT32_MAX)
			j = (j + 1) & (nslot - 1);
		ns[j] = m->slot[i];
	}
	free(m->slot);
	m->slot = ns;
	m->nslot = nslot;
	return 0;
}

int memo_add(memo *m, uint64_t hash, uint32_t state, const uint64_t *bits, uint32_t lo,
	     uint32_t hi, size_t limit)
{
	uint32_t ntail = hi > lo ? hi - lo : 0;
	const uint64_t *tail = bits + lo;
	if (m->nslot) {
		size_t j = hash & (m->nslot - 1);
		while (m->slot[j].state != UINT32_MAX) {
			memo_slot *s = &m->slot[j];
			if (s->hash == hash && s->state == state && s->lo == lo && s->ntail == ntail &&
			    memcmp(m->words + s->off, tail, ntail * sizeof(uint64_t)) == 0)
				return 0;
			j = (j + 1) & (m->nslot - 1);
		}
	}
	/* Load factor at most 1/2. */
	if ((m->count + 1) * 2 > m->nslot && memo_grow(m, limit) < 0)
		return -1;
	if (m->nwords + ntail > m->capwords) {
		size_t cap = m->capwords ? m->capwords : 4096;
		while (cap < m->nwords + ntail)
			cap *= 2;
		size_t extra = (cap - m->capwords) * sizeof(uint64_t);
		if (cap > SIZE_MAX / sizeof(uint64_t) || memo_bytes(m) + extra > limit)
			return -1;
		uint64_t *nw = realloc(m->words, cap * sizeof *nw);
		if (!nw)
			return -1;
		m->words = nw;
		m->capwords = cap;
	}
	if (ntail)
		memcpy(m->words + m->nwords, tail, ntail * sizeof(uint64_t));
	size_t j = hash & (m->nslot - 1);
	while (m->slot[j].state != UINT32_MAX)
		j = (j + 1) & (m->nslot - 1);
	m->slot[j] = (memo_slot){ .hash = hash, .off = m->nwords, .state = state, .lo = lo, .ntail = ntail };
	m->nwords += ntail;
	m->count++;
	return 1;
}

void memo_clear(memo *m)
{
	for (size_t i = 0; i < m->nslot; i++)
		m->slot[i].state = UINT32_MAX;
	m->count = 0;
	m->nwords = 0;
}

void memo_free(memo *m)
{
	free(m->slot);
	free(m->words);
	memset(m, 0, sizeof *m);
}
