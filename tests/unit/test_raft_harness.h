/*
 * test_raft_harness.h — a tiny in-process cluster for the Raft core tests.
 *
 * Each node has a "disk" (hard state + entry copies) that its readies are
 * written to, after which raft_persisted is called, exactly as the caller
 * contract in raft.h demands. Messages go into one FIFO network that the
 * tests can cut per link; delivering deep-copies them, as a real transport
 * would. Every applied entry is checked against every other node's (State
 * Machine Safety), and every node must apply indexes in order.
 *
 * Included by each test_raft_*.c (one binary per test file): everything is
 * static.
 */
#ifndef TEST_RAFT_HARNESS_H
#define TEST_RAFT_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../node/raft/raft.h"

#define H_MAX 7

typedef struct h_node {
	raft *r;
	raft_config cfg;
	bool up;
	/* disk */
	raft_hard_state hs;
	raft_entry *disk;
	size_t n_disk, cap_disk;
	uint64_t snap_index, snap_term;
	/* what the caller saw */
	uint64_t applied;
	raft_read_state *reads;
	size_t n_reads, cap_reads;
	uint64_t first_written_since_mark; /* lowest entry index written since h_mark */
	bool manual_persist;               /* tests call h_persist themselves */
	bool sync_needed;                  /* a must-sync write is not yet h_persist'ed */
	uint64_t pend_index, pend_term;    /* last entry written but not yet reported */
	/* the synced image: what survives a crash that loses unsynced writes */
	raft_entry *sdisk;
	size_t n_sdisk, cap_sdisk;
	size_t dirty_from; /* first disk slot written since the last sync */
	raft_hard_state shs;
	/* messages waiting for the write before them to be durable */
	raft_msg *held;
	size_t n_held, cap_held;
} h_node;

typedef struct h_msgq {
	raft_msg *m;
	size_t head, len, cap;
} h_msgq;

typedef struct h_cluster {
	size_t n;
	uint32_t ids[H_MAX];
	h_node nodes[H_MAX];
	h_msgq net;
	bool cut[H_MAX][H_MAX]; /* cut[a][b]: messages a -> b are dropped */
	uint64_t *applied_term; /* term of the entry applied at each index, 0 = none yet */
	size_t cap_applied;
	/* statistics over sent messages */
	size_t sent_by_type[16];
	size_t max_append_entries;
	size_t rejects;
	/* soft checks: a safety violation sets `violation` instead of failing
	 * the test (used to show that planted bugs are caught) */
	bool soft;
	bool violation;
	/* optional filter: return false to drop */
	bool (*filter)(struct h_cluster *c, const raft_msg *m);
} h_cluster;

static inline void h_entries_free(raft_entry *e, size_t n);
static inline void h_drop_held(h_node *nd);

static inline void h_entry_copy(raft_entry *dst, const raft_entry *src)
{
	*dst = *src;
	dst->data = NULL;
	if (src->len > 0) {
		dst->data = malloc(src->len);
		assert_non_null(dst->data);
		memcpy(dst->data, src->data, src->len);
	}
}

static inline void h_msg_copy(raft_msg *dst, const raft_msg *src)
{
	*dst = *src;
	dst->entries = NULL;
	if (src->n_entries > 0) {
		dst->entries = calloc(src->n_entries, sizeof(raft_entry));
		assert_non_null(dst->entries);
		for (size_t i = 0; i < src->n_entries; i++)
			h_entry_copy(&dst->entries[i], &src->entries[i]);
	}
}

static inline void h_msg_free(raft_msg *m)
{
	for (size_t i = 0; i < m->n_entries; i++)
		free(m->entries[i].data);
	free(m->entries);
	m->entries = NULL;
	m->n_entries = 0;
}

static inline size_t h_slot(const h_cluster *c, uint32_t id)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->ids[i] == id)
			return i;
	fail_msg("unknown node id %u", id);
	return 0;
}

static inline void h_default_config(raft_config *cfg)
{
	raft_config_defaults(cfg);
	cfg->election_ticks = 10;
	cfg->heartbeat_ticks = 2;
	cfg->max_inflight = 8;
	cfg->max_msg_entries = 64;
}

static inline void h_start(h_cluster *c, size_t i)
{
	h_node *nd = &c->nodes[i];
	nd->r = raft_new(&nd->cfg);
	assert_non_null(nd->r);
	nd->up = true;
	nd->applied = nd->snap_index;
}

/* n nodes with ids 1..n; tweak (may be NULL) edits each config. */
static inline void h_init(h_cluster *c, size_t n, void (*tweak)(raft_config *, size_t))
{
	memset(c, 0, sizeof(*c));
	c->n = n;
	for (size_t i = 0; i < n; i++)
		c->ids[i] = (uint32_t)(i + 1);
	for (size_t i = 0; i < n; i++) {
		h_node *nd = &c->nodes[i];
		h_default_config(&nd->cfg);
		nd->cfg.id = c->ids[i];
		nd->cfg.voters = c->ids;
		nd->cfg.n_voters = n;
		nd->cfg.seed = 1000 + i * 7919;
		if (tweak != NULL)
			tweak(&nd->cfg, i);
		nd->hs.vote = RAFT_NONE;
		nd->shs.vote = RAFT_NONE;
		nd->dirty_from = 0;
		nd->first_written_since_mark = UINT64_MAX;
		h_start(c, i);
	}
}

static inline void h_disk_free(h_node *nd)
{
	for (size_t i = 0; i < nd->n_disk; i++)
		free(nd->disk[i].data);
	free(nd->disk);
	nd->disk = NULL;
	nd->n_disk = nd->cap_disk = 0;
	nd->dirty_from = 0;
}

static inline void h_free(h_cluster *c)
{
	for (size_t i = 0; i < c->n; i++) {
		h_node *nd = &c->nodes[i];
		raft_free(nd->r);
		h_disk_free(nd);
		free(nd->reads);
		h_entries_free(nd->sdisk, nd->n_sdisk);
		h_drop_held(nd);
		free(nd->held);
	}
	for (size_t k = 0; k < c->net.len; k++)
		h_msg_free(&c->net.m[(c->net.head + k) % c->net.cap]);
	free(c->net.m);
	free(c->applied_term);
}

static inline void h_net_push(h_cluster *c, const raft_msg *m)
{
	h_msgq *q = &c->net;
	if (q->len == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 64;
		raft_msg *nm = malloc(ncap * sizeof(raft_msg));
		assert_non_null(nm);
		for (size_t k = 0; k < q->len; k++)
			nm[k] = q->m[(q->head + k) % q->cap];
		free(q->m);
		q->m = nm;
		q->head = 0;
		q->cap = ncap;
	}
	h_msg_copy(&q->m[(q->head + q->len) % q->cap], m);
	q->len++;
}

static inline void h_disk_write(h_node *nd, const raft_entry *ents, size_t n)
{
	if (n == 0)
		return;
	if (ents[0].index < nd->first_written_since_mark)
		nd->first_written_since_mark = ents[0].index;
	/* remove every stored entry with index >= ents[0].index, then append */
	size_t keep = (size_t)(ents[0].index - nd->snap_index - 1);
	assert_true(keep <= nd->n_disk);
	if (keep < nd->dirty_from)
		nd->dirty_from = keep;
	for (size_t k = keep; k < nd->n_disk; k++)
		free(nd->disk[k].data);
	nd->n_disk = keep;
	if (nd->n_disk + n > nd->cap_disk) {
		size_t ncap = (nd->n_disk + n) * 2;
		raft_entry *d = realloc(nd->disk, ncap * sizeof(raft_entry));
		assert_non_null(d);
		nd->disk = d;
		nd->cap_disk = ncap;
	}
	for (size_t k = 0; k < n; k++)
		h_entry_copy(&nd->disk[nd->n_disk++], &ents[k]);
}

static inline void h_check_apply(h_cluster *c, h_node *nd, const raft_entry *e)
{
	assert_int_equal(e->index, nd->applied + 1);
	nd->applied = e->index;
	if (e->index >= c->cap_applied) {
		size_t ncap = (size_t)e->index * 2 + 16;
		uint64_t *a = realloc(c->applied_term, ncap * sizeof(uint64_t));
		assert_non_null(a);
		memset(a + c->cap_applied, 0, (ncap - c->cap_applied) * sizeof(uint64_t));
		c->applied_term = a;
		c->cap_applied = ncap;
	}
	if (c->applied_term[e->index] == 0)
		c->applied_term[e->index] = e->term;
	else if (c->soft && c->applied_term[e->index] != e->term)
		c->violation = true;
	else
		assert_int_equal(c->applied_term[e->index], e->term);
}

static inline void h_entries_free(raft_entry *e, size_t n)
{
	for (size_t k = 0; k < n; k++)
		free(e[k].data);
	free(e);
}

/* fsync: the written image becomes the synced one, the messages held behind
 * it leave, and the core learns that its entries are durable. */
static inline void h_persist(h_cluster *c, size_t i)
{
	h_node *nd = &c->nodes[i];
	/* copy only what was written since the last sync */
	size_t from = nd->dirty_from < nd->n_sdisk ? nd->dirty_from : nd->n_sdisk;
	for (size_t k = from; k < nd->n_sdisk; k++)
		free(nd->sdisk[k].data);
	if (nd->n_disk > nd->cap_sdisk) {
		size_t ncap = nd->n_disk * 2;
		raft_entry *d = realloc(nd->sdisk, ncap * sizeof(raft_entry));
		assert_non_null(d);
		nd->sdisk = d;
		nd->cap_sdisk = ncap;
	}
	for (size_t k = from; k < nd->n_disk; k++)
		h_entry_copy(&nd->sdisk[k], &nd->disk[k]);
	nd->n_sdisk = nd->n_disk;
	nd->dirty_from = SIZE_MAX;
	nd->shs = nd->hs;
	nd->sync_needed = false;
	for (size_t k = 0; k < nd->n_held; k++) {
		h_net_push(c, &nd->held[k]);
		h_msg_free(&nd->held[k]);
	}
	nd->n_held = 0;
	if (nd->pend_index != 0)
		raft_persisted(nd->r, nd->pend_index, nd->pend_term);
	nd->pend_index = 0;
}

static inline void h_hold(h_node *nd, const raft_msg *m)
{
	if (nd->n_held == nd->cap_held) {
		nd->cap_held = nd->cap_held ? nd->cap_held * 2 : 16;
		nd->held = realloc(nd->held, nd->cap_held * sizeof(raft_msg));
		assert_non_null(nd->held);
	}
	h_msg_copy(&nd->held[nd->n_held++], m);
}

static inline void h_drop_held(h_node *nd)
{
	for (size_t k = 0; k < nd->n_held; k++)
		h_msg_free(&nd->held[k]);
	nd->n_held = 0;
}

/* The runtime's part of InstallSnapshot (snapshot.c): the state machine
 * becomes the snapshot's, the log storage restarts after (index, term), and
 * that is durable before anything else of the ready. */
static inline void h_install(h_node *nd, uint64_t index, uint64_t term)
{
	h_disk_free(nd);
	h_entries_free(nd->sdisk, nd->n_sdisk);
	nd->sdisk = NULL;
	nd->n_sdisk = nd->cap_sdisk = 0;
	nd->snap_index = index;
	nd->snap_term = term;
	nd->applied = index;
	nd->pend_index = 0;
}

/* Runs one node's readies until it has none: persist, send, apply, read. */
static inline void h_process(h_cluster *c, size_t i)
{
	h_node *nd = &c->nodes[i];
	if (!nd->up)
		return;
	for (int guard = 0; raft_has_ready(nd->r); guard++) {
		assert_true(guard < 100000);
		raft_ready rd;
		raft_get_ready(nd->r, &rd);
		if (rd.hs_changed)
			nd->hs = rd.hs;
		if (rd.install)
			h_install(nd, rd.install_index, rd.install_term);
		h_disk_write(nd, rd.entries, rd.n_entries);
		/* the must-sync rule (raft.h steps 2-3): with a slow disk
		 * (manual_persist) only votes and entry acknowledgements wait,
		 * and only while a must-sync write is pending */
		bool wait_sync = rd.must_sync || nd->sync_needed;
		if (rd.must_sync)
			nd->sync_needed = true;
		for (size_t k = 0; k < rd.n_msgs; k++) {
			const raft_msg *m = &rd.msgs[k];
			if (m->type < 16)
				c->sent_by_type[m->type]++;
			if (m->type == RAFT_MSG_APPEND && m->n_entries > c->max_append_entries)
				c->max_append_entries = m->n_entries;
			if (m->type == RAFT_MSG_APPEND_RESP && m->reject)
				c->rejects++;
			if (nd->manual_persist && !(wait_sync && raft_msg_waits_for_disk(m->type)))
				h_net_push(c, m);
			else
				h_hold(nd, m);
		}
		for (size_t k = 0; k < rd.n_committed; k++)
			h_check_apply(c, nd, &rd.committed[k]);
		for (size_t k = 0; k < rd.n_reads; k++) {
			if (nd->n_reads == nd->cap_reads) {
				nd->cap_reads = nd->cap_reads ? nd->cap_reads * 2 : 16;
				nd->reads = realloc(nd->reads, nd->cap_reads * sizeof(raft_read_state));
				assert_non_null(nd->reads);
			}
			nd->reads[nd->n_reads++] = rd.reads[k];
		}
		uint64_t li = 0, lt = 0;
		if (rd.n_entries > 0) {
			li = rd.entries[rd.n_entries - 1].index;
			lt = rd.entries[rd.n_entries - 1].term;
		}
		raft_advance(nd->r, &rd);
		if (li != 0) {
			nd->pend_index = li;
			nd->pend_term = lt;
		}
		if (!nd->manual_persist)
			h_persist(c, i);
	}
}

static inline void h_process_all(h_cluster *c)
{
	for (size_t i = 0; i < c->n; i++)
		h_process(c, i);
}

/* Delivers one queued message; false when the network is empty. */
static inline bool h_deliver_one(h_cluster *c)
{
	h_msgq *q = &c->net;
	if (q->len == 0)
		return false;
	raft_msg m = q->m[q->head];
	q->head = (q->head + 1) % q->cap;
	q->len--;
	size_t from = h_slot(c, m.from), to = h_slot(c, m.to);
	bool pass = c->nodes[to].up && !c->cut[from][to] && (c->filter == NULL || c->filter(c, &m));
	if (pass)
		(void)raft_step(c->nodes[to].r, &m);
	h_msg_free(&m);
	if (pass)
		h_process(c, to);
	/* A leader's SNAPSHOT stands for the runtime streaming its snapshot:
	 * arriving is a finished stream; a lost one is reported as failed, as
	 * the runtime does when a stream breaks. */
	if (m.type == RAFT_MSG_SNAPSHOT && c->nodes[from].up) {
		raft_report_snapshot(c->nodes[from].r, m.to, pass);
		h_process(c, from);
	}
	return true;
}

/* Delivers (and removes) the k-th queued message, out of order. */
static inline void h_deliver_at(h_cluster *c, size_t k)
{
	h_msgq *q = &c->net;
	assert_true(k < q->len);
	size_t at = (q->head + k) % q->cap;
	raft_msg tmp = q->m[at];
	q->m[at] = q->m[q->head];
	q->m[q->head] = tmp;
	(void)h_deliver_one(c);
}

/* Processes and delivers until nothing is left in flight. */
static inline void h_settle(h_cluster *c)
{
	h_process_all(c);
	for (int guard = 0; h_deliver_one(c); guard++)
		assert_true(guard < 10000000);
}

static inline void h_drop_all(h_cluster *c)
{
	while (c->net.len > 0) {
		h_msg_free(&c->net.m[c->net.head]);
		c->net.head = (c->net.head + 1) % c->net.cap;
		c->net.len--;
	}
}

/* One tick on every live node, then everything settles. */
static inline void h_tick(h_cluster *c, int ticks)
{
	for (int t = 0; t < ticks; t++) {
		for (size_t i = 0; i < c->n; i++)
			if (c->nodes[i].up)
				raft_tick(c->nodes[i].r);
		h_settle(c);
	}
}

static inline void h_isolate(h_cluster *c, size_t i, bool on)
{
	for (size_t j = 0; j < c->n; j++) {
		if (j == i)
			continue;
		c->cut[i][j] = on;
		c->cut[j][i] = on;
	}
}

static inline raft_status h_status(const h_cluster *c, size_t i)
{
	raft_status st;
	raft_get_status(c->nodes[i].r, &st);
	return st;
}

/* The slot of the unique leader of the highest term, or -1. */
static inline int h_leader(const h_cluster *c)
{
	int best = -1;
	uint64_t best_term = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (!c->nodes[i].up)
			continue;
		raft_status st = h_status(c, i);
		if (st.role == RAFT_LEADER && (best < 0 || st.term > best_term)) {
			best = (int)i;
			best_term = st.term;
		}
	}
	return best;
}

static inline int h_count_leaders(const h_cluster *c, uint64_t term)
{
	int n = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (!c->nodes[i].up)
			continue;
		raft_status st = h_status(c, i);
		if (st.role == RAFT_LEADER && st.term == term)
			n++;
	}
	return n;
}

/* Ticks until some node leads and the others know it; returns its slot. */
static inline int h_elect(h_cluster *c)
{
	for (int t = 0; t < 500; t++) {
		int l = h_leader(c);
		if (l >= 0) {
			bool all = true;
			for (size_t i = 0; i < c->n; i++)
				if (c->nodes[i].up && h_status(c, i).leader != c->ids[l])
					all = false;
			if (all)
				return l;
		}
		h_tick(c, 1);
	}
	fail_msg("no leader elected");
	return -1;
}

/* A cluster of n nodes (tweak as for h_init) with a leader elected that
 * every node up follows; returns the leader's index. */
static inline int h_cluster_up(h_cluster *c, size_t n, void (*tweak)(raft_config *, size_t))
{
	h_init(c, n, tweak);
	return h_elect(c);
}

/* Ticks until some node leads and has committed its whole log (its term's
 * first entry included: it may then change the membership); its index. */
static inline int h_elect_committed(h_cluster *c)
{
	for (int t = 0; t < 1000; t++) {
		int l = h_leader(c);
		if (l >= 0) {
			raft_status st = h_status(c, (size_t)l);
			if (st.commit == st.last_index)
				return l;
		}
		h_tick(c, 1);
	}
	fail_msg("no leader with its log committed");
	return -1;
}

/* h_cluster_up, waiting for h_elect_committed instead. */
static inline int h_cluster_up_committed(h_cluster *c, size_t n, void (*tweak)(raft_config *, size_t))
{
	h_init(c, n, tweak);
	return h_elect_committed(c);
}

static inline void h_propose(h_cluster *c, size_t i, const char *s)
{
	uint64_t idx;
	assert_int_equal(raft_propose(c->nodes[i].r, s, strlen(s), &idx), RAFT_OK);
}

/* Restarts node i from its disk. */
static inline void h_restart(h_cluster *c, size_t i)
{
	h_node *nd = &c->nodes[i];
	raft_free(nd->r);
	nd->pend_index = 0;
	nd->cfg.seed += 1000003; /* a new incarnation draws a new seed, as raft.h asks */
	h_start(c, i);
	int rc = raft_load(nd->r, &nd->hs, nd->snap_index, nd->snap_term, nd->disk, nd->n_disk);
	if (rc != RAFT_OK) {
		print_error("raft_load: hs term %llu vote %u commit %llu, %zu entries",
			    (unsigned long long)nd->hs.term, nd->hs.vote,
			    (unsigned long long)nd->hs.commit, nd->n_disk);
		for (size_t k = 0; k < nd->n_disk; k++)
			print_error(" (%llu,%llu)", (unsigned long long)nd->disk[k].index,
				    (unsigned long long)nd->disk[k].term);
		print_error("\n");
	}
	assert_int_equal(rc, RAFT_OK);
	nd->applied = nd->snap_index; /* the state machine is rebuilt from the log */
}

/* kill -9; with lose_unsynced the disk goes back to its synced image. */
static inline void h_crash(h_cluster *c, size_t i, bool lose_unsynced)
{
	h_node *nd = &c->nodes[i];
	raft_free(nd->r);
	nd->r = NULL;
	nd->up = false;
	h_drop_held(nd);
	nd->pend_index = 0;
	nd->sync_needed = false;
	if (lose_unsynced) {
		h_disk_free(nd);
		nd->disk = nd->sdisk;
		nd->n_disk = nd->n_sdisk;
		nd->cap_disk = nd->cap_sdisk;
		nd->sdisk = NULL;
		nd->n_sdisk = nd->cap_sdisk = 0;
		nd->dirty_from = 0;
		nd->hs = nd->shs;
		h_persist(c, i); /* re-take the synced image */
	}
}

/* Gives node i a durable log before it starts (via raft_load). */
static inline void h_preload(h_cluster *c, size_t i, uint64_t term, const uint64_t *terms, size_t n,
		      uint64_t commit)
{
	h_node *nd = &c->nodes[i];
	h_disk_free(nd);
	raft_entry *ents = calloc(n ? n : 1, sizeof(raft_entry));
	assert_non_null(ents);
	for (size_t k = 0; k < n; k++) {
		ents[k].index = k + 1;
		ents[k].term = terms[k];
		ents[k].type = RAFT_ENTRY_NORMAL;
	}
	h_disk_write(nd, ents, n);
	free(ents);
	nd->hs.term = term;
	nd->hs.vote = RAFT_NONE;
	nd->hs.commit = commit;
	h_restart(c, i);
	h_persist(c, i);
	nd->first_written_since_mark = UINT64_MAX;
}

static inline uint64_t h_last_disk_term(const h_node *nd)
{
	return nd->n_disk ? nd->disk[nd->n_disk - 1].term : nd->snap_term;
}

#endif
