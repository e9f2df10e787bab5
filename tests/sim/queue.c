/* queue.c — binary heap of simulator events and message copies. */
#include "queue.h"

#include <stdlib.h>
#include <string.h>

static int ev_less(const sim_event *a, const sim_event *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

int sim_queue_push(sim_queue *q, sim_event e)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 1024;
		sim_event *ev = realloc(q->ev, cap * sizeof *ev);
		if (!ev)
			return -1;
		q->ev = ev;
		q->cap = cap;
	}
	e.seq = q->next_seq++;
	size_t i = q->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!ev_less(&e, &q->ev[parent]))
			break;
		q->ev[i] = q->ev[parent];
		i = parent;
	}
	q->ev[i] = e;
	return 0;
}

int sim_queue_pop(sim_queue *q, sim_event *out)
{
	if (q->n == 0)
		return -1;
	*out = q->ev[0];
	sim_event last = q->ev[--q->n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const sim_event *best = &last;
		if (l < q->n && ev_less(&q->ev[l], best)) {
			m = l;
			best = &q->ev[l];
		}
		if (r < q->n && ev_less(&q->ev[r], best))
			m = r;
		if (m == i)
			break;
		q->ev[i] = q->ev[m];
		i = m;
	}
	if (q->n > 0)
		q->ev[i] = last;
	return 0;
}

void sim_queue_free(sim_queue *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->ev[i].frame);
	free(q->ev);
	memset(q, 0, sizeof *q);
}
