/*
 * server_wal.c — the runtime's WAL writes (rt_io.write) on a libuv
 * threadpool worker: one wal_write (+ one fsync) per batch. What waits for
 * which write is the runtime's business (node/runtime/rt_wal.c); this file
 * only writes, times, and reports back on the loop with rt_write_done.
 *
 * faults_disk() decides per job whether to fsync (disk fault or no_fsync
 * bug) and adds its latency (slept in the worker).
 */
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "notice.h"
#include "server_internal.h"

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
	wal_job *j = &s->job;
	fault_disk d = faults_disk(s->faults);
	if (d.delay_ms > 0)
		sleep_ms(d.delay_ms);
	uint64_t t0 = uv_hrtime();
	j->rc = wal_write(s->wal, j->batch, d.fsync && j->sync, j->err, sizeof j->err);
	j->ns = uv_hrtime() - t0;
}

static void on_work_done(uv_work_t *w, int status)
{
	server *s = w->data;
	wal_job *j = &s->job;
	j->busy = false;
	if (status != 0)
		server_fatal("WAL write could not run: %s", uv_strerror(status));
	if (j->rc == 0) {
		histogram_observe(&s->metrics.batch_entries, (double)j->entries);
		histogram_observe(&s->metrics.fsync_seconds, (double)j->ns / 1e9);
	}
	rt_wal_recycle(s->rt, j->batch);
	j->batch = NULL;
	if (j->crash_after)
		server_check_crash(s);
	rt_write_done(s->rt, j->rc, j->err);
}

void server_wal_write(void *ud, wal_batch *b, size_t n_entries, bool sync)
{
	server *s = ud;
	wal_job *j = &s->job;
	j->batch = b;
	j->sync = sync;
	j->entries = n_entries;
	j->work.data = s;
	int rc = uv_queue_work(s->loop, &j->work, on_work, on_work_done);
	if (rc != 0)
		server_fatal("cannot queue a WAL write: %s", uv_strerror(rc));
	j->busy = true;
}

void server_check_crash(server *s)
{
	bool lose_unsynced = false;
	if (!faults_crash_requested(s->faults, &lose_unsynced))
		return;
	if (lose_unsynced) {
		/* The worker owns the WAL while a job runs: finish it first. */
		if (s->job.busy) {
			s->job.crash_after = true;
			return;
		}
		if (wal_drop_unsynced(s->wal) != 0)
			notice("crash fault: dropping unsynced WAL bytes failed");
	}
	notice("crash fault: SIGKILL now%s", lose_unsynced ? " (unsynced writes dropped)" : "");
	if (raise(SIGKILL) != 0)
		_exit(137);
	_exit(137); /* not reached: SIGKILL cannot be caught */
}
