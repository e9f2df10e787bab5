/*
 * wal_pipeline.c — durable writes off the loop thread, with group commit.
 *
 * Each ready adds its hard state and entries to next_batch and queues a unit
 * holding its encoded messages. When no write is in flight, next_batch and
 * all queued units become one job: wal_write (+ one fsync) runs on a libuv
 * threadpool worker; meanwhile new readies accumulate into the next batch.
 * On completion, back on the loop, units are released in order: their frames
 * go out through peer_io and raft_persisted reports the last entry, so no
 * vote or append acknowledgement ever overtakes the disk.
 *
 * A failed write or fsync is fatal: after a failed fsync the page cache may
 * hold data the disk does not, so continuing could acknowledge lost writes.
 */
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "server_internal.h"

int wal_pipeline_init(wal_pipeline *wp)
{
	wp->next_batch = wal_batch_new();
	return wp->next_batch != NULL ? 0 : -1;
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

void wal_pipeline_destroy(wal_pipeline *wp)
{
	free_units(wp->queued);
	free_units(wp->job_units);
	wal_batch_free(wp->next_batch);
	wal_batch_free(wp->job_batch);
	wp->queued = wp->job_units = NULL;
	wp->next_batch = wp->job_batch = NULL;
}

static void send_frames(server *s, held_frame *frames, size_t n)
{
	for (size_t i = 0; i < n; i++)
		peer_io_send(s, frames[i].to, frames[i].data, frames[i].len);
	free(frames);
}

void wal_pipeline_add(server *s, const raft_ready *rd, held_frame *frames, size_t n_frames)
{
	wal_pipeline *wp = &s->wp;
	bool persists = rd->hs_changed || rd->n_entries > 0;
	if (rd->hs_changed && wal_batch_add_hard_state(wp->next_batch, &rd->hs) != 0)
		server_fatal("out of memory queueing the hard state for the WAL");
	if (rd->n_entries > 0) {
		if (wal_batch_add_entries(wp->next_batch, rd->entries, rd->n_entries) != 0)
			server_fatal("out of memory queueing %zu entries for the WAL", rd->n_entries);
		wp->next_entries += rd->n_entries;
	}
	/* The must-sync rule (raft.h steps 2-3): the held frames wait only for
	 * a must-sync write, this ready's or one still pending. Otherwise they
	 * go now, and a commit-only hard state is written without an fsync. */
	bool wait = rd->must_sync || wp->next_must_sync || (wp->busy && wp->job_must_sync);
	if (rd->must_sync)
		wp->next_must_sync = true;
	if (!wait) {
		send_frames(s, frames, n_frames);
		frames = NULL;
		n_frames = 0;
	}
	if (!persists && !wp->busy && wp->queued == NULL) {
		send_frames(s, frames, n_frames);
		return;
	}
	if (rd->n_entries == 0 && n_frames == 0) {
		free(frames);
		return;
	}
	wal_unit *u = calloc(1, sizeof *u);
	if (u == NULL)
		server_fatal("out of memory queueing a WAL unit");
	u->frames = frames;
	u->n_frames = n_frames;
	if (rd->n_entries > 0) {
		u->has_entries = true;
		u->last_index = rd->entries[rd->n_entries - 1].index;
		u->last_term = rd->entries[rd->n_entries - 1].term;
	}
	if (wp->queued_tail != NULL)
		wp->queued_tail->next = u;
	else
		wp->queued = u;
	wp->queued_tail = u;
}

/* In order: frames out, then persisted marks to the core. */
static void release_units(server *s, wal_unit *u)
{
	while (u != NULL) {
		wal_unit *next = u->next;
		send_frames(s, u->frames, u->n_frames);
		if (u->has_entries)
			raft_persisted(s->raft, u->last_index, u->last_term);
		free(u);
		u = next;
	}
	server_kick(s);
}

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		; /* EINTR: keep sleeping the remainder */
}

/* Worker thread: touches only the job's batch, the WAL and the fault
 * layer's disk settings (plain words, read-only here). */
static void on_work(uv_work_t *w)
{
	server *s = w->data;
	wal_pipeline *wp = &s->wp;
	fault_disk d = faults_disk(s->faults);
	if (d.delay_ms > 0)
		sleep_ms(d.delay_ms);
	uint64_t t0 = uv_hrtime();
	wp->job_rc = wal_write(s->wal, wp->job_batch, d.fsync && wp->job_must_sync, wp->job_err,
			       sizeof wp->job_err);
	wp->job_ns = uv_hrtime() - t0;
}

static void on_work_done(uv_work_t *w, int status)
{
	server *s = w->data;
	wal_pipeline *wp = &s->wp;
	wp->busy = false;
	if (status != 0)
		server_fatal("WAL write could not run: %s", uv_strerror(status));
	if (wp->job_rc != 0)
		server_fatal("WAL write failed, stopping (never continue after a failed fsync): %s",
			     wp->job_err);
	s->metrics.wal_writes++;
	s->metrics.wal_entries += wp->job_entries;
	histogram_observe(&s->metrics.batch_entries, (double)wp->job_entries);
	histogram_observe(&s->metrics.fsync_seconds, (double)wp->job_ns / 1e9);
	wal_batch_free(wp->job_batch);
	wp->job_batch = NULL;
	if (wp->crash_after_job)
		server_check_crash(s);
	wal_unit *units = wp->job_units;
	wp->job_units = NULL;
	release_units(s, units);
	wal_pipeline_kick(s);
}

void wal_pipeline_kick(server *s)
{
	wal_pipeline *wp = &s->wp;
	if (wp->busy || s->wal == NULL)
		return;
	if (wal_batch_empty(wp->next_batch)) {
		/* Only messages waited (behind a write that has now finished). */
		wal_unit *units = wp->queued;
		wp->queued = wp->queued_tail = NULL;
		if (units != NULL)
			release_units(s, units);
		return;
	}
	wal_batch *fresh = wal_batch_new();
	if (fresh == NULL)
		server_fatal("out of memory starting a WAL write");
	wp->job_batch = wp->next_batch;
	wp->job_entries = wp->next_entries;
	wp->job_units = wp->queued;
	wp->job_must_sync = wp->next_must_sync;
	wp->next_must_sync = false;
	wp->next_batch = fresh;
	wp->next_entries = 0;
	wp->queued = wp->queued_tail = NULL;
	wp->work.data = s;
	int rc = uv_queue_work(s->loop, &wp->work, on_work, on_work_done);
	if (rc != 0)
		server_fatal("cannot queue a WAL write: %s", uv_strerror(rc));
	wp->busy = true;
}

void server_check_crash(server *s)
{
	bool lose_unsynced = false;
	if (!faults_crash_requested(s->faults, &lose_unsynced))
		return;
	if (lose_unsynced) {
		/* The worker owns the WAL while a job runs: finish it first. */
		if (s->wp.busy) {
			s->wp.crash_after_job = true;
			return;
		}
		if (wal_drop_unsynced(s->wal) != 0)
			log_info("crash fault: dropping unsynced WAL bytes failed");
	}
	log_info("crash fault: SIGKILL now%s", lose_unsynced ? " (unsynced writes dropped)" : "");
	if (raise(SIGKILL) != 0)
		_exit(137);
	_exit(137); /* not reached: SIGKILL cannot be caught */
}
