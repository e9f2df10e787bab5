/*
 * rt_wal.c — what waits for which write: WAL ordering with group commit.
 *
 * Each ready adds its hard state and entries to next_batch and queues a unit
 * holding its encoded held messages. When no write is in flight, next_batch
 * and all queued units become one write (io->write: one write + one fsync
 * when any ready in it must sync, however many readies it carries); meanwhile new readies accumulate into
 * the next batch. When the host reports the write durable (rt_write_done),
 * units are released in order: their frames go out and raft_persisted
 * reports the last entry, so no vote or acknowledgement overtakes the disk.
 *
 * A failed write or fsync is fatal: after a failed fsync the page cache may
 * hold data the disk does not, so continuing could acknowledge lost writes.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../wal/wal_compact.h"
#include "rt_internal.h"

int rt_wal_init(rt_wal *w)
{
	w->next_batch = wal_batch_new();
	return w->next_batch != NULL ? 0 : -1;
}

static void free_units(wal_unit *u)
{
	while (u != NULL) {
		wal_unit *next = u->next;
		for (size_t i = 0; i < u->n_frames; i++)
			free(u->frames[i].data);
		free(u->frames);
		free(u);
		u = next;
	}
}

void rt_wal_destroy(rt_wal *w)
{
	free_units(w->queued);
	free_units(w->job_units);
	wal_batch_free(w->next_batch);
	wal_batch_free(w->spare);
	w->spare = NULL;
	w->queued = w->job_units = NULL;
	w->next_batch = NULL;
}

static void drop_frames(held_frame *frames, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(frames[i].data);
	free(frames);
}

static void send_frames(rt *r, held_frame *frames, size_t n)
{
	for (size_t i = 0; i < n; i++)
		peer_send(r, frames[i].to, frames[i].data, frames[i].len);
	free(frames);
}

static int queue_hs(rt *r, const raft_hard_state *hs, held_frame *frames, size_t n_frames)
{
	if (wal_batch_add_hard_state(r->wal.next_batch, hs) != 0) {
		rt_fail(r, "out of memory queueing the hard state for the WAL");
		drop_frames(frames, n_frames);
		return -1;
	}
	r->wal.queued_hs = *hs;
	return 0;
}

void rt_wal_add(rt *r, const raft_ready *rd, held_frame *frames, size_t n_frames)
{
	rt_wal *w = &r->wal;
	bool persists = rd->hs_changed || rd->n_entries > 0 || rd->install;
	/* An installed snapshot (rt_xfer.c): the log is reset to it, atomically
	 * with what follows in this batch; records before it in the batch are
	 * superseded. The ready must sync, so its acknowledgement of the
	 * install waits until the reset is durable. */
	if (rd->install && wal_batch_add_reset(w->next_batch, rd->install_index, rd->install_term) != 0) {
		rt_fail(r, "out of memory queueing a WAL reset for an installed snapshot");
		drop_frames(frames, n_frames);
		return;
	}
	/* The commit index goes after the entries it covers: a batch torn at any
	 * byte (kill -9 in a multi-page write, a truncated tail) keeps a prefix
	 * of it, and a persisted commit must never run ahead of the persisted
	 * entries, or a restart applies entries the new leader had overwritten.
	 * A new term or vote goes before the entries (they may carry that term,
	 * and raft_load refuses entries newer than the hard state's term), with
	 * the commit already on disk. */
	bool hs_first = RT_PLANTED(r, RT_BUG_HS_BEFORE_ENTRIES);
	if (rd->hs_changed && rd->n_entries > 0 && !hs_first &&
	    (rd->hs.term != w->queued_hs.term || rd->hs.vote != w->queued_hs.vote)) {
		raft_hard_state pre = rd->hs;
		pre.commit = w->queued_hs.commit;
		if (queue_hs(r, &pre, frames, n_frames) != 0)
			return;
	}
	if (rd->hs_changed && (hs_first || rd->n_entries == 0) && queue_hs(r, &rd->hs, frames, n_frames) != 0)
		return;
	if (rd->n_entries > 0) {
		if (wal_batch_add_entries(w->next_batch, rd->entries, rd->n_entries) != 0) {
			rt_fail(r, "out of memory queueing entries for the WAL");
			drop_frames(frames, n_frames);
			return;
		}
		w->next_entries += rd->n_entries;
		if (rd->hs_changed && !hs_first && queue_hs(r, &rd->hs, frames, n_frames) != 0)
			return;
	}
	/* The must-sync rule (raft.h steps 2-3): the held frames wait only for
	 * a must-sync write, this ready's or one still pending. Otherwise they
	 * go now, and a commit-only hard state is written without an fsync. */
	bool pending_sync = (w->busy || w->done_while_paused) && w->job_must_sync;
	bool wait = rd->must_sync || w->next_must_sync || pending_sync;
	if (rd->must_sync)
		w->next_must_sync = true;
	if (!wait) {
		send_frames(r, frames, n_frames);
		frames = NULL;
		n_frames = 0;
	}
	/* Nothing to persist and nothing ahead of it: the messages depend on no
	 * pending write, so they go now. */
	if (!persists && !w->busy && w->queued == NULL) {
		send_frames(r, frames, n_frames);
		return;
	}
	if (rd->n_entries == 0 && n_frames == 0) {
		free(frames);
		return;
	}
	wal_unit *u = calloc(1, sizeof *u);
	if (u == NULL) {
		rt_fail(r, "out of memory queueing a WAL unit");
		drop_frames(frames, n_frames);
		return;
	}
	u->frames = frames;
	u->n_frames = n_frames;
	if (rd->n_entries > 0) {
		u->has_entries = true;
		u->last_index = rd->entries[rd->n_entries - 1].index;
		u->last_term = rd->entries[rd->n_entries - 1].term;
	}
	if (w->queued_tail != NULL)
		w->queued_tail->next = u;
	else
		w->queued = u;
	w->queued_tail = u;
}

/* In order: frames out, then persisted marks to the core. */
static void release_units(rt *r, wal_unit *u)
{
	while (u != NULL) {
		wal_unit *next = u->next;
		send_frames(r, u->frames, u->n_frames);
		if (u->has_entries) {
			raft_persisted(r->raft, u->last_index, u->last_term);
			r->snap.durable = u->last_index;
		}
		free(u);
		u = next;
	}
	r->io.kick(r->io.ud);
}

void rt_write_done(rt *r, int rc, const char *err)
{
	rt_wal *w = &r->wal;
	w->busy = false;
	if (rc != 0) {
		char what[320];
		snprintf(what, sizeof what,
			 "WAL write failed, stopping (never continue after a failed fsync): %s",
			 err != NULL ? err : "?");
		rt_fail(r, what);
		return;
	}
	r->st.wal_writes++;
	/* A paused node does nothing at all (issue 10 item 8): the write is
	 * done, but its frames and persisted marks wait for the resume. */
	if (r->paused && !RT_PLANTED(r, RT_BUG_RELEASE_WHILE_PAUSED)) {
		w->done_while_paused = true;
		return;
	}
	wal_unit *units = w->job_units;
	w->job_units = NULL;
	release_units(r, units);
	rt_wal_kick(r);
}

/* A batch of up to this many bytes is kept for the next write; a bigger one
 * (a burst of large values) goes back to the allocator with its buffer. */
#define RT_WAL_KEEP_BYTES ((size_t)1 << 20)

void rt_wal_recycle(rt *r, wal_batch *b)
{
	if (b == NULL)
		return;
	if (r->wal.spare != NULL || wal_batch_bytes(b) > RT_WAL_KEEP_BYTES) {
		wal_batch_free(b);
		return;
	}
	wal_batch_clear(b);
	r->wal.spare = b;
}

bool rt_write_in_flight(const rt *r)
{
	return r->wal.busy;
}

void rt_wal_resume(rt *r)
{
	rt_wal *w = &r->wal;
	if (!w->done_while_paused)
		return;
	w->done_while_paused = false;
	wal_unit *units = w->job_units;
	w->job_units = NULL;
	release_units(r, units);
	rt_wal_kick(r);
}

void rt_wal_kick(rt *r)
{
	rt_wal *w = &r->wal;
	if (w->busy || w->done_while_paused || r->failed)
		return;
	if (wal_batch_empty(w->next_batch)) {
		/* Only messages waited (behind a write that has now finished). */
		wal_unit *units = w->queued;
		w->queued = w->queued_tail = NULL;
		if (units != NULL)
			release_units(r, units);
		return;
	}
	wal_batch *fresh = w->spare != NULL ? w->spare : wal_batch_new();
	w->spare = NULL;
	if (fresh == NULL) {
		rt_fail(r, "out of memory starting a WAL write");
		return;
	}
	wal_batch *b = w->next_batch;
	size_t n = w->next_entries;
	w->job_units = w->queued;
	w->job_must_sync = w->next_must_sync;
	w->next_must_sync = false;
	w->next_batch = fresh;
	w->next_entries = 0;
	w->queued = w->queued_tail = NULL;
	w->busy = true;
	r->st.wal_entries += n;
	r->io.write(r->io.ud, b, n, w->job_must_sync);
}
