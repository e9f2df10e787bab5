/*
 * server_internal.h — the node runtime's shared state. Everything here lives
 * on the one libuv loop thread; the only exception is the WAL job, whose
 * worker touches nothing but the job it was handed (see wal_pipeline.c).
 *
 * Files and their one job each:
 *   server.c        start-up, shutdown, signals
 *   ticker.c        the tick timer: node clock -> raft_tick, pause/resume
 *   ready.c         the "process ready" step after each batch of events
 *   apply.c         committed entries -> kv state machine -> waiting clients
 *   wal_pipeline.c  group commit on a worker thread; frames held until durable
 *   peer_io.c       the single door for peer messages (fault filter, delay)
 *   pending.c       requests waiting for Raft: by id, and in deadline order
 *   reads.c         linearizable reads: batched ReadIndex, served when applied
 *   http_*.c        the HTTP API
 */
#ifndef RAFTKV_SERVER_INTERNAL_H
#define RAFTKV_SERVER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../../faults/faults.h"
#include "../common/bytebuf.h"
#include "../http/http_server.h"
#include "../kv/kv_machine.h"
#include "../net/transport.h"
#include "../raft/raft.h"
#include "../wal/wal.h"
#include "config.h"
#include "metrics.h"
#include "pending.h"

/* One encoded peer message waiting for the disk write it depends on. */
typedef struct held_frame {
	uint32_t to;
	uint8_t *data;
	size_t len;
} held_frame;

/* The durable work of one ready, in order: frames may leave only after the
 * WAL write carrying this (and every earlier) unit has been fsynced. */
typedef struct wal_unit {
	struct wal_unit *next;
	bool has_entries;
	uint64_t last_index, last_term; /* for raft_persisted */
	held_frame *frames;
	size_t n_frames;
} wal_unit;

typedef struct wal_pipeline {
	wal_batch *next_batch;       /* accumulating: everything not yet handed to a job */
	size_t next_entries;         /* entries in next_batch (metrics) */
	wal_unit *queued, *queued_tail; /* units whose records are in next_batch */
	bool next_must_sync;         /* next_batch holds a must-sync ready (raft.h step 2) */
	bool job_must_sync;          /* the job in flight does: it fsyncs */
	/* The job in flight (at most one). */
	bool busy;
	uv_work_t work;
	wal_batch *job_batch;
	size_t job_entries;
	wal_unit *job_units;
	int job_rc;
	uint64_t job_ns;
	char job_err[256];
	/* Crash with lose_unsynced requested while a job was in flight. */
	bool crash_after_job;
} wal_pipeline;

/* A batch of linearizable reads sharing one ReadIndex request. */
typedef struct read_batch {
	struct read_batch *next;
	uint64_t ctx;
	uint64_t index;       /* once the read state arrived */
	uint64_t created_ms;  /* real ms, for garbage collection */
	uint64_t *ids;        /* pending ids of the reads */
	size_t n, cap;
} read_batch;

typedef struct read_queue {
	read_batch *open;                  /* collecting reads of this loop turn */
	read_batch *asked, *asked_tail;    /* sent to raft_read_index, no answer yet */
	read_batch *waiting;               /* answered; waiting for applied >= index, by index */
	uint64_t next_ctx;
} read_queue;

/* A delayed peer message (fault layer), on its own uv timer. */
typedef struct delayed_msg {
	uv_timer_t timer;
	struct server *s;
	struct delayed_msg *prev, *next;
	bool inbound;
	uint32_t peer;
	uint8_t *frame;
	size_t len;
} delayed_msg;

typedef struct server {
	uv_loop_t *loop;
	const node_config *cfg;
	faults *faults;
	raft *raft;
	wal *wal;
	transport *transport;
	http_server *http;
	kv_machine kv;
	node_metrics metrics;
	bytebuf out;           /* scratch for response bodies (http_respond copies) */

	uint64_t nonce;        /* this boot's identity inside commands */
	uint64_t next_cmd_id;  /* ids of commands this boot proposes (dedup key) */
	uint64_t next_read_id; /* ids of reads waiting here (never in the log) */

	/* Cached after every ready step, for headers, status and routing. */
	uint8_t role;
	uint32_t leader;
	uint64_t term;
	uint64_t commit;
	uint64_t applied;

	uv_timer_t tick_timer;
	uint64_t clock_last;   /* node clock ms of the last whole tick */
	bool paused;
	http_request *paused_head, *paused_tail; /* client requests held while paused */

	uv_timer_t timeout_timer;
	uv_check_t check;      /* runs the ready step after each batch of events */
	uv_idle_t idle;        /* keeps the loop from blocking while work is due */
	uv_signal_t sigterm, sigint;

	pending_table pending;
	read_queue reads;
	wal_pipeline wp;
	delayed_msg *delayed;  /* messages held by a delay fault */

	bool stopping;
	int lock_fd;
} server;

/* The real monotonic clock in ms (request timeouts, fault expiry). */
static inline uint64_t server_real_ms(server *s)
{
	return uv_now(s->loop);
}

/* Schedules the ready step (call after anything that may give raft work). */
void server_kick(server *s);
/* Refreshes role/leader/term/commit cache from the core. */
void server_refresh_status(server *s);
/* Logs one line and exits non-zero at once: used when continuing would be
 * unsafe (a failed fsync) or impossible (ENOMEM in the state machine). */
_Noreturn void server_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ticker.c */
int ticker_start(server *s);

/* ready.c */
void ready_process(server *s);

/* apply.c */
void apply_committed(server *s, const raft_entry *ents, size_t n);

/* wal_pipeline.c */
int wal_pipeline_init(wal_pipeline *wp);
void wal_pipeline_destroy(wal_pipeline *wp);
/* Queues one ready's records and frames (frames are taken over). */
void wal_pipeline_add(server *s, const raft_ready *rd, held_frame *frames, size_t n_frames);
void wal_pipeline_kick(server *s);
void server_check_crash(server *s);

/* peer_io.c */
void peer_io_send(server *s, uint32_t to, uint8_t *frame, size_t len);
void peer_io_recv(void *ud, const raft_msg *m);
void peer_io_close_all(server *s);

/* reads.c */
void reads_init(read_queue *q);
void reads_destroy(read_queue *q);
/* Queues a linearizable read of pending p (already in the table). */
int reads_add(server *s, pending *p);
/* Before raft_get_ready: asks the core for one read index for the open batch. */
void reads_flush(server *s);
void reads_on_state(server *s, const raft_read_state *rs);
void reads_on_applied(server *s);
void reads_gc(server *s, uint64_t now_ms);

/* http_routes.c */
void http_on_request(void *ud, http_request *req);
int http_common_headers(void *ud, const char **names, char values[][64], int n);
void http_dispatch_client(server *s, http_request *req);
void http_replay_paused(server *s);

#endif
