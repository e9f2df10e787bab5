/*
 * sim_snap.c — snapshots of a simulated node: the runtime's snapshot_write
 * and compact operations on the event queue, damage to snapshot files at
 * crashes, and the invariants:
 *
 *   - every snapshot written at index i holds the same state (a digest of
 *     the KV map and the dedup record) as every other written at i, on any
 *     node;
 *   - a node restarted from a snapshot at i holds exactly that state (a
 *     snapshot that lost its dedup record, or a wrong one, differs);
 *   - a damaged snapshot file is never loaded, and never stops a restart:
 *     the older snapshot plus the log must still cover it;
 *   - nothing acknowledged is lost (the client history is checked by the
 *     linearizability checker, as in every seed).
 *
 * A write goes to a staging dir at once and is renamed into the snapshot
 * dir when its EV_SNAP_DONE comes; a crash before that leaves a torn
 * temporary file in the snapshot dir (the writer died mid-write), which
 * must be ignored and pruned.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../node/kv/kv_dedup.h"
#include "../../node/kv/kv_store.h"
#include "sim_internal.h"

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static int digest_kv(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	uint64_t *sum = ctx;
	uint64_t h = mix(1469598103934665603ull, key, klen);
	h = mix(h ^ 0xff, val, vlen);
	*sum += h * 0x9E3779B97F4A7C15ull; /* order-independent */
	return 0;
}

uint64_t sim_kv_digest(const kv_machine *m)
{
	uint64_t sum = kv_store_count(m->store);
	if (kv_store_foreach(m->store, digest_kv, &sum) != 0)
		return 0;
	uint64_t d = 0;
	for (size_t i = 0; i < kv_dedup_window_count(m->dedup); i++) {
		kv_dedup_window_state w;
		kv_dedup_window_get(m->dedup, i, &w);
		uint64_t h = mix(7, &w.origin, sizeof w.origin);
		h = mix(h, &w.nonce, sizeof w.nonce);
		h = mix(h, &w.high, sizeof w.high);
		h = mix(h, w.bits, KV_DEDUP_WORDS * sizeof *w.bits);
		d += h;
	}
	return sum * 31 + d;
}

void sim_snap_record(sim *s, sim_node *nd, uint64_t index, uint64_t digest, const char *when)
{
	if (sim_grow_u64(&s->snap_digest, &s->snap_digest_cap, index, 0) != 0) {
		sim_fail(s, "out of memory");
		return;
	}
	uint64_t *d = &s->snap_digest[index];
	if (*d == 0) {
		*d = digest | 1; /* 0 = none recorded */
		return;
	}
	if (*d != (digest | 1))
		sim_fail(s, "snapshot: node %u's state at index %" PRIu64 " (%s) differs from the state "
			 "recorded there by an earlier snapshot",
			 nd->id, index, when);
}

/* EV_SNAP_DONE: the write is durable (renamed into place). */
void sim_snap_done(sim *s, sim_node *nd)
{
	if (!nd->snap_writing)
		return;
	nd->snap_writing = false;
	/* An own write that started before an install is older than the
	 * installed snapshot: the log still starts after the installed one. */
	if (nd->snap_w_index > nd->only_one_index)
		nd->snap_only_one = false;
	char *from = snapshot_path(nd->stagedir, nd->snap_w_index, nd->snap_w_term);
	char *to = snapshot_path(nd->snapdir, nd->snap_w_index, nd->snap_w_term);
	if (mkdir(nd->snapdir, 0700) != 0 && errno != EEXIST) {
		free(from);
		free(to);
		sim_fail(s, "node %u: cannot create %s", nd->id, nd->snapdir);
		return;
	}
	int rc = from && to ? rename(from, to) : -1;
	free(from);
	free(to);
	if (rc != 0) {
		sim_fail(s, "node %u: cannot move its snapshot into place", nd->id);
		return;
	}
	sim_trace(s, "node %u: snapshot at %" PRIu64 " durable (%" PRIu64 " bytes)", nd->id,
		  nd->snap_w_index, nd->snap_w_bytes);
	s->out->snapshots++;
	/* The node's snapshot index (status snapshot_index) never goes back:
	 * an own write older than a snapshot installed meanwhile is durable,
	 * but the installed one stays the node's snapshot. */
	uint64_t before = rt_snapshot_index(nd->rt);
	rt_snapshot_written(nd->rt, 0, nd->snap_w_bytes, NULL);
	if (rt_snapshot_index(nd->rt) < before) {
		sim_fail(s, "node %u: its snapshot index went back from %" PRIu64 " to %" PRIu64
			 " when its own snapshot at %" PRIu64 " became durable",
			 nd->id, before, rt_snapshot_index(nd->rt), nd->snap_w_index);
		return;
	}
	sim_node_process_ready(s, nd);
}

static void copy_prefix(const char *from, const char *to, uint64_t n)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	uint8_t buf[4096];
	while (in >= 0 && out >= 0 && n > 0) {
		ssize_t r = read(in, buf, n < sizeof buf ? n : sizeof buf);
		if (r <= 0 || write(out, buf, (size_t)r) != r)
			break;
		n -= (uint64_t)r;
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
}

/* Damages the newest snapshot file: a flipped bit or a cut tail. */
static void damage_newest(sim *s, sim_node *nd)
{
	snapshot_file *files;
	size_t n;
	char err[200];
	if (snapshot_list(nd->snapdir, &files, &n, err, sizeof err) != 0 || n == 0) {
		if (n == 0)
			free(files);
		return;
	}
	char path[800];
	snprintf(path, sizeof path, "%s/%s", nd->snapdir, files[0].name);
	uint64_t index = files[0].index;
	free(files);
	int fd = open(path, O_RDWR);
	if (fd < 0)
		return;
	off_t size = lseek(fd, 0, SEEK_END);
	if (size <= 0) {
		close(fd);
		return;
	}
	bool cut = sim_chance(&s->snap_rng, 0.5);
	if (cut) {
		off_t keep = (off_t)sim_below(&s->snap_rng, (uint64_t)size);
		if (ftruncate(fd, keep) != 0) {
			close(fd);
			return;
		}
		sim_trace(s, "node %u: snapshot %" PRIu64 " truncated to %lld of %lld bytes", nd->id, index,
			  (long long)keep, (long long)size);
	} else {
		off_t at = (off_t)sim_below(&s->snap_rng, (uint64_t)size);
		uint8_t b;
		if (pread(fd, &b, 1, at) != 1) {
			close(fd);
			return;
		}
		b ^= (uint8_t)(1u << sim_below(&s->snap_rng, 8));
		if (pwrite(fd, &b, 1, at) != 1) {
			close(fd);
			return;
		}
		sim_trace(s, "node %u: snapshot %" PRIu64 " bit flipped at byte %lld", nd->id, index,
			  (long long)at);
	}
	close(fd);
	nd->damaged_index = index;
}

/* At a crash: the writer dies with the node (a torn temporary file may
 * stay), and sometimes the disk damages the newest snapshot file. */
void sim_snap_crash(sim *s, sim_node *nd)
{
	if (nd->snap_writing) {
		nd->snap_writing = false;
		char *from = snapshot_path(nd->stagedir, nd->snap_w_index, nd->snap_w_term);
		if (from != NULL) {
			if (sim_chance(&s->snap_rng, 0.5)) {
				char tmp[800];
				snprintf(tmp, sizeof tmp, "%s/snapshot-%020" PRIu64 "-%d.tmp", nd->snapdir,
					 nd->snap_w_index, 4242);
				uint64_t keep = sim_below(&s->snap_rng, nd->snap_w_bytes + 1);
				copy_prefix(from, tmp, keep);
				sim_trace(s, "node %u: crashed while writing snapshot %" PRIu64
					  " (%" PRIu64 " of %" PRIu64 " bytes left in a temporary file)",
					  nd->id, nd->snap_w_index, keep, nd->snap_w_bytes);
			}
			unlink(from);
			free(from);
		}
	}
	/* One damaged file at a time, and not while the WAL was reset to the
	 * newest snapshot (after a lying disk lost the log behind it: then no
	 * older one covers the gap, a double fault the node rightly refuses). */
	if (s->snap_damage_p > 0 && nd->damaged_index == 0 && !nd->snap_only_one &&
	    sim_chance(&s->snap_rng, s->snap_damage_p))
		damage_newest(s, nd);
}

/* POST /admin/snapshot: the answer (sim_snap_answered, or at once) must be
 * a durable snapshot holding at least what was applied when it was asked. */
void sim_snap_request(sim *s, sim_node *nd)
{
	if (nd->req_seq != 0)
		return; /* one at a time */
	uint64_t index = 0, applied = rt_applied(nd->rt);
	uint64_t seq = rt_snapshot_request(nd->rt, &index);
	sim_trace(s, "node %u: snapshot requested at applied %" PRIu64 " (seq %" PRIu64 ")", nd->id, applied, seq);
	if (seq == 0) {
		if (index < applied)
			sim_fail(s, "node %u: a snapshot request was answered with %" PRIu64 " at applied %" PRIu64,
				 nd->id, index, applied);
		return;
	}
	nd->req_seq = seq;
	nd->req_applied = applied;
	rt_process(nd->rt); /* what the node's kick does: the ready step, which starts it */
}

void sim_snap_answered(sim *s, sim_node *nd, uint64_t seq, bool ok, uint64_t index)
{
	if (nd->req_seq == 0 || seq < nd->req_seq)
		return;
	if (!ok)
		sim_fail(s, "node %u: a requested snapshot failed", nd->id);
	else if (index < nd->req_applied)
		sim_fail(s, "node %u: a snapshot request made at applied %" PRIu64 " was answered with %" PRIu64,
			 nd->id, nd->req_applied, index);
	else if (rt_snapshot_index(nd->rt) < index)
		sim_fail(s, "node %u: a snapshot request was answered before its snapshot was durable", nd->id);
	nd->req_seq = 0;
}

/* At start: the newest valid snapshot and the log after it, as the node
 * boots (rt_snapshot_boot). 0, or -1 after sim_fail. */
int sim_snap_boot(sim *s, sim_node *nd, wal_recovered *rec)
{
	snapshot_loaded res;
	char err[700];
	uint64_t old_len = nd->log_len;
	uint64_t wal_end = rec->snap_index + rec->n_entries;
	if (rt_snapshot_boot(nd->rt, nd->snapdir, nd->w, rec, &res, err, sizeof err) != 0) {
		sim_fail(s, "node %u cannot restart: %s", nd->id, err);
		return -1;
	}
	nd->boot_snap_index = res.found ? res.meta.index : 0;
	nd->req_seq = 0; /* the request died with the process */
	if (res.found && res.meta.index > wal_end) {
		nd->snap_only_one = true; /* the WAL was reset to it */
		nd->only_one_index = res.meta.index;
	}
	if (nd->damaged_index != 0) {
		if (res.found && res.meta.index >= nd->damaged_index) {
			sim_fail(s, "node %u loaded snapshot %" PRIu64 " although snapshot %" PRIu64
				 " was damaged", nd->id, res.meta.index, nd->damaged_index);
			return -1;
		}
		if (res.skipped == 0) {
			sim_fail(s, "node %u: the damaged snapshot %" PRIu64 " went unnoticed", nd->id,
				 nd->damaged_index);
			return -1;
		}
		sim_trace(s, "node %u: damaged snapshot passed over: %s", nd->id, res.skipped_why);
		/* The damaged file is set aside: until a newer one is durable the
		 * one loaded may have no older file behind it (pruned), so a
		 * second damage would be a double fault. */
		nd->snap_only_one = true;
		nd->only_one_index = res.found ? res.meta.index : 0;
		nd->damaged_index = 0;
	}
	if (!res.found)
		return 0;
	sim_snap_record(s, nd, res.meta.index, sim_kv_digest(rt_kv(nd->rt)), "restarted from it");
	/* The log mirror keeps the entries up to the snapshot (committed, so
	 * unchanged); the recovered log follows. */
	if (old_len < res.meta.index) {
		sim_fail(s, "node %u: snapshot %" PRIu64 " is past what its log ever held (%" PRIu64 ")",
			 nd->id, res.meta.index, old_len);
		return -1;
	}
	nd->log_len = res.meta.index;
	if (sim_cmds_rebuild(nd, nd->cmds_cap ? nd->cmds_cap : 256, res.meta.index) != 0) {
		sim_fail(s, "out of memory");
		return -1;
	}
	sim_trace(s, "node %u: starts from snapshot %" PRIu64 " (term %" PRIu64 ")%s", nd->id,
		  res.meta.index, res.meta.term, res.skipped ? " after a damaged newer one" : "");
	return 0;
}
