/*
 * server_snap.c — the runtime's snapshot operations (rt_io.h) on libuv:
 *
 *   snapshot_write  snapshot_fork_save: a child process writes the loop's
 *                   copy-on-write image to <data-dir>/snapshots (sending
 *                   its writes to the disk as it goes: snapshot_save.c);
 *                   the loop watches the result pipe (uv_poll), reads the
 *                   result line without blocking, tells the runtime
 *                   (rt_snapshot_written) and reaps the child on a later
 *                   tick (it exits only once its image is torn down);
 *                   the heap is merged into huge pages on a worker
 *                   (hugepages.c) at start, as it grows, and after each
 *                   writer has exited, so the fork copies few page tables;
 *   compact         wal_compact + snapshot_prune on a threadpool worker
 *                   (wal_compact excludes wal_write by the WAL's mutex),
 *                   then rt_snapshot_compacted on the loop;
 *   recv_io         a received snapshot's chunks written, then fsynced and
 *                   renamed, on a threadpool worker (snap_recv_io_run), so
 *                   heartbeats are not stalled by the disk; then
 *                   rt_xfer_io_done on the loop;
 *   on_snapshot     answers POST /admin/snapshot requests waiting for it,
 *                   logs, counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../api/api_reply.h"
#include "../snapshot/snapshot.h"
#include "../snapshot/snapshot_xfer.h"
#include "../wal/wal_compact.h"
#include "hugepages.h"
#include "notice.h"
#include "server_internal.h"

char *server_snap_dir(const node_config *c)
{
	size_t n = strlen(c->data_dir) + 12;
	char *d = malloc(n);
	if (d != NULL)
		snprintf(d, n, "%s/snapshots", c->data_dir);
	return d;
}

static void on_poll_closed(uv_handle_t *h)
{
	server *s = h->data;
	s->snap.poll_open = false; /* the handle may be initialised again */
}

/* Reaps the writer that reported, if it has exited; with wait, waits.
 * True when it is gone now. */
static bool reap(snap_job *j, bool wait)
{
	if (j->reap <= 0)
		return false;
	int status;
	pid_t r;
	while ((r = waitpid((pid_t)j->reap, &status, wait ? 0 : WNOHANG)) < 0 && errno == EINTR)
		;
	if (r != 0)
		j->reap = 0; /* reaped, or not ours to wait for any more */
	return r != 0;
}

static void on_collapse_work(uv_work_t *w)
{
	server *s = w->data;
	s->snap.collapse_steps = hugepages_collapse(&s->snap.collapse_stop);
}

static void on_collapse_done(uv_work_t *w, int status)
{
	server *s = w->data;
	snap_job *j = &s->snap;
	j->collapse_busy = false;
	if (status == 0 && j->collapse_steps < 0) {
		notice("huge pages: this kernel cannot merge the heap (MADV_COLLAPSE); "
		       "a snapshot's fork copies 4 KiB page tables");
		j->hugepages = false;
	}
}

/* The heap merged into huge pages on a worker (hugepages.c), so the next
 * fork copies ~180 page-table entries for a 350 MB heap rather than
 * ~90,000 (make bench-snapshot). Started when a writer has exited (the
 * pages it shared are the loop's alone again, and each one written
 * meanwhile split its huge page) and when the heap has grown by
 * COLLAPSE_GROWTH since the last merge; never while a writer runs (it
 * would merge pages the child shares). */
#define COLLAPSE_GROWTH ((uintptr_t)32 << 20)

static void collapse_start(server *s)
{
	snap_job *j = &s->snap;
	if (j->collapse_busy || j->writing || s->stopping || !j->hugepages)
		return;
	j->collapse_end = hugepages_heap_end();
	atomic_store(&j->collapse_stop, false);
	j->collapse_work.data = s;
	if (uv_queue_work(s->loop, &j->collapse_work, on_collapse_work, on_collapse_done) == 0)
		j->collapse_busy = true;
}

void server_snap_tick(server *s)
{
	snap_job *j = &s->snap;
	if (reap(j, false) || (j->hugepages && hugepages_heap_end() >= j->collapse_end + COLLAPSE_GROWTH))
		collapse_start(s);
}

/* The writer's pipe is readable: its result line, read without blocking.
 * The verdict is reported at once; the child is reaped later (it exits
 * only after tearing down its copy-on-write image of the whole state
 * machine, at nice 10: waiting for that here stalled the loop). */
static void on_result(uv_poll_t *h, int status, int events)
{
	(void)events;
	server *s = h->data;
	snap_job *j = &s->snap;
	(void)status; /* an error on the pipe reads as a dead writer below */
	if (snapshot_fork_read(j->fd, j->line, sizeof j->line, &j->have) == 0)
		return; /* the rest of the line is to come */
	if (uv_poll_stop(&j->poll) != 0) {
		/* cannot fail on an initialised handle */
	}
	uv_close((uv_handle_t *)&j->poll, on_poll_closed);
	uint64_t bytes = 0;
	char err[512] = "";
	int rc = snapshot_fork_verdict(j->line, j->have, &bytes, err, sizeof err);
	(void)close(j->fd);
	(void)reap(j, true); /* an older writer, long gone: never blocks in practice */
	j->reap = j->child;
	bool gone = reap(j, false);
	j->writing = false;
	j->child = -1;
	j->fd = -1;
	if (gone)
		collapse_start(s);
	if (rc == 0)
		histogram_observe(&s->metrics.snapshot_write_seconds,
				  (double)(uv_hrtime() - j->started_ns) / 1e9);
	if (s->rt != NULL && !s->stopping)
		rt_snapshot_written(s->rt, rc, bytes, err);
}

static int io_snapshot_write(void *ud, const kv_machine *m, const kv_snap_meta *meta)
{
	server *s = ud;
	snap_job *j = &s->snap;
	if (j->writing || s->stopping || j->poll_open)
		return -1;
	char err[512];
	/* A merge still running would merge pages the child shares. */
	atomic_store(&j->collapse_stop, true);
	j->started_ns = uv_hrtime();
	if (snapshot_fork_save(j->dir, m, meta, &j->child, &j->fd, err, sizeof err) != 0) {
		notice("snapshot at %" PRIu64 " not started: %s", meta->index, err);
		return -1;
	}
	s->metrics.snapshot_fork_us = (uv_hrtime() - j->started_ns) / 1000;
	j->have = 0;
	int fl = fcntl(j->fd, F_GETFL);
	int rc = fl >= 0 && fcntl(j->fd, F_SETFL, fl | O_NONBLOCK) == 0 ? 0 : UV_EINVAL;
	if (rc == 0)
		rc = uv_poll_init(s->loop, &j->poll, j->fd);
	if (rc == 0) {
		j->poll_open = true;
		j->poll.data = s;
		rc = uv_poll_start(&j->poll, UV_READABLE | UV_DISCONNECT, on_result);
		if (rc != 0)
			uv_close((uv_handle_t *)&j->poll, on_poll_closed);
	}
	if (rc != 0) {
		/* Cannot watch it: wait for it here rather than leave it. */
		uint64_t bytes;
		int frc = snapshot_fork_finish(j->child, j->fd, &bytes, err, sizeof err);
		notice("snapshot at %" PRIu64 ": cannot watch the writer (%s); waited for it: %s",
		       meta->index, uv_strerror(rc), frc == 0 ? "ok" : err);
		j->child = j->fd = -1;
		return -1;
	}
	j->writing = true;
	return 0;
}

/* Worker thread: touches only the WAL (its mutex) and the snapshot dir. */
static void on_compact_work(uv_work_t *w)
{
	server *s = w->data;
	snap_job *j = &s->snap;
	j->rc = 0;
	j->err[0] = '\0';
	memset(&j->res, 0, sizeof j->res);
	if (j->wal_upto > 0 &&
	    wal_compact(s->wal, j->wal_upto, &j->res, j->err, sizeof j->err) != 0) {
		j->rc = -1;
		return;
	}
	if (snapshot_prune(j->dir, SNAPSHOT_KEEP, j->err, sizeof j->err) != 0)
		j->rc = -1;
}

static void on_compact_done(uv_work_t *w, int status)
{
	server *s = w->data;
	snap_job *j = &s->snap;
	j->compacting = false;
	if (status != 0)
		notice("snapshot compaction did not run: %s", uv_strerror(status));
	else if (j->rc != 0)
		notice("snapshot compaction: %s (the next snapshot tries again)", j->err);
	else if (j->res.segments_dropped > 0)
		notice("WAL compacted: %zu segments (%" PRIu64 " bytes) dropped, log starts after %" PRIu64,
		       j->res.segments_dropped, j->res.bytes_freed, j->res.base_index);
	if (s->rt != NULL && !s->stopping)
		rt_snapshot_compacted(s->rt);
}

static void io_compact(void *ud, uint64_t wal_upto, uint64_t snap_index)
{
	server *s = ud;
	snap_job *j = &s->snap;
	(void)snap_index;
	j->wal_upto = wal_upto;
	j->work.data = s;
	if (s->stopping || uv_queue_work(s->loop, &j->work, on_compact_work, on_compact_done) != 0) {
		rt_snapshot_compacted(s->rt); /* nothing dropped: the next one tries again */
		return;
	}
	j->compacting = true;
}

/* Worker thread: touches only the receiver's file and the bytes its step
 * was handed (snapshot_xfer.h). */
static void on_recv_work(uv_work_t *w)
{
	server *s = w->data;
	snap_recv_io_run(s->snap.recv_in);
}

static void on_recv_done(uv_work_t *w, int status)
{
	server *s = w->data;
	snap_job *j = &s->snap;
	j->recv_busy = false;
	if (status != 0) /* cancelled: only at shutdown, which drops the transfer */
		return;
	if (s->rt != NULL && !s->stopping)
		rt_xfer_io_done(s->rt);
}

static int io_recv_io(void *ud, struct snap_recv *in)
{
	server *s = ud;
	snap_job *j = &s->snap;
	if (j->recv_busy || s->stopping)
		return -1;
	j->recv_in = in;
	j->recv_work.data = s;
	if (uv_queue_work(s->loop, &j->recv_work, on_recv_work, on_recv_done) != 0)
		return -1;
	j->recv_busy = true;
	return 0;
}

static void reply_index(server *s, http_request *req, uint64_t index)
{
	char body[64];
	int n = snprintf(body, sizeof body, "{\"index\":%" PRIu64 "}", index);
	api_reply_body(s, req, 200, NULL, body, (size_t)n);
}

static void io_on_snapshot(void *ud, uint64_t seq, bool ok, uint64_t index, const char *err)
{
	server *s = ud;
	snap_job *j = &s->snap;
	if (ok)
		notice("snapshot at %" PRIu64 " durable (%" PRIu64 " bytes, %" PRIu64 " ms)", index,
		       rt_get_stats(s->rt)->snapshot_bytes, rt_get_stats(s->rt)->snapshot_write_ms);
	else
		notice("snapshot at %" PRIu64 " failed: %s", index, err);
	for (size_t i = 0; i < j->n_waits;) {
		if (j->waits[i].seq > seq) {
			i++;
			continue;
		}
		http_request *req = j->waits[i].req;
		j->waits[i] = j->waits[--j->n_waits];
		if (ok)
			reply_index(s, req, index);
		else
			api_reply_error(s, req, 500, "snapshot failed", err != NULL ? err : "?");
	}
}

void server_snap_io(rt_io *io)
{
	io->snapshot_write = io_snapshot_write;
	io->compact = io_compact;
	io->recv_io = io_recv_io;
	io->on_snapshot = io_on_snapshot;
}

void server_snap_request(server *s, http_request *req)
{
	snap_job *j = &s->snap;
	uint64_t index = 0;
	uint64_t seq = rt_snapshot_request(s->rt, &index);
	if (seq == 0) {
		reply_index(s, req, index);
		return;
	}
	if (seq == UINT64_MAX || j->dir == NULL) {
		api_reply_error(s, req, 501, "not available", "This node takes no snapshots.");
		return;
	}
	if (j->n_waits == j->cap_waits) {
		size_t nc = j->cap_waits ? j->cap_waits * 2 : 4;
		snap_wait *w = realloc(j->waits, nc * sizeof *w);
		if (w == NULL) {
			api_reply_error(s, req, 500, "out of memory", "The request could not be queued.");
			return;
		}
		j->waits = w;
		j->cap_waits = nc;
	}
	j->waits[j->n_waits++] = (snap_wait){.req = req, .seq = seq};
	server_kick(s);
}

void server_snap_stop(server *s)
{
	snap_job *j = &s->snap;
	atomic_store(&j->collapse_stop, true);
	while (j->n_waits > 0) {
		http_request *req = j->waits[--j->n_waits].req;
		api_reply_error(s, req, 503, "shutting down", "The node is stopping.");
	}
	if (j->writing) {
		/* The child finishes its file on its own; reap it so no zombie
		 * outlives a long shutdown. */
		uv_close((uv_handle_t *)&j->poll, on_poll_closed);
		char err[128];
		uint64_t bytes;
		if (snapshot_fork_finish(j->child, j->fd, &bytes, err, sizeof err) != 0)
			notice("snapshot writer at shutdown: %s", err);
		j->writing = false;
	}
	(void)reap(j, true);
}

void server_snap_free(server *s)
{
	free(s->snap.waits);
	free(s->snap.dir);
	s->snap.waits = NULL;
	s->snap.dir = NULL;
}
