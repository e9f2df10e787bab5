/*
 * snapshot_recv.c — the follower's end of a snapshot transfer (see
 * snapshot_xfer.h): chunks written in order to a temporary file and fed to
 * a snapshot reader as they come; the file becomes a snapshot (fsync,
 * rename, directory fsync) only once every byte checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot_int.h"
#include "snapshot_xfer.h"

struct snap_recv {
	char *dir;
	bool active;   /* a transfer is under way (or finished: taken) */
	bool complete; /* whole and checked; not taken yet */
	bool taken;
	uint64_t index, term, total;
	uint32_t crc;
	uint64_t have;
	int fd;
	char *tmp;
	char *final;
	kv_snap_reader *rd;
	kv_machine m;
	kv_snap_meta meta;
	uint64_t chunks;
	bool planted_unchecked;
};

snap_recv *snap_recv_new(const char *dir)
{
	snap_recv *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	r->dir = strdup(dir);
	if (r->dir == NULL) {
		free(r);
		return NULL;
	}
	r->fd = -1;
	return r;
}

/* Drops the transfer under way (its temporary file too). */
static void reset(snap_recv *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (r->tmp != NULL && !r->complete && !r->taken)
		unlink(r->tmp);
	free(r->tmp);
	free(r->final);
	r->tmp = r->final = NULL;
	kv_snap_reader_free(r->rd);
	r->rd = NULL;
	if (r->complete)
		kv_machine_destroy(&r->m);
	r->active = r->complete = r->taken = false;
	r->have = 0;
}

void snap_recv_free(snap_recv *r)
{
	if (r == NULL)
		return;
	reset(r);
	free(r->dir);
	free(r);
}

static bool same(const snap_recv *r, const wire_snap_chunk *c)
{
	return r->active && c->index == r->index && c->snap_term == r->term &&
	       c->stream_crc == r->crc && c->total == r->total;
}

static int start(snap_recv *r, const wire_snap_chunk *c, char *err, size_t errlen)
{
	reset(r);
	if (snap_ensure_dir(r->dir, err, errlen) != 0)
		return -1;
	size_t n = strlen(r->dir) + 64;
	r->tmp = malloc(n);
	r->final = snapshot_path(r->dir, c->index, c->snap_term);
	r->rd = kv_snap_reader_new();
	if (r->tmp == NULL || r->final == NULL || r->rd == NULL) {
		snap_errf(err, errlen, "snapshot receive: out of memory");
		return -1;
	}
#ifdef RAFT_PLANTED_BUGS
	if (r->planted_unchecked)
		kv_snap_reader_plant_skip_crc(r->rd);
#endif
	/* A snapshot-*.tmp name: never loaded, removed by the next prune. */
	snprintf(r->tmp, n, "%s/" SNAP_PREFIX "%020" PRIu64 "-recv.tmp", r->dir, c->index);
	r->fd = open(r->tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644); /* read back: the CRC */
	if (r->fd < 0) {
		snap_errf(err, errlen, "snapshot receive: cannot create %s: %s", r->tmp,
			  strerror(errno));
		return -1;
	}
	r->active = true;
	r->index = c->index;
	r->term = c->snap_term;
	r->total = c->total;
	r->crc = c->stream_crc;
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The last byte arrived: check everything, make the file a snapshot. */
static int finish(snap_recv *r, char *err, size_t errlen)
{
	char why[200];
	if (kv_snap_reader_finish(r->rd, &r->m, &r->meta, why, sizeof why) != 0) {
		snap_errf(err, errlen, "snapshot receive: %s", why);
		return -1;
	}
	uint8_t tail[4];
	bool ok = pread(r->fd, tail, 4, (off_t)(r->total - 4)) == 4 &&
		  ((uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 |
		   (uint32_t)tail[3] << 24) == r->crc;
	if (!ok || r->meta.index != r->index || r->meta.term != r->term) {
		kv_machine_destroy(&r->m);
		snap_errf(err, errlen, "snapshot receive: the stream is not the snapshot announced");
		return -1;
	}
	/* From here on a failure must not leave r->m behind unowned. */
	r->complete = true;
	if (fsync(r->fd) != 0 || close(r->fd) != 0) {
		r->fd = -1;
		snap_errf(err, errlen, "snapshot receive: fsync %s: %s", r->tmp, strerror(errno));
		r->complete = false;
		kv_machine_destroy(&r->m);
		return -1;
	}
	r->fd = -1;
	if (rename(r->tmp, r->final) != 0 || snap_fsync_dir(r->dir) != 0) {
		snap_errf(err, errlen, "snapshot receive: cannot install %s: %s", r->final,
			  strerror(errno));
		r->complete = false;
		kv_machine_destroy(&r->m);
		return -1;
	}
	return 0;
}

int snap_recv_chunk(snap_recv *r, const wire_snap_chunk *c, wire_snap_ack *ack, char *err,
		    size_t errlen)
{
	memset(ack, 0, sizeof *ack);
	ack->from = c->to;
	ack->to = c->from;
	ack->term = c->term;
	ack->index = c->index;
	ack->snap_term = c->snap_term;
	if (same(r, c) && (r->complete || r->taken)) {
		ack->status = WIRE_SNAP_DONE; /* our DONE was lost: say it again */
		ack->offset = r->total;
		return 0;
	}
	if (!same(r, c)) {
		if (c->offset != 0) {
			/* The middle of a snapshot we do not hold the start of. */
			ack->status = WIRE_SNAP_RESTART;
			return 0;
		}
		if (start(r, c, err, errlen) != 0)
			goto refuse;
	}
	if (c->offset != r->have) {
		/* A duplicate, or a gap after lost chunks: say what we want. */
		ack->status = WIRE_SNAP_CONTINUE;
		ack->offset = r->have;
		return 0;
	}
	char why[200];
	if (write_all(r->fd, c->data, c->len) != 0) {
		snap_errf(err, errlen, "snapshot receive: write %s: %s", r->tmp, strerror(errno));
		goto refuse;
	}
	if (kv_snap_reader_feed(r->rd, c->data, c->len, why, sizeof why) != 0) {
		snap_errf(err, errlen, "snapshot receive: %s", why);
		goto refuse;
	}
	r->have += c->len;
	r->chunks++;
	if (r->have < r->total) {
		ack->status = WIRE_SNAP_CONTINUE;
		ack->offset = r->have;
		return 0;
	}
	if (finish(r, err, errlen) != 0)
		goto refuse;
	ack->status = WIRE_SNAP_DONE;
	ack->offset = r->total;
	return 1;
refuse:
	reset(r);
	ack->status = WIRE_SNAP_RESTART;
	ack->offset = 0;
	return -1;
}

int snap_recv_take(snap_recv *r, kv_machine *out, kv_snap_meta *meta, char *path,
		   size_t pathlen)
{
	if (!r->complete)
		return -1;
	*out = r->m;
	*meta = r->meta;
	if (path != NULL && pathlen > 0)
		snprintf(path, pathlen, "%s", r->final);
	r->complete = false;
	r->taken = true;
	return 0;
}

uint64_t snap_recv_chunks(const snap_recv *r)
{
	return r->chunks;
}

#ifdef RAFT_PLANTED_BUGS
void snap_recv_plant_unchecked(snap_recv *r)
{
	r->planted_unchecked = true;
}
#endif
