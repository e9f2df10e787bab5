/*
 * stream.c — snapshot files and the chunked snapshot transfer in the
 * interaction scripts (stream.h; commands in README.md).
 *
 * What the runtime does (node/runtime/rt_xfer.c), step by step and with the
 * same pieces: a `snapshot` message of a leader is never delivered as such;
 * `stream` takes it off the network and opens a sender (snap_send) of the
 * leader's newest snapshot file at or past the index asked; `stream-send`
 * sends what the window allows as CHUNK frames; each chunk delivered goes to
 * the follower's receiver (snap_recv), which answers with an ACK frame; the
 * ACK delivered moves the leader's window; `stream-rewind` is the runtime's
 * silence timer (or a reconnect): resend from the acknowledged offset. When
 * the receiver holds the whole checked stream durably, the follower's core is
 * stepped with a RAFT_MSG_SNAPSHOT from the chunk's leader and term, and the
 * next ready shows the install; a DONE ack reported to the leader's core
 * (raft_report_snapshot ok), a transfer given up reported as failed.
 *
 * The state machine in a snapshot file: one key per command entry applied up
 * to its index (the entry's data), valued "index@term". Two nodes that
 * compact the same log at the same index write the same bytes, so a
 * transfer of that snapshot continues from one leader to the next.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../node/snapshot/snapshot.h"
#include "../../node/snapshot/snapshot_xfer.h"
#include "stream.h"

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (p == NULL) {
		fprintf(stderr, "interaction: out of memory\n");
		exit(2);
	}
	return p;
}

/* "<e->dir>/n<ID>", malloc'd; the top directory is made on first use. NULL
 * (printed) if it cannot be. */
static char *node_dir(env *e, const env_node *nd)
{
	if (e->dir == NULL) {
		const char *t = getenv("TMPDIR");
		size_t n = strlen(t != NULL && *t != '\0' ? t : "/tmp") + 32;
		char *d = xmalloc(n);
		snprintf(d, n, "%s/raftkv-interaction-XXXXXX", t != NULL && *t != '\0' ? t : "/tmp");
		if (mkdtemp(d) == NULL) {
			fprintf(e->out, "error: mkdtemp %s: %s\n", d, strerror(errno));
			free(d);
			return NULL;
		}
		e->dir = d;
	}
	size_t n = strlen(e->dir) + 16;
	char *p = xmalloc(n);
	snprintf(p, n, "%s/n%" PRIu32, e->dir, nd->id);
	return p;
}

static void meta_for(const env_node *nd, uint64_t index, uint64_t term, kv_snap_meta *meta)
{
	memset(meta, 0, sizeof *meta);
	meta->index = index;
	meta->term = term;
	for (size_t i = 0; i < nd->cfg.n_voters && i < KV_SNAP_MAX_VOTERS; i++)
		meta->voters[meta->n_voters++] = nd->cfg.voters[i];
}

int stream_write_file(env *e, env_node *nd, uint64_t index, uint64_t term,
		      const raft_entry *ents, size_t n)
{
	char *dir = node_dir(e, nd);
	if (dir == NULL)
		return -1;
	char err[512];
	kv_machine m;
	snapshot_file *files = NULL;
	size_t nf = 0;
	int rc = -1;
	if (snapshot_list(dir, &files, &nf, err, sizeof err) != 0) {
		fprintf(e->out, "error: %s\n", err);
		goto out;
	}
	/* The newest older file, plus the entries compacted now. */
	size_t k = 0;
	while (k < nf && files[k].index >= index)
		k++;
	if (k < nf) {
		char path[600];
		kv_snap_meta old;
		snprintf(path, sizeof path, "%s/%s", dir, files[k].name);
		if (snapshot_read_file(path, &m, &old, err, sizeof err) != 0) {
			fprintf(e->out, "error: %s\n", err);
			goto out;
		}
	} else if (kv_machine_init(&m) != 0) {
		fputs("error: out of memory\n", e->out);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (ents[i].type != RAFT_ENTRY_NORMAL || ents[i].len == 0)
			continue;
		char val[48];
		int vl = snprintf(val, sizeof val, "%" PRIu64 "@%" PRIu64, ents[i].index, ents[i].term);
		if (kv_store_put(m.store, ents[i].data, ents[i].len, (const uint8_t *)val,
				 (size_t)vl) != 0) {
			fputs("error: out of memory\n", e->out);
			kv_machine_destroy(&m);
			goto out;
		}
	}
	kv_snap_meta meta;
	meta_for(nd, index, term, &meta);
	uint64_t bytes;
	rc = snapshot_save(dir, &m, &meta, &bytes, err, sizeof err);
	if (rc != 0)
		fprintf(e->out, "error: %s\n", err);
	kv_machine_destroy(&m);
out:
	free(files);
	free(dir);
	return rc;
}

static void out_drop(env_node *nd, size_t i)
{
	snap_send_free(nd->out[i].s);
	nd->out[i] = nd->out[--nd->n_out];
	memset(&nd->out[nd->n_out], 0, sizeof nd->out[0]);
}

void stream_node_down(env *e, env_node *nd)
{
	(void)e;
	while (nd->n_out > 0)
		out_drop(nd, 0);
	snap_recv_free(nd->in);
	nd->in = NULL;
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		size_t n = strlen(dir) + strlen(de->d_name) + 2;
		char *p = xmalloc(n);
		snprintf(p, n, "%s/%s", dir, de->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(p);
		else
			(void)unlink(p);
		free(p);
	}
	closedir(d);
	(void)rmdir(dir);
}

void stream_node_wipe(env *e, env_node *nd)
{
	if (e->dir == NULL)
		return;
	char *dir = node_dir(e, nd);
	if (dir != NULL)
		remove_tree(dir);
	free(dir);
}

void stream_free(env *e)
{
	for (size_t i = 0; i < e->n; i++)
		stream_node_down(e, &e->nodes[i]);
	for (size_t i = 0; i < e->n_frames; i++)
		free(e->frames[i].buf);
	free(e->frames);
	e->frames = NULL;
	e->n_frames = e->cap_frames = 0;
	if (e->dir != NULL)
		remove_tree(e->dir);
	free(e->dir);
	e->dir = NULL;
}

/* ----------------------------------------------------------- frames */

static const char *status_name(uint8_t s)
{
	switch (s) {
	case WIRE_SNAP_CONTINUE: return "continue";
	case WIRE_SNAP_DONE: return "done";
	case WIRE_SNAP_RESTART: return "restart";
	default: return "?";
	}
}

/* "chunk 1->3 offset=0 len=32 (of 5@1)" or "ack 3->1 continue offset=32". */
static void fmt_frame(FILE *o, const uint8_t *buf, size_t len)
{
	const char *why = NULL;
	if (len > 5 && buf[5] == WIRE_MSG_SNAP_CHUNK) {
		wire_snap_chunk c;
		if (wire_decode_snap_chunk(buf, len, &c, &why) != 0) {
			fprintf(o, "bad chunk frame (%s)", why);
			return;
		}
		fprintf(o, "chunk %" PRIu32 "->%" PRIu32 " term=%" PRIu64 " at=%" PRIu64 "@%" PRIu64
			" offset=%" PRIu64 " len=%" PRIu32 "%s", c.from, c.to, c.term, c.index,
			c.snap_term, c.offset, c.len, c.last ? " last" : "");
		return;
	}
	wire_snap_ack a;
	if (wire_decode_snap_ack(buf, len, &a, &why) != 0) {
		fprintf(o, "bad ack frame (%s)", why != NULL ? why : "?");
		return;
	}
	fprintf(o, "ack %" PRIu32 "->%" PRIu32 " %s offset=%" PRIu64, a.from, a.to,
		status_name(a.status), a.offset);
}

/* Puts a frame in flight (taking buf), unless a partition swallows it. */
static void frame_send(env *e, uint32_t from, uint32_t to, uint8_t *buf, size_t len,
		       const char *indent)
{
	if (env_link_cut(e, from, to)) {
		fprintf(e->out, "%slost in the partition: ", indent);
		fmt_frame(e->out, buf, len);
		fputc('\n', e->out);
		free(buf);
		return;
	}
	if (e->n_frames == e->cap_frames) {
		e->cap_frames = e->cap_frames ? e->cap_frames * 2 : 16;
		env_frame *f = realloc(e->frames, e->cap_frames * sizeof *f);
		if (f == NULL) {
			fprintf(stderr, "interaction: out of memory\n");
			exit(2);
		}
		e->frames = f;
	}
	e->frames[e->n_frames++] = (env_frame){.from = from, .to = to, .buf = buf, .len = len};
}

void stream_net(env *e)
{
	if (e->n_frames == 0)
		fputs("no snapshot frames in flight\n", e->out);
	for (size_t i = 0; i < e->n_frames; i++) {
		fmt_frame(e->out, e->frames[i].buf, e->frames[i].len);
		fputc('\n', e->out);
	}
}

/* ----------------------------------------------------------- sending */

static struct env_out *out_find(env_node *nd, uint32_t to, size_t *idx)
{
	for (size_t i = 0; i < nd->n_out; i++)
		if (nd->out[i].to == to) {
			*idx = i;
			return &nd->out[i];
		}
	return NULL;
}

void stream_open(env *e, env_node *leader, uint32_t to, uint64_t chunk, uint64_t window)
{
	/* The core's request, taken off the network like the runtime does. */
	raft_msg m;
	size_t k;
	for (k = 0; k < e->net.n; k++)
		if (e->net.v[k].type == RAFT_MSG_SNAPSHOT && e->net.v[k].from == leader->id &&
		    e->net.v[k].to == to)
			break;
	if (k == e->net.n) {
		fprintf(e->out, "error: no snapshot message %" PRIu32 "->%" PRIu32 " in flight\n",
			leader->id, to);
		return;
	}
	m = e->net.v[k];
	memmove(&e->net.v[k], &e->net.v[k + 1], (e->net.n - k - 1) * sizeof m);
	e->net.n--;
	fprintf(e->out, "stream %" PRIu32 "->%" PRIu32 ": the core asks for a snapshot at or past %" PRIu64
		"@%" PRIu64 "\n", leader->id, to, m.index, m.log_term);
	size_t i;
	struct env_out *o = out_find(leader, to, &i);
	if (o != NULL) {
		if (o->term == m.term && o->index >= m.index) {
			fprintf(e->out, "  the running transfer answers it (acked %" PRIu64 " of %" PRIu64 ")\n",
				snap_send_acked(o->s), snap_send_total(o->s));
			env_msg_free(&m);
			return;
		}
		out_drop(leader, i);
	}
	env_msg_free(&m);
	char *dir = node_dir(e, leader);
	if (dir == NULL)
		return;
	char err[512];
	snapshot_file *files = NULL;
	size_t nf = 0;
	if (snapshot_list(dir, &files, &nf, err, sizeof err) != 0 || nf == 0 ||
	    files[0].index < m.index) {
		fprintf(e->out, "  no snapshot file at or past %" PRIu64 ": raft_report_snapshot(%" PRIu32
			", fail)\n", m.index, to);
		raft_report_snapshot(leader->r, to, false);
		free(files);
		free(dir);
		return;
	}
	char path[600];
	snprintf(path, sizeof path, "%s/%s", dir, files[0].name);
	snap_send *s = snap_send_open(path, files[0].index, files[0].term, leader->id, to, m.term,
				      (size_t)chunk, (size_t)window, err, sizeof err);
	if (s == NULL) {
		fprintf(e->out, "error: %s\n", err);
	} else {
		o = &leader->out[leader->n_out++];
		*o = (struct env_out){.to = to, .term = m.term, .index = files[0].index, .s = s};
		fprintf(e->out, "  sending the snapshot at %" PRIu64 "@%" PRIu64 ": %" PRIu64
			" bytes, chunks of %" PRIu64 ", window %" PRIu64 "\n", files[0].index,
			files[0].term, snap_send_total(s), chunk, window);
	}
	free(files);
	free(dir);
}

void stream_send(env *e, env_node *leader)
{
	if (leader->n_out == 0)
		fprintf(e->out, "%" PRIu32 ": no transfer running\n", leader->id);
	for (size_t i = 0; i < leader->n_out; i++) {
		struct env_out *o = &leader->out[i];
		uint8_t *frame;
		size_t len;
		char err[300];
		int rc, sent = 0;
		while ((rc = snap_send_next(o->s, &frame, &len, err, sizeof err)) == 1) {
			fputs("send ", e->out);
			fmt_frame(e->out, frame, len);
			fputc('\n', e->out);
			frame_send(e, leader->id, o->to, frame, len, "  ");
			sent++;
		}
		if (rc < 0)
			fprintf(e->out, "error: %s\n", err);
		else if (sent == 0)
			fprintf(e->out, "%" PRIu32 "->%" PRIu32 ": nothing to send (acked %" PRIu64
				" of %" PRIu64 ")\n", leader->id, o->to, snap_send_acked(o->s),
				snap_send_total(o->s));
	}
}

void stream_rewind(env *e, env_node *leader, uint32_t to)
{
	size_t i;
	struct env_out *o = out_find(leader, to, &i);
	if (o == NULL) {
		fprintf(e->out, "error: no transfer %" PRIu32 "->%" PRIu32 "\n", leader->id, to);
		return;
	}
	snap_send_rewind(o->s);
	fprintf(e->out, "rewind %" PRIu32 "->%" PRIu32 ": resend from offset %" PRIu64
		" (acknowledged)\n", leader->id, to, snap_send_acked(o->s));
}

/* ----------------------------------------------------------- delivering */

/* A complete, checked, durable snapshot: the core decides (rt_xfer.c). */
static void completed(env *e, env_node *nd, uint32_t from, uint64_t leader_term)
{
	kv_machine m;
	kv_snap_meta meta;
	char path[600];
	if (snap_recv_take(nd->in, &m, &meta, path, sizeof path) != 0) {
		fputs("  error: nothing complete to take\n", e->out);
		return;
	}
	fprintf(e->out, "  complete: snapshot at %" PRIu64 "@%" PRIu64 " durable, %zu keys;"
		" the core is stepped with it\n", meta.index, meta.term, kv_store_count(m.store));
	kv_machine_destroy(&m);
	raft_msg s;
	memset(&s, 0, sizeof s);
	s.type = RAFT_MSG_SNAPSHOT;
	s.from = from;
	s.to = nd->id;
	s.term = leader_term;
	s.index = meta.index;
	s.log_term = meta.term;
	(void)raft_step(nd->r, &s);
}

static void on_chunk(env *e, env_node *nd, const env_frame *f)
{
	wire_snap_chunk c;
	const char *why = NULL;
	if (wire_decode_snap_chunk(f->buf, f->len, &c, &why) != 0) {
		fprintf(e->out, ": bad frame (%s)\n", why);
		return;
	}
	char err[512];
	if (nd->in == NULL) {
		char *dir = node_dir(e, nd);
		if (dir == NULL)
			return;
		nd->in = snap_recv_new(dir);
		free(dir);
		if (nd->in == NULL) {
			fputs(": out of memory\n", e->out);
			return;
		}
	}
	wire_snap_ack a;
	int rc = snap_recv_chunk(nd->in, &c, &a, err, sizeof err);
	if (rc < 0)
		fprintf(e->out, ": refused (%s)", err);
	fprintf(e->out, ": ack %s offset=%" PRIu64 "\n", status_name(a.status), a.offset);
	uint8_t *buf = xmalloc(WIRE_SNAP_ACK_LEN);
	wire_encode_snap_ack(&a, buf);
	frame_send(e, nd->id, f->from, buf, WIRE_SNAP_ACK_LEN, "  ");
	if (rc == 1)
		completed(e, nd, c.from, c.term);
}

static void on_ack(env *e, env_node *nd, const env_frame *f)
{
	wire_snap_ack a;
	const char *why = NULL;
	if (wire_decode_snap_ack(f->buf, f->len, &a, &why) != 0) {
		fprintf(e->out, ": bad frame (%s)\n", why);
		return;
	}
	size_t i;
	struct env_out *o = out_find(nd, a.from, &i);
	if (o == NULL || o->index != a.index) {
		fputs(": no such transfer, ignored\n", e->out);
		return;
	}
	int rc = snap_send_ack(o->s, &a);
	if (rc == 0) {
		fprintf(e->out, ": acked %" PRIu64 " of %" PRIu64 "\n", snap_send_acked(o->s),
			snap_send_total(o->s));
		return;
	}
	fprintf(e->out, ": %s, raft_report_snapshot(%" PRIu32 ", %s)\n",
		rc == 1 ? "transfer done" : "given up", a.from, rc == 1 ? "ok" : "fail");
	out_drop(nd, i);
	raft_report_snapshot(nd->r, a.from, rc == 1);
}

void stream_deliver(env *e, env_node *nd, uint32_t from, size_t max, bool drop)
{
	size_t taken = 0;
	for (size_t i = 0; i < e->n_frames && (max == 0 || taken < max);) {
		env_frame f = e->frames[i];
		if (f.to != nd->id || (from != 0 && f.from != from)) {
			i++;
			continue;
		}
		memmove(&e->frames[i], &e->frames[i + 1], (e->n_frames - i - 1) * sizeof f);
		e->n_frames--;
		taken++;
		fputs(drop ? "drop " : "deliver ", e->out);
		fmt_frame(e->out, f.buf, f.len);
		if (drop)
			fputc('\n', e->out);
		else if (nd->r == NULL)
			fputs(": the node is down, lost\n", e->out);
		else if (f.len > 5 && f.buf[5] == WIRE_MSG_SNAP_CHUNK)
			on_chunk(e, nd, &f);
		else
			on_ack(e, nd, &f);
		free(f.buf);
	}
	if (taken == 0)
		fprintf(e->out, "%" PRIu32 ": no snapshot frames to %s\n", nd->id,
			drop ? "drop" : "deliver");
}
