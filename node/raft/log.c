/* log.c — in-memory Raft log storage, see log.h. */
#include "log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void log_init(raft_log *l)
{
	memset(l, 0, sizeof(*l));
}

static raft_entry *slot(const raft_log *l, uint64_t index)
{
	return &l->ents[l->head + (size_t)(index - l->snap_index - 1)];
}

void log_free(raft_log *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->ents[l->head + i].data);
	free(l->ents);
	log_init(l);
}

const raft_entry *log_get(const raft_log *l, uint64_t index)
{
	if (index <= l->snap_index || index > log_last_index(l))
		return NULL;
	return slot(l, index);
}

bool log_term(const raft_log *l, uint64_t index, uint64_t *term)
{
	if (index == l->snap_index) {
		*term = l->snap_term;
		return true;
	}
	const raft_entry *e = log_get(l, index);
	if (e == NULL)
		return false;
	*term = e->term;
	return true;
}

uint64_t log_last_term(const raft_log *l)
{
	return l->len ? l->ents[l->head + l->len - 1].term : l->snap_term;
}

/* Makes room for one more entry at the back: first reclaims the dropped
 * front slots when they are at least half the array, else doubles it. */
static int log_reserve_one(raft_log *l)
{
	if (l->head + l->len < l->cap)
		return 0;
	if (l->head > 0 && l->head >= l->cap / 2) {
		memmove(l->ents, l->ents + l->head, l->len * sizeof(raft_entry));
		l->head = 0;
		return 0;
	}
	size_t ncap = l->cap ? l->cap * 2 : 64;
	if (ncap > ((size_t)-1) / sizeof(raft_entry))
		return -1;
	raft_entry *n = realloc(l->ents, ncap * sizeof(raft_entry));
	if (n == NULL)
		return -1;
	l->ents = n;
	l->cap = ncap;
	return 0;
}

int log_append(raft_log *l, uint64_t term, uint8_t type, const void *data, uint32_t len)
{
	if (log_reserve_one(l) != 0)
		return -1;
	uint8_t *copy = NULL;
	if (len > 0) {
		copy = malloc(len);
		if (copy == NULL)
			return -1;
		memcpy(copy, data, len);
	}
	raft_entry *e = &l->ents[l->head + l->len];
	e->term = term;
	e->index = log_last_index(l) + 1;
	e->type = type;
	e->len = len;
	e->data = copy;
	l->len++;
	l->bytes += len;
	return 0;
}

void log_truncate_from(raft_log *l, uint64_t index)
{
	assert(index > l->snap_index);
	uint64_t last = log_last_index(l);
	for (uint64_t i = index; i <= last; i++) {
		l->bytes -= slot(l, i)->len;
		free(slot(l, i)->data);
	}
	if (index <= last)
		l->len = (size_t)(index - l->snap_index - 1);
}

void log_compact_to(raft_log *l, uint64_t index)
{
	assert(index > l->snap_index && index <= log_last_index(l));
	uint64_t term = slot(l, index)->term;
	size_t n = (size_t)(index - l->snap_index);
	for (size_t i = 0; i < n; i++) {
		l->bytes -= l->ents[l->head + i].len;
		free(l->ents[l->head + i].data);
	}
	l->head += n;
	l->len -= n;
	if (l->len == 0)
		l->head = 0;
	l->snap_index = index;
	l->snap_term = term;
}

void log_reset(raft_log *l, uint64_t index, uint64_t term)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->ents[l->head + i].data);
	l->head = 0;
	l->len = 0;
	l->bytes = 0;
	l->snap_index = index;
	l->snap_term = term;
}

uint64_t log_first_index_with_term_ge(const raft_log *l, uint64_t term)
{
	size_t lo = 0, hi = l->len; /* answer slot in [lo, hi] */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->ents[l->head + mid].term >= term)
			hi = mid;
		else
			lo = mid + 1;
	}
	return l->snap_index + 1 + lo;
}

uint64_t log_last_index_with_term_le(const raft_log *l, uint64_t term, uint64_t upto)
{
	uint64_t last = log_last_index(l);
	if (upto > last)
		upto = last;
	if (upto <= l->snap_index)
		return l->snap_index;
	size_t lo = 0, hi = (size_t)(upto - l->snap_index); /* count of slots with term <= term */
	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2; /* candidate count */
		if (l->ents[l->head + mid - 1].term <= term)
			lo = mid;
		else
			hi = mid - 1;
	}
	return l->snap_index + lo;
}
