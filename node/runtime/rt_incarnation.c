/* rt_incarnation.c — the decision of rt_incarnation.h. */
#include "rt_incarnation.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void inc_probe_init(inc_probe *p, uint32_t self, const uint32_t *voters, size_t n)
{
	memset(p, 0, sizeof *p);
	p->self = self;
	for (size_t i = 0; i < n && p->n_others < RAFT_MAX_NODES; i++)
		if (voters[i] != self)
			p->others[p->n_others++] = voters[i];
	if (p->n_others == 0)
		p->verdict = INC_NEW_CLUSTER;
}

/* A request for a vote from a node that has never held an entry and never
 * been past term 0 (a pre-vote names the term it would use: 1). */
static bool shows_empty(const raft_msg *m)
{
	return (m->type == RAFT_MSG_PREVOTE || m->type == RAFT_MSG_VOTE) && m->term <= 1 &&
	       m->index == 0 && m->log_term == 0 && m->commit == 0 && m->n_entries == 0;
}

/* Whether m shows a cluster that elected a leader or holds entries. Answers
 * to our probes at term <= 1 with no log position show nothing either way. */
static bool shows_existing(const raft_msg *m)
{
	if (m->term >= 2 || m->index > 0 || m->log_term > 0 || m->commit > 0 || m->n_entries > 0)
		return true;
	switch (m->type) {
	case RAFT_MSG_PREVOTE:
	case RAFT_MSG_PREVOTE_RESP:
	case RAFT_MSG_VOTE:
	case RAFT_MSG_VOTE_RESP:
		return false;
	default:
		return true; /* appends, heartbeats, reads, proposals: a leader exists */
	}
}

uint8_t inc_probe_observe(inc_probe *p, const raft_msg *m)
{
	if (p->verdict != INC_UNDECIDED)
		return p->verdict;
	if (shows_existing(m)) {
		p->verdict = INC_EXISTS;
		return p->verdict;
	}
	if (!shows_empty(m))
		return p->verdict;
	size_t heard = 0;
	for (size_t i = 0; i < p->n_others; i++) {
		if (p->others[i] == m->from)
			p->heard_empty[i] = true;
		heard += p->heard_empty[i];
	}
	if (heard >= p->n_others / 2 + 1)
		p->verdict = INC_NEW_CLUSTER;
	return p->verdict;
}

uint8_t inc_probe_verdict(const inc_probe *p)
{
	return p->verdict;
}

uint64_t inc_fresh(void)
{
	uint64_t v = 0;
	while (v == 0) {
		if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			v = ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) ^
			    ((uint64_t)getpid() << 32);
		}
	}
	return v;
}
