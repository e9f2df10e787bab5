/*
 * rt_snapshot.c — the node snapshotting and compacting its own log (issue
 * 11; node/snapshot/README.md steps 1, 2 and 5):
 *
 *   boot      the newest valid snapshot file plus the log after it
 *             (rt_snapshot_boot, before rt_load);
 *   trigger   after the ready step, when the policy says so (entries or
 *             bytes applied since the last one) or rt_snapshot_request
 *             asked, no writer is running, and everything applied is
 *             durable in this node's own WAL;
 *   write     io->snapshot_write: the host writes the state machine as of
 *             now (the node forks, the simulator writes and reports later);
 *   compact   once durable (rt_snapshot_written): the core's log up to the
 *             snapshot minus the trailing margin (raft_compact; the margin
 *             is entries and at most trailing_bytes of them), then the
 *             WAL and old snapshot files on the host (io->compact). The WAL
 *             keeps everything after the previous snapshot as well, so one
 *             damaged snapshot file never stops a restart: the older one
 *             plus the log still cover it.
 *
 * A lagging follower the leader's log no longer covers gets a
 * RAFT_MSG_SNAPSHOT from the core: the runtime streams it the newest
 * snapshot file (InstallSnapshot, rt_xfer.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../raft/membership.h"
#include "../wal/wal_compact.h"
#include "rt_internal.h"

void rt_snap_init(rt *r, const raft_config *rc)
{
	rt_snap *sn = &r->snap;
	size_t n = rc->n_voters < KV_SNAP_MAX_VOTERS ? rc->n_voters : KV_SNAP_MAX_VOTERS;
	for (size_t i = 0; i < n; i++)
		sn->boot_voters[i] = rc->voters[i];
	sn->n_boot_voters = (uint32_t)n;
}

void rt_snap_destroy(rt *r)
{
	free(r->snap.conf);
	r->snap.conf = NULL;
}

/* The configuration in force at the applied index: a CONF entry's data. */
void rt_snap_on_conf(rt *r, const raft_entry *e)
{
	if (e->len == 0 || e->len > KV_SNAP_CONF_MAX)
		return; /* the core would not take it either */
	uint8_t *c = malloc(e->len);
	if (c == NULL) {
		rt_fail(r, "out of memory keeping the configuration for snapshots");
		return;
	}
	memcpy(c, e->data, e->len);
	free(r->snap.conf);
	r->snap.conf = c;
	r->snap.conf_len = e->len;
}

int rt_snapshot_boot(rt *r, const char *snap_dir, wal *w, wal_recovered *rec,
		     snapshot_loaded *res, char *err, size_t errlen)
{
	kv_machine m;
	if (snapshot_load(snap_dir, rec->snap_index, &m, res, err, errlen) != 0)
		return -1;
	r->snap.durable = rec->snap_index + rec->n_entries;
	if (!res->found) {
		kv_machine_destroy(&r->kv);
		r->kv = m;
		return 0;
	}
	const kv_snap_meta *meta = &res->meta;
	char why[300];
	/* A snapshot ahead of the log, or one whose entry the log holds with
	 * another term (a received snapshot made durable, then a crash before
	 * its RESET record was: rt_xfer.c): the WAL is reset to it. */
	bool reset = false;
	int fit = RT_PLANTED(r, RT_BUG_BOOT_SNAPSHOT_NOT_FITTED)
			  ? wal_recovered_skip_to(rec, meta->index, meta->term, why, sizeof why)
			  : wal_fit_snapshot(w, rec, meta->index, meta->term, &reset, why, sizeof why);
	if (fit != 0) {
		snprintf(err, errlen, "snapshot %s does not fit the log, and resetting the WAL to it failed: %s; refusing to start",
			 res->path, why);
		kv_machine_destroy(&m);
		return -1;
	}
	if (meta->term > rec->hs.term) {
		/* Only after a disk lost fsynced state (the hard state is
		 * older than entries this node applied): a term at least the
		 * snapshot's, no vote in it. */
		rec->hs.term = meta->term;
		rec->hs.vote = RAFT_NONE;
	}
	if (meta->conf_len > 0 &&
	    raft_set_snapshot_conf(r->raft, meta->conf, meta->conf_len) != RAFT_OK) {
		snprintf(err, errlen, "snapshot %s: the core refuses its configuration; refusing to start",
			 res->path);
		kv_machine_destroy(&m);
		return -1;
	}
	if (meta->conf_len > 0) {
		raft_entry e = {.type = RAFT_ENTRY_CONF, .index = meta->index,
				.data = (uint8_t *)meta->conf, .len = meta->conf_len};
		rt_snap_on_conf(r, &e);
		if (r->failed) {
			kv_machine_destroy(&m);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	if (RT_PLANTED(r, RT_BUG_SNAPSHOT_NO_DEDUP)) {
		/* the bug: the dedup record is not restored with the snapshot */
		kv_dedup_free(m.dedup);
		m.dedup = kv_dedup_new();
		if (m.dedup == NULL) {
			kv_machine_destroy(&m);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	kv_machine_destroy(&r->kv);
	r->kv = m;
	r->applied = meta->index;
	r->applied_term = meta->term;
	r->snap.index = meta->index;
	r->snap.term = meta->term;
	/* The next older file, if any: the WAL keeps what follows it. */
	snapshot_file *files;
	size_t n;
	if (snapshot_list(snap_dir, &files, &n, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (files[i].index < meta->index) {
			r->snap.prev_index = files[i].index;
			break;
		}
	/* Newer files were all passed over as damaged: set them aside (kept
	 * for a look, out of the list), or pruning would keep them and drop
	 * the older valid ones the WAL still relies on. */
	for (size_t i = 0; i < n && files[i].index > meta->index; i++) {
		char from[700], to[720];
		snprintf(from, sizeof from, "%s/%s", snap_dir, files[i].name);
		snprintf(to, sizeof to, "%s.damaged", from);
		if (rename(from, to) != 0) {
			snprintf(err, errlen, "cannot set the damaged %s aside: %s", from, strerror(errno));
			free(files);
			return -1;
		}
	}
	free(files);
	/* After a fallback only one valid file is left: the next snapshot is
	 * due at once, so a second damaged file does not stop a restart. */
	if (res->skipped > 0) {
		r->snap.wanted_seq = r->snap.started_seq + 1;
		r->snap.wanted_ms = r->io.now_ms(r->io.ud);
	}
	if (r->snap.durable < meta->index)
		r->snap.durable = meta->index;
	return 0;
}

uint64_t rt_snapshot_request(rt *r, uint64_t *index)
{
	rt_snap *sn = &r->snap;
	*index = sn->index;
	if (r->io.snapshot_write == NULL)
		return UINT64_MAX; /* this host takes no snapshots */
	if (sn->state == RT_SNAP_IDLE && r->applied == sn->index && sn->index > 0)
		return 0; /* the newest durable snapshot holds everything applied */
	/* The next snapshot to start is taken after this request arrived. */
	if (sn->wanted_seq <= sn->started_seq)
		sn->wanted_ms = r->io.now_ms(r->io.ud);
	sn->wanted_seq = sn->started_seq + 1;
	r->io.kick(r->io.ud);
	return sn->wanted_seq;
}

uint64_t rt_snapshot_index(const rt *r)
{
	return r->snap.index;
}

void rt_snapshot_installed(rt *r, const kv_snap_meta *meta)
{
	rt_snap *sn = &r->snap;
	if (meta->conf_len > 0) {
		raft_entry e = {.type = RAFT_ENTRY_CONF, .index = meta->index,
				.data = (uint8_t *)meta->conf, .len = meta->conf_len};
		rt_snap_on_conf(r, &e);
	}
	r->applied = meta->index;
	r->applied_term = meta->term;
	if (meta->index > sn->index) {
		sn->prev_index = sn->index;
		sn->index = meta->index;
		sn->term = meta->term;
	}
	sn->bytes_since = 0;
	if (sn->durable < meta->index)
		sn->durable = meta->index;
}

/* The voters of the configuration at the applied index, for the snapshot's
 * CONFIG record (the conf bytes are what a restart takes). */
static void fill_voters(rt *r, kv_snap_meta *meta)
{
	rt_snap *sn = &r->snap;
	meta->n_voters = 0;
	if (sn->conf_len > 0) {
		member_conf *c = malloc(sizeof *c);
		if (c != NULL && membership_decode(sn->conf, sn->conf_len, c) == RAFT_OK)
			for (size_t i = 0; i < c->n && meta->n_voters < KV_SNAP_MAX_VOTERS; i++)
				if (c->m[i].voter)
					meta->voters[meta->n_voters++] = c->m[i].id;
		free(c);
		memcpy(meta->conf, sn->conf, sn->conf_len);
		meta->conf_len = sn->conf_len;
		return;
	}
	for (uint32_t i = 0; i < sn->n_boot_voters; i++)
		meta->voters[meta->n_voters++] = sn->boot_voters[i];
}

void rt_snapshot_maybe(rt *r)
{
	rt_snap *sn = &r->snap;
	if (r->io.snapshot_write == NULL || sn->state != RT_SNAP_IDLE || r->failed || r->stopping ||
	    r->paused)
		return;
	bool forced = sn->wanted_seq > sn->started_seq;
	if (r->applied == 0 || r->applied <= sn->index) {
		if (forced && r->applied == sn->index && sn->index > 0) {
			/* asked while one was being written that covers all */
			sn->started_seq++;
			if (r->io.on_snapshot != NULL)
				r->io.on_snapshot(r->io.ud, sn->started_seq, true, sn->index, NULL);
		}
		return;
	}
	if (!forced && !snapshot_due(&r->o.snap, r->applied, sn->index, sn->bytes_since))
		return;
	uint64_t now = r->io.now_ms(r->io.ud);
	if (!forced && now < sn->retry_at_ms)
		return;
	/* Only what this node's own WAL holds durably: the log after the
	 * snapshot must continue it on restart. */
	if (r->applied > sn->durable)
		return;
	kv_snap_meta *meta = calloc(1, sizeof *meta);
	if (meta == NULL)
		return; /* the next ready step tries again */
	meta->index = r->applied;
	meta->term = r->applied_term;
	fill_voters(r, meta);
	if (meta->n_voters == 0) {
		free(meta);
		return; /* a joining node that was never given a configuration */
	}
	if (forced)
		r->st.snapshot_wait_ms = now >= sn->wanted_ms ? now - sn->wanted_ms : 0;
	sn->started_seq++;
	sn->w_index = meta->index;
	sn->w_term = meta->term;
	sn->w_bytes_since = sn->bytes_since;
	sn->w_started_ms = now;
	sn->state = RT_SNAP_WRITING;
	int rc = r->io.snapshot_write(r->io.ud, &r->kv, meta);
	free(meta);
	if (rc != 0)
		rt_snapshot_written(r, -1, 0, "the snapshot writer could not start");
}

void rt_snapshot_written(rt *r, int rc, uint64_t bytes, const char *err)
{
	rt_snap *sn = &r->snap;
	if (sn->state != RT_SNAP_WRITING)
		return;
	uint64_t seq = sn->started_seq;
	if (rc != 0) {
		sn->state = RT_SNAP_IDLE;
		r->st.snapshots_failed++;
		sn->retry_at_ms = r->io.now_ms(r->io.ud) + 1000;
		if (r->io.on_snapshot != NULL)
			r->io.on_snapshot(r->io.ud, seq, false, sn->w_index, err != NULL ? err : "?");
		return;
	}
	r->st.snapshots_written++;
	r->st.snapshot_bytes = bytes;
	r->st.snapshot_write_ms = r->io.now_ms(r->io.ud) - sn->w_started_ms;
	if (sn->w_index <= sn->index) {
		/* A snapshot installed while this one was written (rt_xfer.c)
		 * is newer: it stays the node's snapshot (snapshot_index never
		 * goes back), and the log, reset at the install, has nothing
		 * before it to compact. Whoever asked gets the newer index: it
		 * holds everything this one does. The older file goes with the
		 * next prune. */
		sn->state = RT_SNAP_IDLE;
		if (r->io.on_snapshot != NULL)
			r->io.on_snapshot(r->io.ud, seq, true, sn->index, NULL);
		r->io.kick(r->io.ud);
		return;
	}
	uint64_t prev = sn->index;
	sn->index = sn->w_index;
	sn->term = sn->w_term;
	/* Bytes applied while it was written count towards the next one. */
	sn->bytes_since = sn->bytes_since >= sn->w_bytes_since ? sn->bytes_since - sn->w_bytes_since : 0;
	if (r->io.on_snapshot != NULL)
		r->io.on_snapshot(r->io.ud, seq, true, sn->index, NULL);
	/* The core's log behind the trailing margin leaves memory; the WAL also
	 * keeps everything after the previous snapshot (see the top). */
	uint64_t mem_to = snapshot_compact_to(&r->o.snap, sn->index);
	if (r->o.snap.trailing_bytes > 0) {
		uint64_t by_bytes = raft_compact_keeping_bytes(r->raft, sn->index, r->o.snap.trailing_bytes);
		if (by_bytes > mem_to)
			mem_to = by_bytes;
	}
	uint64_t wal_to = mem_to < prev ? mem_to : prev;
	if (RT_PLANTED(r, RT_BUG_COMPACT_WAL_TO_SNAPSHOT))
		wal_to = sn->index; /* the bug: no margin, no older snapshot to fall back on */
	sn->prev_index = prev;
	if (mem_to > 0 && raft_compact(r->raft, mem_to) != RAFT_OK)
		r->st.snapshot_compact_refused++;
	/* The CONF entries compacted away: the configuration at the applied
	 * index becomes the core's base (it is in force unless a newer CONF
	 * entry, still in the log, is), or a truncation after the compaction
	 * would fall back to an older one (simulator seed 20). */
	else if (mem_to > 0 && sn->conf_len > 0)
		(void)raft_set_snapshot_conf(r->raft, sn->conf, sn->conf_len);
	sn->state = RT_SNAP_COMPACTING;
	r->io.compact(r->io.ud, wal_to, sn->index);
}

void rt_snapshot_compacted(rt *r)
{
	if (r->snap.state != RT_SNAP_COMPACTING)
		return;
	r->snap.state = RT_SNAP_IDLE;
	r->io.kick(r->io.ud);
}
