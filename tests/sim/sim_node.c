/* sim_node.c — one simulated node: the real runtime (node/runtime: ready
 * step, WAL ordering, node/kv with its dedup, ReadIndex, peer frames through
 * the real fault filter) over the real WAL, with sim_io.c as its I/O.
 *
 * A crash keeps only what was fsynced (wal_drop_unsynced) plus, sometimes,
 * a torn final write that the WAL's recovery must cut. */
#include "sim_internal.h"

#include "../../node/common/files.h"
#include "../../node/net/wire.h"
#include "../../node/runtime/rt_boot.h"
#include "../../node/runtime/rt_incarnation_file.h"
#include "../../node/runtime/rt_members.h"
#include "../../node/runtime/rt_planted.h"

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

int sim_mirror_reserve(sim_node *nd, uint64_t n)
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
int sim_mirror_write(sim_node *nd, const raft_entry *ents, size_t n)
{
	if (n == 0)
		return 0;
	uint64_t first = ents[0].index;
	if (first == 0 || first > nd->log_len + 1)
		return -1; /* a gap: the core asked to persist non-contiguously */
	if (sim_mirror_reserve(nd, first + n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		nd->log_term[first + i] = ents[i].term;
		nd->log_hash[first + i] = entry_hash(&ents[i]);
	}
	nd->log_len = first + n - 1;
	return sim_conf_mirror(nd, ents, n);
}

/* The member list this node's dir was created with, kept beside it
 * ("<dir>.members"), checked at every restart as the node checks meta.json. */
static int check_members(sim *s, sim_node *nd)
{
	char path[600], line[128] = "";
	snprintf(path, sizeof path, "%s.members", nd->dir);
	size_t k = 0;
	for (size_t i = 0; i < nd->n_voters && k < sizeof line; i++)
		k += (size_t)snprintf(line + k, sizeof line - k, "%s%u,x", i ? ";" : "", nd->voters[i]);
	FILE *f = fopen(path, "r");
	if (!f) {
		char dir[600], name[600], err[300];
		snprintf(dir, sizeof dir, "%s", nd->dir);
		char *slash = strrchr(dir, '/');
		if (!slash)
			return -1;
		*slash = '\0';
		snprintf(name, sizeof name, "%s.members", slash + 1);
		if (files_write_atomic(dir, name, line, strlen(line), err, sizeof err) != 0) {
			sim_fail(s, "node %u: %s", nd->id, err);
			return -1;
		}
		return 0;
	}
	char stored[128] = "";
	size_t n = fread(stored, 1, sizeof stored - 1, f);
	fclose(f);
	stored[n] = '\0';
	uint32_t a[SIM_MAX_NODES];
	int na = rt_members_parse(stored, a, SIM_MAX_NODES);
	char err[400];
	if (na < 0) {
		sim_fail(s, "node %u: its member list file does not parse", nd->id);
		return -1;
	}
	if (rt_members_check(a, (size_t)na, nd->voters, nd->n_voters, err, sizeof err) != 0) {
		sim_trace(s, "node %u refuses to start: %s", nd->id, err);
		return 1;
	}
	return 0;
}

int sim_node_start(sim *s, sim_node *nd)
{
	int mc = check_members(s, nd);
	if (mc != 0)
		return mc;
	char err[256];
	wal_recovered rec;
	memset(&rec, 0, sizeof rec);
	wal_options wo = { .segment_bytes = s->segment_bytes };
	if (wal_open(nd->dir, &wo, &nd->w, &rec, err, sizeof err) != 0) {
		sim_fail(s, "node %u: WAL refused to open after a crash: %s", nd->id, err);
		return -1;
	}
	/* The node's boot nonce, from the same durable counter. Planted bug 10
	 * is the old way: the wall clock, which may have stepped back. */
	uint64_t nonce = 0;
	if (s->p.planted_bug == RT_BUG_WALL_CLOCK_NONCE) {
		nonce = (s->now + nd->wall_offset_us) << 8 | nd->id;
	} else if (rt_boot_next(nd->dir, &nonce, err, sizeof err) != 0) {
		wal_recovered_free(&rec);
		sim_fail(s, "node %u: %s", nd->id, err);
		return -1;
	}
	/* Which life of its id this is, decided as the node decides it
	 * (node/server/server.c): the stored incarnation; none and an empty
	 * WAL: probe the others (a bootstrap member: a new cluster, or a wiped
	 * node of one that exists), or, for a spare, a fresh one at once (as
	 * --join does); none but a WAL with state: 0. */
	bool inc_found = false;
	uint64_t inc = 0;
	if (inc_file_load(nd->dir, &inc_found, &inc, err, sizeof err) != 0) {
		wal_recovered_free(&rec);
		sim_fail(s, "node %u: %s", nd->id, err);
		return -1;
	}
	bool wal_empty = rec.n_entries == 0 && rec.hs.term == 0 && rec.snap_index == 0;
	uint64_t fresh_seed = s->p.seed * 0x9E3779B97F4A7C15ull ^ ((uint64_t)nd->id << 40) ^ nd->epoch;
	uint64_t fresh = splitmix64_next(&fresh_seed) | 1;
	if (!inc_found && (nd->spare || !wal_empty)) {
		inc = nd->spare && wal_empty ? fresh : 0;
		if (sim_keep_incarnation(nd, inc) != 0) {
			wal_recovered_free(&rec);
			return -1;
		}
		inc_found = true;
	}
	nd->incarnation = inc;
	raft_config c;
	raft_config_defaults(&c);
	c.id = nd->id;
	c.incarnation = inc;
	c.joining = nd->spare;
	c.voters = nd->voters;
	c.n_voters = nd->n_voters;
	c.election_ticks = 10;
	c.heartbeat_ticks = 2;
	c.pre_vote = s->pre_vote;
	c.check_quorum = true;
	/* small batches and windows make partial replication (Figure 8) reachable */
	c.max_inflight = s->max_inflight;
	c.max_msg_entries = s->max_msg_entries;
	c.seed = s->p.seed * 1000003u + nd->id * 7919u + nd->epoch;
	c.planted_bug = s->p.planted_bug;
	snprintf(nd->snapdir, sizeof nd->snapdir, "%s/snapshots", nd->dir);
	rt_options o = {
		.nonce = nonce,
		.request_timeout_ms = SIM_OP_TIMEOUT_MS,
		.faults = nd->f,
		.planted_bug = s->p.planted_bug,
		.snap_dir = nd->snapdir,
		.snap_chunk = s->xfer_chunk,
		.snap_window = s->xfer_window,
		.snap_ahead = s->xfer_ahead,
		.probe_incarnation = !inc_found,
		.fresh_incarnation = fresh,
		.snap = s->snap,
	};
	rt_io io;
	nd->s = s;
	sim_io_init(nd, &io);
	nd->rt = rt_new(&c, &o, &io);
	if (!nd->rt) {
		wal_recovered_free(&rec);
		sim_fail(s, "node %u: rt_new failed", nd->id);
		return -1;
	}
	rt_clock_anchor(nd->rt, nd->clock_ms, nd->timer_ms);
	nd->jump_ms = 0;
	nd->paused = false;
	if (sim_snap_boot(s, nd, &rec) != 0) {
		wal_recovered_free(&rec);
		return -1;
	}
	if (nd->boot_snap_index == 0) {
		nd->log_len = 0;
		nd->n_confs = 0;
		nd->cmds_n = 0;
		memset(nd->cmds, 0, 2 * nd->cmds_cap * sizeof *nd->cmds);
	} else {
		/* the CONF entries up to the snapshot stay, as the log mirror's
		 * entries do: the core's configuration is the snapshot's */
		while (nd->n_confs > 0 && nd->confs[nd->n_confs - 1].index > nd->log_len)
			nd->n_confs--;
		s->out->snapshot_boots++;
	}
	if (sim_mirror_write(nd, rec.entries, rec.n_entries) < 0 || rt_load(nd->rt, &rec) != RAFT_OK) {
		wal_recovered_free(&rec);
		sim_fail(s, "node %u: could not load its recovered log", nd->id);
		return -1;
	}
	sim_trace(s, "node %u starts (epoch %llu): term %llu vote %d commit %llu, %zu entries, %llu torn bytes cut",
		  nd->id, (unsigned long long)nd->epoch, (unsigned long long)rec.hs.term, (int)rec.hs.vote,
		  (unsigned long long)rec.hs.commit, rec.n_entries, (unsigned long long)rec.torn_bytes_cut);
	wal_recovered_free(&rec);
	nd->applied = nd->boot_snap_index;
	nd->skipped_seen = rt_kv(nd->rt)->skipped_duplicates;
	nd->commit_max = 0;
	nd->role = RAFT_FOLLOWER;
	nd->up = true;
	return 0;
}

/* The newest WAL segment's path into path; false when there is none. */
static bool newest_segment(sim_node *nd, char *path, size_t n)
{
	DIR *d = opendir(nd->dir);
	if (!d)
		return false;
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
		return false;
	snprintf(path, n, "%s/%s", nd->dir, last);
	return true;
}

static void append_bytes(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0)
		return;
	ssize_t w = write(fd, p, n);
	(void)w; /* a short write is just a different torn tail */
	close(fd);
}

/* Appends a few random bytes to the newest segment: a write the crash tore. */
static void tear_tail(sim *s, sim_node *nd)
{
	char path[800];
	if (!newest_segment(nd, path, sizeof path))
		return;
	unsigned char junk[64];
	size_t n = 1 + sim_below(&s->rng, sizeof junk);
	for (size_t i = 0; i < n; i++)
		junk[i] = (unsigned char)sim_rand(&s->rng);
	if (sim_chance(&s->rng, 0.3))
		memset(junk, 0, n); /* a zero-filled tail, as after preallocation */
	append_bytes(path, junk, n);
	sim_trace(s, "node %u: torn tail of %zu bytes", nd->id, n);
}

/* The unsynced tail of the newest segment (the write in flight: one batch
 * of many records, hard states and entries of several readies). NULL when
 * there is none or it does not fit the segment. */
static uint8_t *read_unsynced(sim_node *nd, uint64_t u, char *path, size_t pn)
{
	if (u == 0 || !newest_segment(nd, path, pn))
		return NULL;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	off_t end = lseek(fd, 0, SEEK_END);
	uint8_t *buf = (end >= (off_t)u) ? malloc(u) : NULL;
	if (buf && pread(fd, buf, u, end - (off_t)u) != (ssize_t)u) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	return buf;
}

void sim_node_maybe_lie(sim *s, sim_node *nd)
{
	if (s->fsync_lies_p <= 0 || s->lying >= 0 || !s->faults_on ||
	    !sim_chance(&s->disk_rng, s->fsync_lies_p))
		return;
	/* a lost disk like a wipe: only when every voter can vote after a
	 * crash (a new life not yet replaced in is a voter lost already) */
	if (!sim_wipe_allowed(s))
		return;
	nd->fsync_lies = true;
	s->lying = (int)nd->id;
	sim_trace(s, "node %u: fsync off (its fsyncs now lie)", nd->id);
	/* the lie shows only at a crash: one comes soon, and it is back at once */
	sim_push(s, (sim_event){ .at = s->now + 5000 + sim_below(&s->disk_rng, 200000), .kind = EV_CRASH,
				 .node = nd->id, .arg = 2 });
}

/* A crash of a node whose fsyncs lied: it may have acknowledged entries and
 * votes it no longer has, so it becomes amnesiac. */
static void become_amnesiac(sim *s, sim_node *nd)
{
	raft_status st;
	raft_get_status(rt_raft(nd->rt), &st);
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
	    rt_write_in_flight(nd->rt) || wal_unsynced_bytes(nd->w) > 0)
		return;
	nd->amnesiac = false;
	s->lying = -1;
	sim_trace(s, "node %u: rejoined (commit %llu, term %llu): votes again", nd->id,
		  (unsigned long long)st->commit, (unsigned long long)st->term);
}

/* An amnesiac node's vote traffic is dropped (decoded only then: rare). */
bool sim_node_vote_dropped(const sim *s, uint32_t from, const uint8_t *frame, size_t len)
{
	if (from >= (uint32_t)s->n || !s->nodes[from].amnesiac)
		return false;
	raft_msg m;
	const char *why = NULL;
	if (wire_decode(frame, len, &m, &why) != 0)
		return false;
	bool vote = m.type == RAFT_MSG_PREVOTE || m.type == RAFT_MSG_PREVOTE_RESP ||
		    m.type == RAFT_MSG_VOTE || m.type == RAFT_MSG_VOTE_RESP;
	wire_msg_free(&m);
	return vote;
}

/* kill -9 of a node whose fsync lies: the process dies, the machine does
 * not, so the page cache keeps everything it wrote (nothing is lost, it is
 * not amnesiac). Its next process must fsync what it finds before trusting
 * it (wal_open); a power cut comes soon after to see whether it did
 * (sim_disk.c). */
static void process_kill(sim *s, sim_node *nd)
{
	sim_trace(s, "node %u: killed (not a power cut): its unsynced writes stay in the page cache",
		  nd->id);
	nd->fsync_lies = false;
	s->lying = -1;
	rt_free(nd->rt);
	nd->rt = NULL;
	wal_close(nd->w);
	nd->w = NULL;
	nd->up = false;
	nd->epoch++;
	sim_push(s, (sim_event){ .at = s->now + 50000 + sim_below(&s->disk_rng, 300000), .kind = EV_CRASH,
				 .node = nd->id, .arg = 5 });
}

void sim_node_crash(sim *s, sim_node *nd)
{
	if (nd->fsync_lies && s->segment_bytes && sim_chance(&s->disk_rng, 0.5)) {
		process_kill(s, nd);
		return;
	}
	if (nd->fsync_lies)
		become_amnesiac(s, nd);
	/* Half the crashes tear the write in flight at any byte: the disk kept
	 * a prefix of the batch (kill -9 during a multi-page write), not all
	 * or nothing. The rest lose every unsynced byte. */
	uint64_t u = wal_unsynced_bytes(nd->w), keep = 0;
	char path[800];
	uint8_t *tail = NULL;
	if (u > 0 && sim_chance(&s->rng, 0.5)) {
		keep = sim_below(&s->rng, u + 1);
		tail = read_unsynced(nd, u, path, sizeof path);
	}
	if (wal_drop_unsynced(nd->w) != 0)
		sim_fail(s, "node %u: wal_drop_unsynced failed", nd->id);
	rt_free(nd->rt); /* its waiting requests are the clients' to give up */
	nd->rt = NULL;
	wal_close(nd->w);
	nd->w = NULL;
	nd->up = false;
	nd->epoch++;
	/* a power cut: the page cache is gone too */
	if (sim_disk_power_loss(s, nd->dir) != 0)
		sim_fail(s, "node %u: the power cut could not cut its files", nd->id);
	if (tail) {
		append_bytes(path, tail, (size_t)keep);
		sim_trace(s, "node %u: the write in flight torn after %llu of %llu bytes", nd->id,
			  (unsigned long long)keep, (unsigned long long)u);
		free(tail);
	}
	if (sim_chance(&s->rng, 0.5))
		tear_tail(s, nd);
	sim_snap_crash(s, nd);
}

void sim_node_free(sim_node *nd)
{
	rt_free(nd->rt);
	if (nd->w)
		wal_close(nd->w);
	faults_free(nd->f);
	free(nd->cmds);
	free(nd->log_term);
	free(nd->log_hash);
	free(nd->confs);
	memset(nd, 0, sizeof *nd);
}

/* Runs the ready step until the runtime has nothing left to do now. */
int sim_node_process_ready(sim *s, sim_node *nd)
{
	for (int guard = 0; nd->up && rt_has_work(nd->rt) && !s->failed; guard++) {
		if (guard > 16) {
			sim_fail(s, "node %u: ready loop does not settle", nd->id);
			return -1;
		}
		rt_process(nd->rt);
	}
	if (nd->up && !s->failed)
		sim_check_leader(s, nd);
	return s->failed ? -1 : 0;
}

void sim_node_fsync(sim *s, sim_node *nd)
{
	char err[256];
	int rc = 0;
	if (nd->write_sync) { /* a lying disk's fsync does nothing */
		wal_batch *b = wal_batch_new();
		rc = b ? wal_write(nd->w, b, !nd->fsync_lies, err, sizeof err) : -1;
		wal_batch_free(b);
	}
	if (rc != 0) {
		sim_fail(s, "node %u: fsync failed", nd->id);
		return;
	}
	rt_write_done(nd->rt, 0, NULL);
	sim_node_process_ready(s, nd);
}
