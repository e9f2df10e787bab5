/*
 * server_internal.h — the libuv node: one loop that hosts the runtime
 * (node/runtime) and the HTTP API (node/api). Everything here lives on the
 * loop thread; the only exception is the WAL job, whose worker touches
 * nothing but the job it was handed (see server_wal.c).
 *
 * Files and their one job each:
 *   server.c      start-up, shutdown, signals, the ready step's uv handles
 *   server_io.c   the runtime's I/O table on libuv (rt_io.h): frames to the
 *                 transport, delay timers, the clock, outcomes to the API
 *   server_wal.c  the WAL write on a threadpool worker; crash faults
 *   ticker.c      the node clock -> rt_clock; pause and resume
 *   probe_removed.c  while probing: is this id still a member? (else exit 1)
 *   boot.c        the boot nonce (a durable counter)
 */
#ifndef RAFTKV_SERVER_INTERNAL_H
#define RAFTKV_SERVER_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../../faults/faults.h"
#include "../api/api_members.h"
#include "../common/bytebuf.h"
#include "../http/http_server.h"
#include "../net/transport.h"
#include "../runtime/rt.h"
#include "../wal/wal.h"
#include "../wal/wal_compact.h"
#include "loop_stall.h"
#include "config.h"
#include "join.h"
#include "metrics.h"
#include "probe_removed.h"

/* The WAL job in flight (at most one, see rt_io.write). */
typedef struct wal_job {
	bool busy;
	uv_work_t work;
	wal_batch *batch;
	size_t entries;
	bool sync;         /* a must-sync batch: fsync it (unless a disk fault says no) */
	int rc;
	uint64_t ns;
	char err[256];
	bool crash_after;  /* crash with lose_unsynced asked while it ran */
} wal_job;

/* A POST /admin/snapshot waiting for snapshot number seq. */
typedef struct snap_wait {
	http_request *req;
	uint64_t seq;
} snap_wait;

/* Snapshot writer and compaction (server_snap.c). */
typedef struct snap_job {
	char *dir;             /* <data-dir>/snapshots */
	bool writing;          /* a forked writer runs; poll watches its pipe */
	int child, fd;
	char line[512];        /* its result line so far */
	size_t have;
	int reap;              /* a writer that reported and is exiting: reaped
	                          without waiting (ticks), 0 = none */
	uv_poll_t poll;
	bool poll_open;        /* initialised and not yet closed */
	uint64_t started_ns;
	bool compacting;       /* the compaction work is queued or running */
	uv_work_t work;
	uint64_t wal_upto;
	int rc;
	char err[400];
	wal_compact_result res;
	snap_wait *waits;
	size_t n_waits, cap_waits;
	/* A received snapshot's disk step (rt_io.recv_io) on a worker. */
	uv_work_t recv_work;
	struct snap_recv *recv_in;
	bool recv_busy;
	/* The heap merged into huge pages (hugepages.c) on a worker after a
	 * writer exited or the heap grew; collapse_stop ends it early. */
	bool hugepages;        /* hugepages_enabled() at start-up */
	uv_work_t collapse_work;
	bool collapse_busy;
	atomic_bool collapse_stop;
	long collapse_steps;
	uintptr_t collapse_end; /* the heap's end when the last merge started */
} snap_job;

/* A frame held by a delay fault, on its own uv timer. */
typedef struct delay_timer {
	uv_timer_t timer;
	struct server *s;
	struct delay_timer *prev, *next;
	rt_deferred *d;
} delay_timer;

typedef struct server {
	uv_loop_t *loop;
	const node_config *cfg;
	faults *faults;
	rt *rt;
	wal *wal;
	transport *transport;
	http_server *http;
	node_metrics metrics;
	bytebuf out;           /* scratch for response bodies (http_respond copies) */
	uint64_t nonce;        /* this boot's identity inside commands */

	/* Cached after every ready step, for headers, status and routing. */
	uint8_t role;
	uint32_t leader;
	uint64_t term;
	uint64_t commit;
	uint64_t applied;
	/* The X-Raft-* header block of every answer, rebuilt only when term or
	 * leader change (api_common_headers). */
	bytebuf hdrs;
	uint64_t hdrs_term;
	uint32_t hdrs_leader;

	uv_timer_t tick_timer;
	uint64_t tick_last_ms;    /* loop clock at the last tick callback (0 = none yet) */
	loop_stall stall;         /* why long tick periods happened (busy, starved, blocked) */
	uint64_t leader_heard_ms; /* loop clock at the last frame from leader_heard */
	uint32_t leader_heard;    /* the leader those frames came from */
	bool paused;
	http_request *paused_head, *paused_tail; /* client requests held while paused */

	uv_timer_t timeout_timer;
	uv_check_t check;      /* runs the ready step after each batch of events */
	uv_idle_t idle;        /* keeps the loop from blocking while work is due */
	uv_signal_t sigterm, sigint;

	wal_job job;
	snap_job snap;
	delay_timer *delays;   /* frames held by a delay fault */

	bool stopping;
	int lock_fd;
	members_state members; /* /admin/members waits, transport peers (api_members.c) */
	addr_book book;        /* the other members' addresses: --cluster's, or learnt by --join */
	bool removed_said;     /* the removal was logged (server.c refresh_from) */
	probe_removed probe_removed; /* probing: is this id still a member? */
	int exit_status;       /* server_run's result (server_stop) */
	char exit_why[320];    /* the line it ends with, if any */
} server;

/* What a removed node tells its operator (log, status, 503s): its data dir
 * holds a life the cluster has removed for good. */
#define SERVER_REJOIN_HINT                                                                          \
	"To bring it back, stop it, wipe its data dir and start it with --join URL (any member's "  \
	"HTTP address): it joins as a new node"

/* The real monotonic clock in ms (request timeouts, fault expiry). */
static inline uint64_t server_real_ms(server *s)
{
	return uv_now(s->loop);
}

/* Stops the node: server_run returns status, after one line saying why. */
void server_stop(server *s, int status, const char *why);
/* Schedules the ready step (call after anything that may give raft work). */
void server_kick(server *s);
/* Refreshes role/leader/term/commit/applied cache from the core. */
void server_refresh_status(server *s);
/* Logs one line and exits non-zero at once: used when continuing would be
 * unsafe (a failed fsync) or impossible (ENOMEM in the state machine). */
_Noreturn void server_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ticker.c */
int ticker_start(server *s);
/* Follows the fault layer's pause now (not at the next tick); true while paused. */
bool ticker_sync_pause(server *s);

/* server_io.c */
void server_io_init(server *s, rt_io *io);
int server_on_frame(void *ud, uint32_t from, const uint8_t *frame, size_t len);
void server_io_close_delays(server *s);

/* server_snap.c */
char *server_snap_dir(const node_config *c);
void server_snap_io(rt_io *io);
void server_snap_request(server *s, http_request *req);
void server_snap_stop(server *s);
/* Each tick: reaps a finished snapshot writer that has exited. */
void server_snap_tick(server *s);
void server_snap_free(server *s);

/* server_wal.c */
void server_wal_write(void *ud, wal_batch *b, size_t n_entries, bool sync);
void server_check_crash(server *s);

#endif
