/* sim_node.c — one simulated node: the real core over the real WAL.
 *
 * Each ready is written at once but fsynced later (an EV_FSYNC after this
 * disk's latency), as the node's group commit does; messages wait for that
 * fsync. A crash keeps only what was fsynced (wal_drop_unsynced) plus,
 * sometimes, a torn final write that the WAL's recovery must cut. */
#include "sim_internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t entry_hash(const raft_entry *e)
{
	uint64_t h = 1469598103934665603ull ^ e->type;
	for (uint32_t i = 0; i < e->len; i++)
		h = (h ^ e->data[i]) * 1099511628211ull;
	return h ^ (e->term * 0x9e3779b97f4a7c15ull);
}

static int mirror_reserve(sim_node *nd, uint64_t n)
{
	if (n <= nd->log_cap)
		return 0;
	uint64_t cap = nd->log_cap ? nd->log_cap : 256;
	while (cap < n)
		cap *= 2;
	uint64_t *t = realloc(nd->log_term, (cap + 1) * sizeof *t);
	if (!t)
		return -1;
	nd->log_term = t;
	uint64_t *h = realloc(nd->log_hash, (cap + 1) * sizeof *h);
	if (!h)
		return -1;
	nd->log_hash = h;
	nd->log_cap = cap;
	return 0;
}

/* Mirrors a persisted run of entries: replaces everything from the first. */
static int mirror_write(sim_node *nd, const raft_entry *ents, size_t n)
{
	if (n == 0)
		return 0;
	uint64_t first = ents[0].index;
	if (first == 0 || first > nd->log_len + 1)
		return -1; /* a gap: the core asked to persist non-contiguously */
	if (mirror_reserve(nd, first + n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		nd->log_term[first + i] = ents[i].term;
		nd->log_hash[first + i] = entry_hash(&ents[i]);
	}
	nd->log_len = first + n - 1;
	return 0;
}

static void kv_reset(sim_node *nd)
{
	for (int k = 0; k < SIM_KEYS; k++) {
		free(nd->kv[k]);
		nd->kv[k] = NULL;
	}
	free(nd->last_seq);
	nd->last_seq = NULL;
	nd->last_seq_n = 0;
	nd->applied = 0;
}

int sim_node_start(sim *s, sim_node *nd)
{
	char err[256];
	wal_recovered rec;
	memset(&rec, 0, sizeof rec);
	if (wal_open(nd->dir, NULL, &nd->w, &rec, err, sizeof err) != 0) {
		sim_fail(s, "node %u: WAL refused to open after a crash: %s", nd->id, err);
		return -1;
	}
	raft_config c;
	raft_config_defaults(&c);
	c.id = nd->id;
	c.voters = s->voters;
	c.n_voters = (size_t)s->n;
	c.election_ticks = 10;
	c.heartbeat_ticks = 2;
	c.pre_vote = s->pre_vote;
	c.check_quorum = true;
	/* small batches and windows make partial replication (Figure 8) reachable */
	c.max_inflight = s->max_inflight;
	c.max_msg_entries = s->max_msg_entries;
	c.seed = s->p.seed * 1000003u + nd->id * 7919u + nd->epoch;
	c.planted_bug = s->p.planted_bug;
	nd->r = raft_new(&c);
	if (!nd->r) {
		wal_recovered_free(&rec);
		sim_fail(s, "node %u: raft_new failed", nd->id);
		return -1;
	}
	nd->log_len = 0;
	if (mirror_write(nd, rec.entries, rec.n_entries) < 0 ||
	    raft_load(nd->r, &rec.hs, rec.snap_index, rec.snap_term, rec.entries, rec.n_entries) != RAFT_OK) {
		wal_recovered_free(&rec);
		sim_fail(s, "node %u: could not load its recovered log", nd->id);
		return -1;
	}
	sim_trace(s, "node %u starts (epoch %llu): term %llu vote %d commit %llu, %zu entries, %llu torn bytes cut",
		  nd->id, (unsigned long long)nd->epoch, (unsigned long long)rec.hs.term, (int)rec.hs.vote,
		  (unsigned long long)rec.hs.commit, rec.n_entries, (unsigned long long)rec.torn_bytes_cut);
	wal_recovered_free(&rec);
	kv_reset(nd);
	nd->commit_max = 0;
	nd->role = RAFT_FOLLOWER;
	nd->up = true;
	return 0;
}

/* Appends a few random bytes to the newest segment: a write the crash tore. */
static void tear_tail(sim *s, sim_node *nd)
{
	DIR *d = opendir(nd->dir);
	if (!d)
		return;
	char last[256] = "";
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l > 4 && l < sizeof last && strcmp(de->d_name + l - 4, ".wal") == 0 &&
		    strcmp(de->d_name, last) > 0)
			memcpy(last, de->d_name, l + 1);
	}
	closedir(d);
	if (!last[0])
		return;
	char path[800];
	snprintf(path, sizeof path, "%s/%s", nd->dir, last);
	int fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0)
		return;
	unsigned char junk[64];
	size_t n = 1 + sim_below(&s->rng, sizeof junk);
	for (size_t i = 0; i < n; i++)
		junk[i] = (unsigned char)sim_rand(&s->rng);
	if (sim_chance(&s->rng, 0.3))
		memset(junk, 0, n); /* a zero-filled tail, as after preallocation */
	ssize_t w = write(fd, junk, n);
	(void)w; /* a short write is just a different torn tail */
	close(fd);
	sim_trace(s, "node %u: torn tail of %zu bytes on %s", nd->id, n, last);
}

static void drop_held(sim_node *nd)
{
	for (size_t i = 0; i < nd->n_held; i++)
		sim_msg_free(nd->held[i]);
	nd->n_held = 0;
	nd->held_index = nd->held_term = 0;
	nd->sync_scheduled = false;
	nd->sync_needed = false;
}

void sim_node_maybe_lie(sim *s, sim_node *nd)
{
	if (s->fsync_lies_p <= 0 || s->lying >= 0 || !s->faults_on ||
	    !sim_chance(&s->disk_rng, s->fsync_lies_p))
		return;
	nd->fsync_lies = true;
	s->lying = (int)nd->id;
	sim_trace(s, "node %u: fsync off (its fsyncs now lie)", nd->id);
	/* the lie shows only at a crash: one comes soon, and it is back at once */
	sim_event e = { .at = s->now + 5000 + sim_below(&s->disk_rng, 200000), .kind = EV_CRASH,
			.node = nd->id, .arg = 2 };
	if (sim_queue_push(&s->q, e) != 0)
		sim_fail(s, "out of memory");
}

/* A crash of a node whose fsyncs lied: it may have acknowledged entries and
 * votes it no longer has, so it becomes amnesiac. */
static void become_amnesiac(sim *s, sim_node *nd)
{
	raft_status st;
	raft_get_status(nd->r, &st);
	uint64_t k = nd->log_len > s->applied_max ? nd->log_len : s->applied_max;
	for (int i = 0; i < s->n; i++)
		if (s->nodes[i].commit_max > k)
			k = s->nodes[i].commit_max;
	nd->fsync_lies = false;
	nd->amnesiac = true;
	nd->amnesia_commit = k;
	nd->amnesia_term = s->max_term > st.term ? s->max_term : st.term;
	sim_trace(s, "node %u: crashed with lying fsyncs: amnesiac until commit >= %llu and term > %llu",
		  nd->id, (unsigned long long)nd->amnesia_commit, (unsigned long long)nd->amnesia_term);
}

void sim_node_check_amnesia(sim *s, sim_node *nd, const raft_status *st)
{
	if (!nd->amnesiac || st->commit < nd->amnesia_commit || st->term <= nd->amnesia_term ||
	    nd->sync_needed || nd->sync_scheduled)
		return;
	nd->amnesiac = false;
	s->lying = -1;
	sim_trace(s, "node %u: rejoined (commit %llu, term %llu): votes again", nd->id,
		  (unsigned long long)st->commit, (unsigned long long)st->term);
}

bool sim_node_vote_dropped(const sim *s, const raft_msg *m)
{
	if (!s->nodes[m->from].amnesiac)
		return false;
	return m->type == RAFT_MSG_PREVOTE || m->type == RAFT_MSG_PREVOTE_RESP ||
	       m->type == RAFT_MSG_VOTE || m->type == RAFT_MSG_VOTE_RESP;
}

void sim_node_crash(sim *s, sim_node *nd)
{
	if (nd->fsync_lies)
		become_amnesiac(s, nd);
	if (wal_drop_unsynced(nd->w) != 0)
		sim_fail(s, "node %u: wal_drop_unsynced failed", nd->id);
	drop_held(nd);
	raft_free(nd->r);
	nd->r = NULL;
	wal_close(nd->w);
	nd->w = NULL;
	nd->up = false;
	nd->epoch++;
	kv_reset(nd);
	if (sim_chance(&s->rng, 0.5))
		tear_tail(s, nd);
}

void sim_node_free(sim_node *nd)
{
	if (nd->r)
		raft_free(nd->r);
	if (nd->w)
		wal_close(nd->w);
	kv_reset(nd);
	drop_held(nd);
	free(nd->held);
	free(nd->log_term);
	free(nd->log_hash);
	memset(nd, 0, sizeof *nd);
}

int sim_node_process_ready(sim *s, sim_node *nd)
{
	int guard = 0;
	while (nd->up && raft_has_ready(nd->r) && !s->failed) {
		if (++guard > 1000) {
			sim_fail(s, "node %u: ready loop does not settle", nd->id);
			return -1;
		}
		raft_ready rd;
		raft_get_ready(nd->r, &rd);
		/* 2. persist hard state and entries, fsynced */
		if (rd.hs_changed || rd.n_entries) {
			wal_batch *b = wal_batch_new();
			char err[256];
			if (!b || (rd.hs_changed && wal_batch_add_hard_state(b, &rd.hs) != 0) ||
			    (rd.n_entries && wal_batch_add_entries(b, rd.entries, rd.n_entries) != 0) ||
			    wal_write(nd->w, b, false, err, sizeof err) != 0) {
				wal_batch_free(b);
				sim_fail(s, "node %u: WAL write failed", nd->id);
				return -1;
			}
			wal_batch_free(b);
			/* a lying disk that overwrites part of its log crashes soon
			 * after: the older image comes back while the leader still
			 * counts the acknowledged overwrite (issue 10 item 3) */
			if (nd->fsync_lies && rd.n_entries && rd.entries[0].index <= nd->log_len &&
			    s->faults_on && sim_chance(&s->disk_rng, 0.5)) {
				sim_event e = { .at = s->now + 1000 + sim_below(&s->disk_rng, 40000),
						.kind = EV_CRASH, .node = nd->id, .arg = 2 };
				if (sim_queue_push(&s->q, e) != 0) {
					wal_batch_free(b);
					sim_fail(s, "out of memory");
					return -1;
				}
			}
			if (mirror_write(nd, rd.entries, rd.n_entries) < 0) {
				sim_fail(s, "node %u: ready.entries not contiguous with the log (first %llu, log %llu)",
					 nd->id, (unsigned long long)rd.entries[0].index,
					 (unsigned long long)nd->log_len);
				return -1;
			}
		}
		/* 3. send: votes and acks after the fsync of every pending
		 * must-sync write (rd.must_sync, raft_msg_waits_for_disk), the
		 * rest at once, as the node does. A commit-only hard state
		 * change was written above but needs no fsync. */
		bool must_wait = rd.must_sync || nd->sync_needed;
		if (rd.must_sync)
			nd->sync_needed = true;
		for (size_t i = 0; i < rd.n_msgs; i++) {
			if (!must_wait || !raft_msg_waits_for_disk(rd.msgs[i].type)) {
				sim_send(s, &rd.msgs[i]);
				continue;
			}
			if (nd->n_held == nd->cap_held) {
				size_t cap = nd->cap_held ? nd->cap_held * 2 : 64;
				raft_msg **h = realloc(nd->held, cap * sizeof *h);
				if (!h) {
					sim_fail(s, "out of memory");
					return -1;
				}
				nd->held = h;
				nd->cap_held = cap;
			}
			if (!(nd->held[nd->n_held] = sim_msg_copy(&rd.msgs[i]))) {
				sim_fail(s, "out of memory");
				return -1;
			}
			nd->n_held++;
		}
		if ((rd.must_sync || nd->n_held) && !nd->sync_scheduled) {
			nd->sync_scheduled = true;
			sim_event e = { .at = s->now + nd->fsync_us, .kind = EV_FSYNC, .node = nd->id, .arg = nd->epoch };
			if (sim_queue_push(&s->q, e) != 0) {
				sim_fail(s, "out of memory");
				return -1;
			}
		}
		/* 4. apply */
		for (size_t i = 0; i < rd.n_committed && !s->failed; i++)
			sim_applied(s, nd, &rd.committed[i]);
		/* 5. reads */
		for (size_t i = 0; i < rd.n_reads; i++)
			sim_read_state(s, nd, &rd.reads[i]);
		if (rd.soft_changed)
			nd->role = rd.role;
		/* a follower that just learned of a new leader may still hold the
		 * old leader's uncommitted tail: the disk fault starts then, so
		 * that the overwrite is what the lying fsync loses */
		if (rd.soft_changed && rd.leader != RAFT_NONE && rd.leader != nd->id)
			sim_node_maybe_lie(s, nd);
		uint64_t last_i = 0, last_t = 0;
		if (rd.n_entries) {
			last_i = rd.entries[rd.n_entries - 1].index;
			last_t = rd.entries[rd.n_entries - 1].term;
		}
		raft_advance(nd->r, &rd);
		if (last_i) {
			nd->held_index = last_i;
			nd->held_term = last_t;
		}
		sim_node_applied_reads(s, nd);
	}
	if (nd->up && !s->failed)
		sim_check_leader(s, nd);
	return s->failed ? -1 : 0;
}

void sim_node_fsync(sim *s, sim_node *nd)
{
	char err[256];
	wal_batch *b = wal_batch_new();
	if (!b || wal_write(nd->w, b, !nd->fsync_lies, err, sizeof err) != 0) {
		wal_batch_free(b);
		sim_fail(s, "node %u: fsync failed", nd->id);
		return;
	}
	wal_batch_free(b);
	nd->sync_scheduled = false;
	nd->sync_needed = false;
	for (size_t i = 0; i < nd->n_held; i++) {
		sim_send(s, nd->held[i]);
		sim_msg_free(nd->held[i]);
	}
	nd->n_held = 0;
	if (nd->held_index)
		raft_persisted(nd->r, nd->held_index, nd->held_term);
	nd->held_index = nd->held_term = 0;
	sim_node_process_ready(s, nd);
}
