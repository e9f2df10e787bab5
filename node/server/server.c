/*
 * server.c — start-up, the loop's housekeeping handles, and shutdown.
 *
 * Start-up order is chosen so that the common mistakes fail first and with
 * one clear line: data dir (lock, meta.json), then the HTTP port, then the
 * Raft port, then the WAL (recovery), then the core.
 */
#include "server.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "../api/api.h"
#include "../api/api_reply.h"
#include "hugepages.h"
#include "notice.h"
#include "../runtime/rt_boot.h"
#include "meta.h"
#include "server_internal.h"
#include "../runtime/rt_incarnation.h"
#include "../runtime/rt_incarnation_file.h"
#include "join.h"

_Noreturn void server_fatal(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	notice("fatal: %s", n < 0 ? fmt : line);
	/* _exit, not exit: no atexit work, no flushing of state that may be
	 * inconsistent; stderr is unbuffered so the line is already out. */
	_exit(2);
}

/* A removed node (its configuration in force is the entry that removed it)
 * says so once per start, in the words of its status (api_admin.c): at boot
 * when it was removed before, or when the removal reaches it. */
static void say_removed(server *s, const raft_status *st)
{
	bool removed = raft_removed(rt_raft(s->rt));
	if (removed && !s->removed_said)
		notice("removed: node %u was removed from the cluster (configuration entry %llu); it neither "
		       "votes nor campaigns and serves no requests. %s", s->cfg->id,
		       (unsigned long long)st->conf_index, SERVER_REJOIN_HINT);
	s->removed_said = removed;
}

static void refresh_from(server *s, const raft_status *st)
{
	s->applied = rt_applied(s->rt);
	s->term = st->term;
	s->commit = st->commit;
	s->role = st->role;
	s->leader = st->leader;
	say_removed(s, st);
}

void server_refresh_status(server *s)
{
	raft_status st;
	raft_get_status(rt_raft(s->rt), &st);
	refresh_from(s, &st);
}

/* ---------------------------------------------------------- the ready step */

static void on_check(uv_check_t *h)
{
	server *s = h->data;
	/* A requested crash dies here, after the poll phase has written the
	 * answer to the crash request (202). */
	server_check_crash(s);
	if (s->rt == NULL)
		return;
	rt_process(s->rt);
	/* One status read per loop iteration, for the cache and the members
	 * (without the peers: the members read them when conf_gen moved). */
	raft_status st;
	raft_get_status_brief(rt_raft(s->rt), &st);
	refresh_from(s, &st);
	api_members_after_ready(s, &st);
	/* Stay non-blocking only while the core still has work (e.g. the
	 * round cap was hit); otherwise let the loop sleep in poll. */
	if (s->stopping || !rt_has_work(s->rt)) {
		int rc = uv_idle_stop(&s->idle);
		(void)rc; /* uv_idle_stop cannot fail on an initialised handle */
	}
}

static void on_idle(uv_idle_t *h)
{
	(void)h; /* its only job is to make the next poll non-blocking */
}

void server_kick(server *s)
{
	if (s->stopping || uv_is_active((uv_handle_t *)&s->idle))
		return;
	if (uv_idle_start(&s->idle, on_idle) != 0)
		server_fatal("uv_idle_start failed");
}

/* ---------------------------------------------------------- request timeouts */

static void on_timeout_timer(uv_timer_t *t)
{
	server *s = t->data;
	uint64_t now = server_real_ms(s);
	/* A paused node answers nothing, as a stopped process would; what
	 * expired meanwhile is answered right after resume. */
	(void)now;
	if (s->paused)
		return;
	rt_expire(s->rt);
}

/* ---------------------------------------------------------- shutdown */

/* Closes h if it was ever initialised (a failed start-up leaves some
 * handles zeroed); the memory is the server's, so no callback is needed. */
static void close_handle(uv_handle_t *h)
{
	if (h->loop != NULL && !uv_is_closing(h))
		uv_close(h, NULL);
}

static void on_http_closed(void *ud)
{
	server *s = ud;
	s->http = NULL;
}

static void on_transport_closed(void *ud)
{
	server *s = ud;
	s->transport = NULL;
}

/* Answers everything still waiting (the clients must not hang), then
 * closes every handle; uv_run returns once they are all gone and the WAL
 * job in flight (if any) has completed. */
static void begin_shutdown(server *s)
{
	if (s->stopping)
		return;
	/* Every waiting request ends (api_outcome.c answers 504 for what was
	 * proposed, 503 for the rest). */
	if (s->rt != NULL)
		rt_stop(s->rt);
	api_members_stop(s);
	probe_removed_stop(s);
	server_snap_stop(s);
	while (s->paused_head != NULL) {
		http_request *r = s->paused_head;
		s->paused_head = r->user;
		api_reply_error(s, r, 503, "shutting down", "The node is stopping.");
	}
	s->paused_tail = NULL;
	s->stopping = true;
	if (s->http != NULL)
		http_server_close(s->http, on_http_closed, s);
	if (s->transport != NULL)
		transport_close(s->transport, on_transport_closed, s);
	server_io_close_delays(s);
	close_handle((uv_handle_t *)&s->tick_timer);
	close_handle((uv_handle_t *)&s->timeout_timer);
	close_handle((uv_handle_t *)&s->check);
	close_handle((uv_handle_t *)&s->idle);
	close_handle((uv_handle_t *)&s->sigterm);
	close_handle((uv_handle_t *)&s->sigint);
}

void server_stop(server *s, int status, const char *why)
{
	if (s->stopping)
		return;
	s->exit_status = status;
	snprintf(s->exit_why, sizeof s->exit_why, "%s", why);
	begin_shutdown(s);
}

static void on_signal(uv_signal_t *h, int signum)
{
	server *s = h->data;
	notice("signal %d: stopping", signum);
	begin_shutdown(s);
}

/* ---------------------------------------------------------- start-up */

/* Seeds for the core's and the fault layer's PRNGs: random per boot (the
 * boot nonce, a counter, is an identity, not a seed). */
static uint64_t random_seed(void)
{
	uint64_t r = 0;
	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
		r = (uint64_t)getpid() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)time(NULL);
	return r;
}

static int start_handles(server *s)
{
	int rc;
	if ((rc = uv_check_init(s->loop, &s->check)) != 0)
		return rc;
	s->check.data = s;
	if ((rc = uv_check_start(&s->check, on_check)) != 0)
		return rc;
	if ((rc = uv_idle_init(s->loop, &s->idle)) != 0)
		return rc;
	s->idle.data = s;
	if ((rc = uv_timer_init(s->loop, &s->timeout_timer)) != 0)
		return rc;
	s->timeout_timer.data = s;
	uint64_t every = s->cfg->request_timeout_ms / 10;
	if (every < 5)
		every = 5;
	if (every > 50)
		every = 50;
	if ((rc = uv_timer_start(&s->timeout_timer, on_timeout_timer, every, every)) != 0)
		return rc;
	if (s->cfg->host_keeps_signals)
		return ticker_start(s);
	if ((rc = uv_signal_init(s->loop, &s->sigterm)) != 0 ||
	    (rc = uv_signal_init(s->loop, &s->sigint)) != 0)
		return rc;
	s->sigterm.data = s;
	s->sigint.data = s;
	if ((rc = uv_signal_start(&s->sigterm, on_signal, SIGTERM)) != 0 ||
	    (rc = uv_signal_start(&s->sigint, on_signal, SIGINT)) != 0)
		return rc;
	return ticker_start(s);
}

static int open_wal(server *s, char *err, size_t errlen)
{
	const node_config *c = s->cfg;
	size_t n = strlen(c->data_dir) + 5;
	char *dir = malloc(n);
	if (dir == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(dir, n, "%s/wal", c->data_dir);
	wal_recovered rec;
	memset(&rec, 0, sizeof rec);
	char why[256] = "";
	wal_options wo = {.segment_bytes = c->wal_segment_bytes};
	int rc = wal_open(dir, &wo, &s->wal, &rec, why, sizeof why);
	free(dir);
	if (rc != 0) {
		snprintf(err, errlen, "WAL in %s/wal: %s", c->data_dir, why);
		return -1;
	}
	raft_config rc_cfg;
	raft_config_defaults(&rc_cfg);
	uint32_t voters[RAFT_MAX_NODES];
	for (size_t i = 0; i < c->n_members; i++)
		voters[i] = c->members[i].id;
	rc_cfg.id = c->id;
	rc_cfg.voters = voters;
	rc_cfg.n_voters = c->n_members; /* 0 with --join: the configuration comes through the log */
	rc_cfg.joining = c->join_url != NULL;
	rc_cfg.promote_distance = c->promote_distance;
	rc_cfg.election_ticks = c->election_ticks;
	rc_cfg.heartbeat_ticks = c->heartbeat_ticks;
	rc_cfg.pre_vote = c->pre_vote;
	/* Bytes in flight per follower (issue 15.4): at most max_inflight
	 * appends of max_msg_bytes each, kept at half the transport's 16 MiB
	 * per-peer queue, so appends are paced by acknowledgements instead of
	 * overflowing the queue and being dropped (then retransmitted). */
	rc_cfg.max_msg_bytes = 1u << 20;
	rc_cfg.max_inflight = 8;
	rc_cfg.seed = random_seed() ^ ((uint64_t)c->id * 0x9E3779B97F4A7C15ULL);
	/* Which life of this id (node/runtime/rt_incarnation.h): the stored one;
	 * none stored and a WAL that never held anything: decided by probing;
	 * none stored but a WAL with state: a data dir from before incarnations
	 * were stored, whose node was a bootstrap member (0). */
	bool inc_found = false;
	uint64_t inc = 0;
	if (inc_file_load(c->data_dir, &inc_found, &inc, err, errlen) != 0) {
		wal_recovered_free(&rec);
		return -1;
	}
	bool wal_empty = rec.n_entries == 0 && rec.hs.term == 0 && rec.snap_index == 0;
	if (!inc_found && !wal_empty && inc_file_store(c->data_dir, 0, err, errlen) != 0) {
		wal_recovered_free(&rec);
		return -1;
	}
	rc_cfg.incarnation = inc;
	/* Snapshots: written here (rt_snapshot.c), sent from and received
	 * into here (InstallSnapshot, rt_xfer.c). */
	s->snap.dir = server_snap_dir(c);
	s->snap.hugepages = hugepages_enabled(); /* the first tick merges the heap */
	if (s->snap.dir == NULL) {
		wal_recovered_free(&rec);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rt_options ro = {
		.nonce = s->nonce,
		.request_timeout_ms = c->request_timeout_ms,
		.max_uncommitted_bytes = c->max_uncommitted_bytes,
		.faults = s->faults,
		.probe_incarnation = !inc_found && wal_empty,
		.snap_dir = s->snap.dir,
		.snap = {
			.every_entries = c->snapshot_entries,
			.every_bytes = c->snapshot_bytes,
			.trailing_entries = c->snapshot_trailing,
			.trailing_bytes = c->snapshot_trailing_bytes,
		},
	};
	if (inc_found)
		notice("incarnation %llu", (unsigned long long)inc);
	else if (wal_empty)
		notice("empty data dir: probing the cluster before speaking (a new cluster, or a new incarnation)");
	rt_io io;
	server_io_init(s, &io);
	s->rt = rt_new(&rc_cfg, &ro, &io);
	if (s->rt == NULL) {
		wal_recovered_free(&rec);
		snprintf(err, errlen, "cannot create the Raft core (bad configuration or out of memory)");
		return -1;
	}
	/* The newest valid snapshot, then the log after it. */
	snapshot_loaded sl;
	uint64_t t0 = uv_hrtime();
	if (rt_snapshot_boot(s->rt, s->snap.dir, s->wal, &rec, &sl, err, errlen) != 0) {
		wal_recovered_free(&rec);
		return -1;
	}
	s->metrics.snapshot_load_seconds = (double)(uv_hrtime() - t0) / 1e9;
	if (sl.skipped > 0)
		notice("snapshot damaged, not loaded: %s; using %s and the log after it", sl.skipped_why,
		       sl.found ? sl.path : "the empty state");
	if (sl.found)
		notice("snapshot loaded: %s (index %llu, term %llu, %.3f s)", sl.path,
		       (unsigned long long)sl.meta.index, (unsigned long long)sl.meta.term,
		       s->metrics.snapshot_load_seconds);
	rc = rt_load(s->rt, &rec);
	if (rc != RAFT_OK) {
		wal_recovered_free(&rec);
		snprintf(err, errlen, "WAL in %s/wal holds state the Raft core refuses (error %d)",
			 c->data_dir, rc);
		return -1;
	}
	char vote[16] = "none";
	if (rec.hs.vote != RAFT_NONE)
		snprintf(vote, sizeof vote, "%u", rec.hs.vote);
	notice("recovered term %llu, vote %s, commit %llu, %zu entries%s",
		 (unsigned long long)rec.hs.term, vote, (unsigned long long)rec.hs.commit, rec.n_entries,
		 rec.torn_bytes_cut ? " (torn tail cut)" : "");
	wal_recovered_free(&rec);
	return 0;
}

/* --join (join.h): an incarnation of its own, stored before it speaks;
 * then, unless an earlier start already got it, the address book from
 * being added, stored in meta.json. A restart with the book skips the
 * request: the node is a member, or was removed (and stays out: wipe the
 * dir to join again). */
static int join_step(server *s, char *stored_peers, char *err, size_t errlen)
{
	const node_config *c = s->cfg;
	bool found = false;
	uint64_t inc = 0;
	if (inc_file_load(c->data_dir, &found, &inc, err, errlen) != 0)
		return -1;
	if (!found) {
		inc = inc_fresh();
		if (inc_file_store(c->data_dir, inc, err, errlen) != 0)
			return -1;
	}
	if (stored_peers != NULL) {
		if (book_parse(&s->book, stored_peers) != 0) {
			snprintf(err, errlen, "%s/meta.json: damaged \"peers\"; refusing to start", c->data_dir);
			return -1;
		}
		return 0;
	}
	if (join_cluster(c, inc, &s->book, err, errlen) != 0)
		return -1;
	char *peers = book_format(&s->book);
	if (peers == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = meta_store_peers(c->data_dir, c->id, peers, err, errlen);
	free(peers);
	return rc;
}

/* The addresses of the other members: --cluster's, or a joined node's book. */
static int fill_book(server *s, char *err, size_t errlen)
{
	const node_config *c = s->cfg;
	for (size_t i = 0; i < c->n_members; i++)
		if (c->members[i].id != c->id &&
		    book_set(&s->book, c->members[i].id, c->members[i].raft_addr, c->members[i].http_addr) != 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	return 0;
}

static int start_inner(server *s, char **stored_peers, char *err, size_t errlen)
{
	const node_config *c = s->cfg;
	if (meta_prepare(c->data_dir, c->id, c->cluster, stored_peers, &s->lock_fd, err, errlen) != 0)
		return -1;
	/* A durable counter, bumped before use (issue 10 item 5); a new life
	 * takes its nonce from the log (RT_NONCE_GENERATION in rt.h). */
	if (rt_boot_next(c->data_dir, &s->nonce, err, errlen) != 0)
		return -1;
	s->faults = faults_new(c->id, random_seed());
	if (s->faults == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	http_server_limits lim = {
		.max_body = c->max_value_bytes + 64 * 1024,
		.max_url = c->max_key_bytes * 3 + 8192, /* a key may be %-encoded */
		.max_headers = 16 * 1024,
		.max_conns = c->max_connections,
		.max_buffered = c->max_buffered_bytes,
		.idle_timeout_ms = c->idle_timeout_ms,
		.header_timeout_ms = c->header_timeout_ms,
		.body_timeout_ms = c->body_timeout_ms,
	};
	if (http_server_start(s->loop, c->http_addr, &lim, api_on_request, s, &s->http, err, errlen) != 0) {
		s->http = NULL;
		return -1;
	}
	http_server_set_common_headers(s->http, api_common_headers, s);
	http_server_set_shed(s->http, api_shed, s);
	if (transport_start(s->loop, c->id, c->raft_addr, server_on_frame, s, &s->transport, err, errlen) != 0) {
		s->transport = NULL;
		return -1;
	}
	if (c->peer_secret != NULL &&
	    transport_set_secret(s->transport, c->peer_secret, strlen(c->peer_secret)) != 0) {
		snprintf(err, errlen, "peer secret: out of memory");
		return -1;
	}
	/* Both ports are bound (a port in use fails before anything is asked
	 * of the cluster); the loop is not running yet, so peers that dial in
	 * wait in the listen backlog while a joining node is being added. */
	if (c->join_url != NULL ? join_step(s, *stored_peers, err, errlen) != 0 : fill_book(s, err, errlen) != 0)
		return -1;
	uint32_t ids[RAFT_MAX_NODES + 1];
	size_t n_ids = 0;
	ids[n_ids++] = c->id;
	for (size_t i = 0; i < s->book.n; i++)
		ids[n_ids++] = s->book.m[i].id;
	if (faults_set_members(s->faults, ids, n_ids) != 0) {
		snprintf(err, errlen, "too many members for the fault layer");
		return -1;
	}
	for (size_t i = 0; i < s->book.n; i++) {
		if (transport_add_peer(s->transport, s->book.m[i].id, s->book.m[i].raft_addr) != 0) {
			snprintf(err, errlen, "peer %u: bad address %s", s->book.m[i].id, s->book.m[i].raft_addr);
			return -1;
		}
	}
	api_members_init(s); /* the transport's peers: the book's, then the log's */
	if (open_wal(s, err, errlen) != 0)
		return -1;
	server_refresh_status(s);
	int rc = start_handles(s);
	if (rc == 0)
		rc = probe_removed_start(s);
	if (rc != 0) {
		snprintf(err, errlen, "event loop set-up failed: %s", uv_strerror(rc));
		return -1;
	}
	return 0;
}

static int start(server *s, char *err, size_t errlen)
{
	char *stored_peers = NULL;
	int rc = start_inner(s, &stored_peers, err, errlen);
	free(stored_peers);
	return rc;
}

static void free_all(server *s)
{
	if (s->wal != NULL)
		wal_close(s->wal);
	rt_free(s->rt);
	server_snap_free(s);
	api_members_free(s);
	probe_removed_free(s);
	faults_free(s->faults);
	book_free(&s->book);
	bytebuf_free(&s->out);
	bytebuf_free(&s->hdrs);
	if (s->lock_fd >= 0 && close(s->lock_fd) != 0)
		notice("closing the data dir lock failed");
	loop_stall_close(&s->stall);
}

int server_run(const node_config *cfg)
{
	notice_set_node(cfg->id);
	uv_loop_t loop;
	int rc = uv_loop_init(&loop);
	if (rc != 0) {
		fprintf(stderr, "raftkv: cannot create the event loop: %s\n", uv_strerror(rc));
		return 1;
	}
	server *s = calloc(1, sizeof *s);
	if (s == NULL) {
		fprintf(stderr, "raftkv: out of memory\n");
		return 1;
	}
	s->loop = &loop;
	s->cfg = cfg;
	s->lock_fd = -1;
	s->leader = RAFT_NONE;
	/* Not node 0 (calloc's zero): a first frame from leader 0 would be
	 * measured as a gap since the loop's clock started. */
	s->leader_heard = RAFT_NONE;
	metrics_init(&s->metrics);
	loop_stall_init(&s->stall); /* here: the loop runs on this thread */
	char err[512] = "";
	int status = 0;
	if (start(s, err, sizeof err) != 0) {
		fprintf(stderr, "raftkv: %s\n", err);
		status = 1;
		begin_shutdown(s);
	} else {
		notice("serving HTTP on %s, Raft on %s, data in %s", cfg->http_addr,
			 cfg->raft_addr, cfg->data_dir);
	}
	rc = uv_run(&loop, UV_RUN_DEFAULT);
	(void)rc; /* returns non-zero only for uv_stop, which nothing calls */
	if (status == 0)
		status = s->exit_status;
	free_all(s);
	rc = uv_loop_close(&loop);
	if (rc != 0)
		notice("event loop closed with handles still open: %s", uv_strerror(rc));
	if (status == 0)
		notice("stopped");
	else if (s->exit_why[0] != '\0')
		notice("%s", s->exit_why); /* last, the one reason it stopped */
	free(s);
	return status;
}
