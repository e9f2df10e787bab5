/*
 * snapshot_send.c — the leader's end of a snapshot transfer (see
 * snapshot_xfer.h): chunks read from the file on demand, a window of
 * unacknowledged chunks, resume from the acknowledged offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot_int.h"
#include "snapshot_xfer.h"

#define MAX_RESTARTS 3 /* the follower refused the stream this often: give up */

struct snap_send {
	int fd;
	uint64_t index, term, total;
	uint32_t from, to;
	uint64_t leader_term;
	size_t chunk, window;
	uint64_t acked; /* the follower holds [0, acked) */
	uint64_t next;  /* next byte to send */
	uint32_t stream_crc;
	int restarts;
	bool done;
	bool resent;    /* went back to acked since the last progress */
	uint64_t chunks_sent;
	uint8_t *buf;
};

static int pread_all(int fd, uint8_t *buf, size_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t r = pread(fd, buf, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO; /* the file shrank under us */
			return -1;
		}
		buf += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

snap_send *snap_send_open(const char *path, uint64_t index, uint64_t term, uint32_t from,
			  uint32_t to, uint64_t leader_term, size_t chunk, size_t window,
			  char *err, size_t errlen)
{
	if (chunk == 0 || chunk > WIRE_SNAP_MAX_CHUNK || window == 0) {
		snap_errf(err, errlen, "snapshot send: bad chunk size or window");
		return NULL;
	}
	snap_send *s = calloc(1, sizeof *s);
	if (s == NULL) {
		snap_errf(err, errlen, "snapshot send: out of memory");
		return NULL;
	}
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t tail[4];
	if (s->fd < 0 || fstat(s->fd, &st) != 0) {
		snap_errf(err, errlen, "snapshot send: cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	s->total = (uint64_t)st.st_size;
	if (s->total < KV_SNAP_HEADER_BYTES + 4 || pread_all(s->fd, tail, 4, s->total - 4) != 0) {
		snap_errf(err, errlen, "snapshot send: %s is too short or unreadable", path);
		goto fail;
	}
	/* The stream ends with its own CRC-32C: it names the content. */
	s->stream_crc = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 |
			(uint32_t)tail[3] << 24;
	s->buf = malloc(chunk);
	if (s->buf == NULL) {
		snap_errf(err, errlen, "snapshot send: out of memory");
		goto fail;
	}
	s->index = index;
	s->term = term;
	s->from = from;
	s->to = to;
	s->leader_term = leader_term;
	s->chunk = chunk;
	s->window = window;
	return s;
fail:
	snap_send_free(s);
	return NULL;
}

void snap_send_free(snap_send *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->buf);
	free(s);
}

int snap_send_next(snap_send *s, uint8_t **frame, size_t *len, char *err, size_t errlen)
{
	if (s->done || s->next >= s->total)
		return 0;
	if (s->next - s->acked >= (uint64_t)s->window * s->chunk)
		return 0; /* window full: wait for an ack */
	size_t n = s->total - s->next < s->chunk ? (size_t)(s->total - s->next) : s->chunk;
	if (pread_all(s->fd, s->buf, n, s->next) != 0) {
		snap_errf(err, errlen, "snapshot send: read at %llu: %s",
			  (unsigned long long)s->next, strerror(errno));
		return -1;
	}
	wire_snap_chunk c = {
		.from = s->from, .to = s->to, .term = s->leader_term, .index = s->index,
		.snap_term = s->term, .total = s->total, .offset = s->next,
		.last = s->next + n == s->total, .stream_crc = s->stream_crc,
		.data = s->buf, .len = (uint32_t)n,
	};
	if (wire_encode_snap_chunk(&c, frame, len) != 0) {
		snap_errf(err, errlen, "snapshot send: out of memory");
		return -1;
	}
	s->next += n;
	s->chunks_sent++;
	return 1;
}

int snap_send_ack(snap_send *s, const wire_snap_ack *a)
{
	if (a->from != s->to || a->index != s->index || a->snap_term != s->term || s->done)
		return s->done ? 1 : 0;
	switch (a->status) {
	case WIRE_SNAP_DONE:
		s->done = true;
		s->acked = s->total;
		return 1;
	case WIRE_SNAP_RESTART:
		if (++s->restarts > MAX_RESTARTS)
			return -1;
		s->acked = s->next = 0;
		s->resent = false;
		return 0;
	default:
		if (a->offset > s->total)
			return 0; /* not ours to believe */
		if (a->offset > s->acked) {
			s->acked = a->offset;
			if (s->next < s->acked)
				s->next = s->acked;
			s->resent = false;
		} else if (a->offset == s->acked && s->next > s->acked && !s->resent) {
			/* No progress: the follower lacks what follows offset (a
			 * chunk was lost, or it restarted the transfer): resend
			 * from there, once; the acks of the chunks still in
			 * flight say the same and are not a reason to go back
			 * again (the caller's timer is). An ack below acked is
			 * an old one, overtaken on the way: ignored. */
			s->next = a->offset;
			s->resent = true;
		}
		return 0;
	}
}

void snap_send_rewind(snap_send *s)
{
	s->next = s->acked;
	s->resent = true;
}

uint64_t snap_send_acked(const snap_send *s)
{
	return s->acked;
}

uint64_t snap_send_total(const snap_send *s)
{
	return s->total;
}

uint64_t snap_send_chunks_sent(const snap_send *s)
{
	return s->chunks_sent;
}
