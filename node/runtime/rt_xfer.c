/*
 * rt_xfer.c — InstallSnapshot in the runtime (node/snapshot/README.md steps
 * 3 and 4): streaming the newest snapshot file to a follower the leader's log
 * no longer covers, and receiving one.
 *
 * Sending (leader). A RAFT_MSG_SNAPSHOT from the core is never encoded; it
 * opens a transfer (snap_send) of the newest snapshot file at or past the
 * index the core asks for, to that follower. Chunks leave through peer_send,
 * like every frame (fault filter, then io->send; the transport queues them
 * behind every control frame, so heartbeats and votes overtake them), at
 * most the window beyond the last acknowledged offset. The follower's ACKs
 * drive the window; an ACK of DONE ends it with raft_report_snapshot(true).
 * With no ACK for an election timeout (lost chunks, a dropped connection)
 * the transfer rewinds to the acknowledged offset and sends again; after
 * XFER_MAX_RETRIES such rounds, or when the follower refused the stream too
 * often, it gives up with raft_report_snapshot(false), and the core asks
 * again at its next probe. A second request while a transfer to that
 * follower runs in the same term keeps it. A transfer ends silently when
 * this node is no longer the leader of its term or the core stopped
 * waiting for it.
 *
 * Receiving (follower). CHUNK frames go to snap_recv, which checks every
 * byte as it comes; the bytes are written aside by its I/O step, off the
 * loop when the host has a worker (rt_io.recv_io; a disk stall must not
 * hold up heartbeats). Chunks are acknowledged at once while the accepted
 * bytes run at most SNAP_RECV_AHEAD beyond the written ones, otherwise
 * when the step that writes them ends.
 * When the last chunk has checked and the final step made the file durable
 * under its snapshot name, the restored state machine is held here and the core is
 * stepped with a RAFT_MSG_SNAPSHOT (from the chunk's leader and term). If
 * the core installs it, the next ready carries `install`: the held machine
 * replaces the runtime's (map, dedup windows), the applied index jumps, and
 * that ready's WAL batch starts with a RESET record (rt_wal.c), so the
 * core's acknowledgement of the install, held behind that must-sync write,
 * leaves only once the reset log is durable. Otherwise (already covered,
 * or the log holds that entry) the held machine is dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../net/wire_snapshot.h"
#include "../raft/membership.h"
#include "rt_internal.h"

#define XFER_MAX_RETRIES 8 /* election timeouts without an ACK before giving up */

/* ------------------------------------------------------------ life cycle */

void xfer_init(rt *r)
{
	memset(&r->xfer, 0, sizeof r->xfer);
}

static void out_free(rt_xfer *x, size_t i)
{
	snap_send_free(x->out[i].s);
	x->out[i] = x->out[--x->n_out];
	memset(&x->out[x->n_out], 0, sizeof x->out[0]);
}

static void held_drop(rt_xfer *x)
{
	if (x->held) {
		kv_machine_destroy(&x->held_kv);
		x->held = false;
	}
}

void xfer_destroy(rt *r)
{
	rt_xfer *x = &r->xfer;
	while (x->n_out > 0)
		out_free(x, 0);
	snap_recv_free(x->in);
	x->in = NULL;
	held_drop(x);
}

static xfer_out *out_find(rt_xfer *x, uint32_t to, size_t *idx)
{
	for (size_t i = 0; i < x->n_out; i++)
		if (x->out[i].to == to) {
			if (idx != NULL)
				*idx = i;
			return &x->out[i];
		}
	return NULL;
}

static void owe_failure(rt_xfer *x, uint32_t to)
{
	for (size_t i = 0; i < x->n_fail; i++)
		if (x->fail[i] == to)
			return;
	if (x->n_fail < RAFT_MAX_NODES)
		x->fail[x->n_fail++] = to;
}

static size_t chunk_size(const rt *r)
{
	size_t c = r->o.snap_chunk != 0 ? r->o.snap_chunk : SNAP_XFER_CHUNK;
	return c > WIRE_SNAP_MAX_CHUNK ? WIRE_SNAP_MAX_CHUNK : c;
}

static size_t window(const rt *r)
{
	return r->o.snap_window != 0 ? r->o.snap_window : SNAP_XFER_WINDOW;
}

/* ------------------------------------------------------------ sending */

/* The newest snapshot file at or past min_index, into path. 0, or -1. */
static int newest_file(rt *r, uint64_t min_index, char *path, size_t n, uint64_t *index,
		       uint64_t *term)
{
	snapshot_file *files;
	size_t nf;
	char err[256];
	if (r->o.snap_dir == NULL || snapshot_list(r->o.snap_dir, &files, &nf, err, sizeof err) != 0)
		return -1;
	int rc = -1;
	if (nf > 0 && files[0].index >= min_index) {
		snprintf(path, n, "%s/%s", r->o.snap_dir, files[0].name);
		*index = files[0].index;
		*term = files[0].term;
		rc = 0;
	}
	free(files);
	return rc;
}

/* A RAFT_MSG_SNAPSHOT in a ready (inside the ready: failures are reported
 * to the core after it, xfer_after_ready). */
void xfer_request(rt *r, const raft_msg *m)
{
	rt_xfer *x = &r->xfer;
	size_t i;
	xfer_out *o = out_find(x, m->to, &i);
	if (o != NULL) {
		if (o->term == m->term && o->index >= m->index)
			return; /* the running transfer answers this request too */
		out_free(x, i);
	}
	char path[600];
	uint64_t index, term;
	if (x->n_out >= RAFT_MAX_NODES || newest_file(r, m->index, path, sizeof path, &index, &term) != 0) {
		r->st.snap_sends_failed++;
		owe_failure(x, m->to);
		return;
	}
	char err[300];
	snap_send *s = snap_send_open(path, index, term, r->id, m->to, m->term, chunk_size(r),
				      window(r), err, sizeof err);
	if (s == NULL) {
		r->st.snap_sends_failed++;
		owe_failure(x, m->to);
		return;
	}
	o = &x->out[x->n_out++];
	memset(o, 0, sizeof *o);
	o->to = m->to;
	o->term = m->term;
	o->index = index;
	o->s = s;
	r->st.snap_sends_started++;
}

/* Ends transfer i: ok or given up; either way the core hears it. */
static void out_end(rt *r, size_t i, bool ok)
{
	rt_xfer *x = &r->xfer;
	uint32_t to = x->out[i].to;
	out_free(x, i);
	if (ok)
		r->st.snap_sends_done++;
	else
		r->st.snap_sends_failed++;
	raft_report_snapshot(r->raft, to, ok);
	r->io.kick(r->io.ud);
}

/* Sends what the windows allow. Not inside a ready (out_end reports). */
static void pump(rt *r)
{
	rt_xfer *x = &r->xfer;
	for (size_t i = 0; i < x->n_out;) {
		xfer_out *o = &x->out[i];
		int rc;
		uint8_t *frame;
		size_t len;
		char err[300];
		while ((rc = snap_send_next(o->s, &frame, &len, err, sizeof err)) == 1) {
			r->st.snapshot_chunks_sent++;
			peer_send(r, o->to, frame, len);
		}
		if (rc < 0) {
			out_end(r, i, false);
			continue;
		}
		i++;
	}
}

void xfer_after_ready(rt *r)
{
	rt_xfer *x = &r->xfer;
	for (size_t i = 0; i < x->n_fail; i++)
		raft_report_snapshot(r->raft, x->fail[i], false);
	x->n_fail = 0;
	if (x->n_out > 0)
		pump(r);
}

/* Each tick: transfers whose leader is gone end; a silent one rewinds, and
 * after XFER_MAX_RETRIES silent election timeouts gives up. */
void xfer_tick(rt *r)
{
	rt_xfer *x = &r->xfer;
	if (x->n_out == 0)
		return;
	raft_status *st = malloc(sizeof *st);
	if (st == NULL)
		return;
	raft_get_status(r->raft, st);
	for (size_t i = 0; i < x->n_out;) {
		xfer_out *o = &x->out[i];
		bool waiting = false;
		for (size_t k = 0; k < st->n_peers; k++)
			if (st->peers[k].id == o->to)
				waiting = st->peers[k].sending_snapshot;
		if (st->role != RAFT_LEADER || st->term != o->term || !waiting) {
			out_free(x, i); /* nobody waits for it: nothing to report */
			continue;
		}
		if (++o->quiet_ticks >= r->election_ticks) {
			o->quiet_ticks = 0;
			if (++o->retries > XFER_MAX_RETRIES) {
				out_end(r, i, false);
				continue;
			}
			snap_send_rewind(o->s);
			r->st.snap_rewinds++;
		}
		i++;
	}
	free(st);
	pump(r);
}

static int on_ack(rt *r, uint32_t from, const uint8_t *frame, size_t len)
{
	wire_snap_ack a;
	const char *why = NULL;
	if (wire_decode_snap_ack(frame, len, &a, &why) != 0 || a.from != from || a.to != r->id) {
		r->st.bad_frames++;
		return -1;
	}
	rt_xfer *x = &r->xfer;
	size_t i;
	xfer_out *o = out_find(x, from, &i);
	if (o == NULL || a.index != o->index)
		return 0; /* a transfer that ended already */
	uint64_t before = snap_send_acked(o->s);
	int rc = snap_send_ack(o->s, &a);
	if (rc != 0) {
		out_end(r, i, rc == 1);
		return 0;
	}
	if (snap_send_acked(o->s) > before || a.status == WIRE_SNAP_RESTART) {
		o->quiet_ticks = 0;
		o->retries = 0;
	}
	pump(r);
	return 0;
}

/* ------------------------------------------------------------ receiving */

static void send_ack(rt *r, uint32_t to, const wire_snap_ack *a)
{
	uint8_t *f = malloc(WIRE_SNAP_ACK_LEN);
	if (f == NULL) {
		r->st.msgs_dropped_queue++;
		return; /* the leader rewinds after its timeout */
	}
	wire_encode_snap_ack(a, f);
	peer_send(r, to, f, WIRE_SNAP_ACK_LEN);
}

/* The log is gone up to the snapshot, a configuration from it included
 * (perhaps a deposed leader's): the snapshot's configuration is the one in
 * force now, or the bootstrap one when it has none (no CONF entry was ever
 * applied up to it). 0, or -1. */
static int set_conf(rt *r, const kv_snap_meta *meta)
{
	if (meta->conf_len > 0)
		return raft_set_snapshot_conf(r->raft, meta->conf, meta->conf_len) == RAFT_OK ? 0 : -1;
	member_conf *c = calloc(1, sizeof *c);
	if (c == NULL)
		return -1;
	c->op = RAFT_CONF_PROMOTE; /* any valid op: only REMOVE means more */
	c->subject = RAFT_NONE;
	for (uint32_t i = 0; i < r->snap.n_boot_voters && i < RAFT_MAX_NODES; i++) {
		c->m[i].id = r->snap.boot_voters[i];
		c->m[i].voter = true;
		c->n = i + 1;
	}
	uint8_t *data = NULL;
	uint32_t len = 0;
	int rc = c->n > 0 && membership_encode(c, &data, &len) == RAFT_OK &&
			 raft_set_snapshot_conf(r->raft, data, len) == RAFT_OK
		 ? 0
		 : -1;
	free(data);
	free(c);
	return rc;
}

/* A complete, checked snapshot: hold it and let the core decide. */
static void completed(rt *r, uint32_t from, uint64_t leader_term)
{
	rt_xfer *x = &r->xfer;
	held_drop(x);
	char path[600];
	if (snap_recv_take(x->in, &x->held_kv, &x->held_meta, path, sizeof path) != 0)
		return;
	x->held = true;
	r->st.snap_received++;
	raft_msg m;
	memset(&m, 0, sizeof m);
	m.type = RAFT_MSG_SNAPSHOT;
	m.from = from;
	m.to = r->id;
	m.term = leader_term;
	m.index = x->held_meta.index;
	m.log_term = x->held_meta.term;
	raft_status *st = malloc(sizeof *st);
	if (st == NULL) {
		held_drop(x); /* the leader sends it again */
		return;
	}
	raft_get_status(r->raft, st);
	uint64_t before = st->applied;
	(void)raft_step(r->raft, &m);
	raft_get_status(r->raft, st);
	/* The core installs by moving its applied index to the snapshot's
	 * (snapshot.c); otherwise the snapshot brought nothing new. */
	bool installs = before < m.index && st->applied == m.index;
	free(st);
	if (!installs) {
		/* Not needed (the log or the state machine already holds it, or
		 * its leader is deposed): the file goes too, unless it is this
		 * node's own snapshot of that index, so the snapshot dir holds
		 * nothing ahead of what the WAL continues. */
		held_drop(x);
		if (m.index > r->snap.index &&
		    !(r->snap.state == RT_SNAP_WRITING && r->snap.w_index == m.index))
			(void)unlink(path);
	} else if (set_conf(r, &x->held_meta) != 0) {
		rt_fail(r, "the core refuses the configuration of an installed snapshot");
	}
	r->io.kick(r->io.ud);
}

static void xfer_io_end(rt *r);

/* Runs the receiver's disk step when one is wanted: on the host's worker
 * (io.recv_io), or here when the host has none. */
static void recv_io_kick(rt *r)
{
	rt_xfer *x = &r->xfer;
	while (x->in != NULL && !x->in_io && snap_recv_io_wanted(x->in)) {
		snap_recv_io_begin(x->in);
		x->in_io = true;
		if (r->io.recv_io != NULL && r->io.recv_io(r->io.ud, x->in) == 0)
			return; /* rt_xfer_io_done follows */
		snap_recv_io_run(x->in);
		xfer_io_end(r);
	}
}

/* The disk step ended: its answer to the leader (CONTINUE for the bytes now
 * written, DONE once the file is durable, RESTART after a failure). */
static void xfer_io_end(rt *r)
{
	rt_xfer *x = &r->xfer;
	wire_snap_ack ack;
	char err[300];
	x->in_io = false;
	int rc = snap_recv_io_end(x->in, &ack, err, sizeof err);
	if (rc == SNAP_RECV_NO_ACK)
		return;
	if (rc < 0)
		r->st.snap_refused++;
	send_ack(r, ack.to, &ack);
	if (rc == 1)
		completed(r, ack.to, ack.term);
}

void rt_xfer_io_done(rt *r)
{
	if (!r->xfer.in_io || r->xfer.in == NULL)
		return;
	/* A paused node does nothing at all: the step is done, its answer
	 * waits for the resume (as a WAL write's does, rt_wal.c). */
	if (r->paused) {
		r->xfer.in_io_done_paused = true;
		return;
	}
	xfer_io_end(r);
	recv_io_kick(r);
}

void xfer_resume(rt *r)
{
	if (!r->xfer.in_io_done_paused)
		return;
	r->xfer.in_io_done_paused = false;
	rt_xfer_io_done(r);
}

static int on_chunk(rt *r, uint32_t from, const uint8_t *frame, size_t len)
{
	wire_snap_chunk c;
	const char *why = NULL;
	if (wire_decode_snap_chunk(frame, len, &c, &why) != 0 || c.from != from || c.to != r->id) {
		r->st.bad_frames++;
		return -1;
	}
	rt_xfer *x = &r->xfer;
	if (r->o.snap_dir == NULL)
		return 0; /* this host keeps no snapshots: the leader gives up */
	if (x->in == NULL) {
		if ((x->in = snap_recv_new(r->o.snap_dir)) == NULL)
			return 0; /* out of memory: the leader resends */
		/* The disk work leaves the loop: chunks are checked here and
		 * written by the I/O step (recv_io_kick). */
		snap_recv_set_deferred(x->in, true);
		if (r->o.snap_ahead != 0)
			snap_recv_set_ahead(x->in, r->o.snap_ahead);
#ifdef RAFT_PLANTED_BUGS
		if (RT_PLANTED(r, RT_BUG_INSTALL_UNCHECKED))
			snap_recv_plant_unchecked(x->in);
#endif
	}
	wire_snap_ack ack;
	char err[300];
	if (x->in_first_ms == 0)
		x->in_first_ms = r->io.now_ms(r->io.ud) | 1;
	uint64_t before = snap_recv_chunks(x->in);
	int rc = snap_recv_chunk(x->in, &c, &ack, err, sizeof err);
	r->st.snapshot_chunks_received += snap_recv_chunks(x->in) - before;
	if (rc < 0)
		r->st.snap_refused++;
	if (rc == 0 || rc == 1 || rc < 0)
		send_ack(r, from, &ack);
	if (rc == 1)
		completed(r, from, c.term);
	recv_io_kick(r);
	return 0;
}

bool xfer_is_frame(const uint8_t *frame, size_t len)
{
	return len > 5 && (frame[5] == WIRE_MSG_SNAP_CHUNK || frame[5] == WIRE_MSG_SNAP_ACK);
}

int xfer_frame(rt *r, uint32_t from, const uint8_t *frame, size_t len)
{
	r->st.msgs_received++;
	if (r->probing)
		return 0; /* silent until the incarnation is decided */
	if (frame[5] == WIRE_MSG_SNAP_ACK)
		return on_ack(r, from, frame, len);
	return on_chunk(r, from, frame, len);
}

/* ------------------------------------------------------------ install */

int xfer_install(rt *r, const raft_ready *rd)
{
	rt_xfer *x = &r->xfer;
	if (!x->held || x->held_meta.index != rd->install_index ||
	    x->held_meta.term != rd->install_term) {
		rt_fail(r, "the core installs a snapshot the runtime does not hold");
		return -1;
	}
	kv_machine_destroy(&r->kv);
	r->kv = x->held_kv;
	x->held = false;
	/* The received file is durable: it is this node's newest snapshot,
	 * and the WAL restarts at it (rt_snapshot.c's state follows). */
	rt_snapshot_installed(r, &x->held_meta);
	r->st.snapshot_installs++;
	if (x->in_first_ms != 0)
		r->st.snapshot_install_ms = r->io.now_ms(r->io.ud) - (x->in_first_ms & ~(uint64_t)1);
	x->in_first_ms = 0;
	if (r->io.on_install != NULL)
		r->io.on_install(r->io.ud, &x->held_meta);
	return 0;
}
