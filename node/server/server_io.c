/*
 * server_io.c — the runtime's I/O table (node/runtime/rt_io.h) on libuv:
 * frames go to the TCP transport, delayed frames wait on uv timers, the
 * clock is uv_now, outcomes go to the HTTP API (node/api/api_outcome.c),
 * and the WAL write runs on a worker (server_wal.c).
 */
#include <stdarg.h>
#include <stdlib.h>

#include "../api/api.h"
#include "notice.h"
#include "server_internal.h"
#include "../runtime/rt_boot.h"
#include "../runtime/rt_incarnation_file.h"

static void io_send(void *ud, uint32_t to, uint8_t *frame, size_t len)
{
	server *s = ud;
	if (s->transport == NULL || transport_send_frame(s->transport, to, frame, len) != 0)
		s->metrics.msgs_dropped_transport++;
}

static void unlink_delay(server *s, delay_timer *t)
{
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		s->delays = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	t->prev = t->next = NULL;
}

static void on_delay_closed(uv_handle_t *h)
{
	free(h->data);
}

static void on_delay_fired(uv_timer_t *h)
{
	delay_timer *t = h->data;
	server *s = t->s;
	unlink_delay(s, t);
	rt_deferred_due(s->rt, t->d);
	uv_close((uv_handle_t *)&t->timer, on_delay_closed);
}

static int io_defer(void *ud, uint32_t ms, rt_deferred *d)
{
	server *s = ud;
	if (s->stopping)
		return -1;
	delay_timer *t = calloc(1, sizeof *t);
	if (t == NULL || uv_timer_init(s->loop, &t->timer) != 0) {
		free(t);
		return -1;
	}
	t->timer.data = t;
	t->s = s;
	t->d = d;
	if (uv_timer_start(&t->timer, on_delay_fired, ms, 0) != 0) {
		uv_close((uv_handle_t *)&t->timer, on_delay_closed);
		return -1;
	}
	t->next = s->delays;
	if (s->delays != NULL)
		s->delays->prev = t;
	s->delays = t;
	return 0;
}

/* Shutdown: the timers never fire; the runtime frees what they held. */
void server_io_close_delays(server *s)
{
	while (s->delays != NULL) {
		delay_timer *t = s->delays;
		unlink_delay(s, t);
		uv_close((uv_handle_t *)&t->timer, on_delay_closed);
	}
}

static uint64_t io_now_ms(void *ud)
{
	return server_real_ms(ud);
}

static void io_kick(void *ud)
{
	server_kick(ud);
}

static void io_fatal(void *ud, const char *what)
{
	(void)ud;
	server_fatal("%s", what);
}

/* Logs role and leader changes. */
static void io_on_ready(void *ud, const raft_ready *rd)
{
	server *s = ud;
	if (!rd->soft_changed)
		return;
	if (rd->role != s->role || rd->leader != s->leader) {
		raft_status st;
		raft_get_status(rt_raft(s->rt), &st);
		if (rd->leader == RAFT_NONE)
			notice("term %llu: %s, no leader known", (unsigned long long)st.term,
				 raft_role_name(rd->role));
		else
			notice("term %llu: %s, leader %u", (unsigned long long)st.term,
				 raft_role_name(rd->role), rd->leader);
	}
	s->role = rd->role;
	s->leader = rd->leader;
}

int server_on_frame(void *ud, uint32_t from, const uint8_t *frame, size_t len)
{
	server *s = ud;
	if (s->stopping || s->rt == NULL)
		return 0;
	if (s->role == RAFT_FOLLOWER && from == s->leader) {
		uint64_t now = server_real_ms(s);
		if (s->leader_heard == from && now >= s->leader_heard_ms)
			histogram_observe(&s->metrics.leader_gap_seconds,
					  (double)(now - s->leader_heard_ms) / 1000.0);
		s->leader_heard = from;
		s->leader_heard_ms = now;
	}
	return rt_step_frame(s->rt, from, frame, len);
}

static int io_keep_incarnation(void *ud, uint64_t inc)
{
	server *s = ud;
	char err[512];
	if (inc_file_store(s->cfg->data_dir, inc, err, sizeof err) != 0) {
		notice("%s", err);
		return -1;
	}
	if (inc == 0)
		notice("incarnation 0: the cluster is new (a majority of the other members answered empty)");
	else
		notice("incarnation %llu: the cluster exists and this data dir was empty; waiting to be "
		       "replaced in by the leader", (unsigned long long)inc);
	return 0;
}

static int io_raise_nonce(void *ud, uint64_t at_least, uint64_t *nonce)
{
	server *s = ud;
	char err[512];
	if (rt_boot_raise(s->cfg->data_dir, at_least, nonce, err, sizeof err) != 0) {
		notice("%s", err);
		return -1;
	}
	s->nonce = *nonce;
	notice("boot nonce %llu: above every nonce the log shows for this id (the data dir was empty)",
	       (unsigned long long)*nonce);
	return 0;
}

void server_io_init(server *s, rt_io *io)
{
	*io = (rt_io){
		.ud = s,
		.write = server_wal_write,
		.send = io_send,
		.defer = io_defer,
		.now_ms = io_now_ms,
		.outcome = api_on_outcome,
		.kick = io_kick,
		.fatal = io_fatal,
		.on_ready = io_on_ready,
		.keep_incarnation = io_keep_incarnation,
		.raise_nonce = io_raise_nonce,
		.on_applied = api_members_on_applied,
	};
	server_snap_io(io);
}
