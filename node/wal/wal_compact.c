/*
 * wal_compact.c — moving the WAL's first index forward once a snapshot
 * covers the entries before it (see "Compaction" in FORMAT.md).
 *
 * Whole segments are dropped, never parts of one. The log's new starting
 * point (the base: index and term of the entry just before the first one
 * kept) is what the first kept segment's SEGMENT_START record says; it is
 * recorded in the small file `base` together with that segment's sequence
 * number, written atomically (temporary file, fsync, rename, directory fsync)
 * BEFORE any segment is deleted. So a crash in the middle leaves the base
 * file naming a segment with older ones still present; replay deletes those
 * and carries on. Without a base file the log must start at segment 1 with an
 * empty log, as before.
 *
 * A follower that installs a snapshot writes a RESET record instead
 * (wal_batch_add_reset, wal_reset): one atomic record after which the log is
 * empty after the snapshot point. The segments before it then go by the
 * ordinary compaction above.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/crc32c.h"
#include "../common/files.h"
#include "wal_int.h"
#include "wal_compact.h"

#define BASE_MAGIC "RKVWBAS\n"
#define BASE_SIZE 40u /* magic 8, version 4, first seq 8, index 8, term 8, crc 4 */

static void encode_base(uint8_t out[BASE_SIZE], const wal_base *b)
{
	memcpy(out, BASE_MAGIC, 8);
	wal_put32(out + 8, WAL_VERSION);
	wal_put64(out + 12, b->first_seq);
	wal_put64(out + 20, b->index);
	wal_put64(out + 28, b->term);
	wal_put32(out + 36, crc32c(0, out, 36));
}

int wal_base_read(const char *dir, int dirfd, wal_base *b, char *err, size_t errlen)
{
	memset(b, 0, sizeof *b);
	uint8_t *buf;
	size_t n;
	if (wal_read_file(dirfd, WAL_BASE_FILE, &buf, &n) != 0) {
		if (errno == ENOENT)
			return 0;
		wal_errf(err, errlen, "wal: cannot read %s/%s: %s", dir, WAL_BASE_FILE, strerror(errno));
		return -1;
	}
	int rc = -1;
	if (n != BASE_SIZE || memcmp(buf, BASE_MAGIC, 8) != 0 ||
	    crc32c(0, buf, 36) != wal_get32(buf + 36)) {
		wal_errf(err, errlen,
			 "wal: %s/%s is damaged (%zu bytes, bad magic or checksum); refusing to start",
			 dir, WAL_BASE_FILE, n);
		goto out;
	}
	if (wal_get32(buf + 8) != WAL_VERSION) {
		wal_errf(err, errlen, "wal: %s/%s has unsupported version %" PRIu32, dir,
			 WAL_BASE_FILE, wal_get32(buf + 8));
		goto out;
	}
	b->first_seq = wal_get64(buf + 12);
	b->index = wal_get64(buf + 20);
	b->term = wal_get64(buf + 28);
	b->present = true;
	if (b->first_seq < 1 || (b->index == 0) != (b->term == 0)) {
		wal_errf(err, errlen, "wal: %s/%s holds an impossible base; refusing to start", dir,
			 WAL_BASE_FILE);
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

/* Writes the base file atomically (tmp, fsync, rename, directory fsync). */
static int write_base(const wal *w, const wal_base *b, char *err, size_t errlen)
{
	uint8_t buf[BASE_SIZE];
	encode_base(buf, b);
	char why[300];
	if (files_write_atomic(w->dir, WAL_BASE_FILE, buf, sizeof buf, why, sizeof why) != 0) {
		wal_errf(err, errlen, "wal: %s", why);
		return -1;
	}
	return 0;
}

/* Deletes segments [from, to) (those that exist) and fsyncs the directory. */
static int drop_segments(wal *w, uint64_t from, uint64_t to, uint64_t *bytes)
{
	for (uint64_t s = from; s < to; s++) {
		char name[32];
		snprintf(name, sizeof name, "%016" PRIu64 "%s", s, WAL_SUFFIX);
		struct stat st;
		if (bytes != NULL && fstatat(w->dirfd, name, &st, 0) == 0)
			*bytes += (uint64_t)st.st_size;
		if (unlinkat(w->dirfd, name, 0) != 0 && errno != ENOENT)
			return -1;
	}
	return fsync(w->dirfd);
}

int wal_base_apply(const char *dir, int dirfd, uint64_t **seqs, size_t *n, wal_recovered *rec,
		   char *err, size_t errlen)
{
	wal_base b;
	if (wal_base_read(dir, dirfd, &b, err, errlen) != 0)
		return -1;
	if (!b.present)
		return 0;
	/* Segments older than the base are what an interrupted compaction or
	 * reset had not deleted yet: finish the job. */
	size_t k = 0;
	while (k < *n && (*seqs)[k] < b.first_seq)
		k++;
	for (size_t i = 0; i < k; i++) {
		char name[32];
		snprintf(name, sizeof name, "%016" PRIu64 "%s", (*seqs)[i], WAL_SUFFIX);
		if (unlinkat(dirfd, name, 0) != 0 && errno != ENOENT) {
			wal_errf(err, errlen, "wal: cannot remove compacted segment %s/%s: %s", dir, name,
				 strerror(errno));
			return -1;
		}
	}
	if (k > 0) {
		if (fsync(dirfd) != 0) {
			wal_errf(err, errlen, "wal: fsync of %s failed: %s", dir, strerror(errno));
			return -1;
		}
		memmove(*seqs, *seqs + k, (*n - k) * sizeof **seqs);
		*n -= k;
	}
	if (*n == 0 || (*seqs)[0] != b.first_seq) {
		if (*n == 0) {
			wal_errf(err, errlen, "wal: %s/%s names segment %016" PRIu64
				 " but no segment is left; refusing to start", dir, WAL_BASE_FILE, b.first_seq);
			return -1;
		}
		wal_errf(err, errlen,
			 "wal: %s/%s says the log starts at segment %016" PRIu64
			 " but the first one is %016" PRIu64 "; refusing to start",
			 dir, WAL_BASE_FILE, b.first_seq, (*seqs)[0]);
		return -1;
	}
	rec->snap_index = b.index;
	rec->snap_term = b.term;
	return 1;
}

/* The log end recorded by segment seq's start record (its base, were the
 * segments before it dropped). 0, or -1 when it cannot be read. */
static int segment_start_of(wal *w, uint64_t seq, uint64_t *index, uint64_t *term)
{
	char name[32];
	snprintf(name, sizeof name, "%016" PRIu64 "%s", seq, WAL_SUFFIX);
	int fd = openat(w->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	uint8_t buf[WAL_HDR_SIZE + WAL_REC_HDR + WAL_START_PAYLOAD];
	ssize_t got = pread(fd, buf, sizeof buf, 0);
	close(fd);
	wal_rec r;
	char why[100];
	if (got != (ssize_t)sizeof buf || wal_segment_header_check(buf, sizeof buf, seq, why, sizeof why) != 1 ||
	    !wal_record_check(buf, sizeof buf, WAL_HDR_SIZE, &r) || r.type != WAL_REC_SEGMENT_START ||
	    r.len != WAL_START_PAYLOAD)
		return -1;
	*index = wal_get64(r.payload + 20);
	*term = wal_get64(r.payload + 28);
	return 0;
}

int wal_compact(wal *w, uint64_t upto, wal_compact_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	if (pthread_mutex_lock(&w->mu) != 0) {
		wal_errf(err, errlen, "wal: mutex failure");
		return -1;
	}
	int rc = -1;
	uint64_t *seqs = NULL;
	size_t n = 0;
	if (w->broken) {
		wal_errf(err, errlen, "wal: log in %s is unusable after an earlier I/O error", w->dir);
		goto out;
	}
	if (wal_segment_list(w->dir, &seqs, &n, err, errlen) != 0)
		goto out;
	/* Segment seqs[i] can go when the next one starts at or before upto:
	 * all its entries are then <= upto. Only segments wholly behind the
	 * last fsync are candidates (wal_drop_unsynced and the fsync of old
	 * segments must find theirs), and the current one always stays. */
	size_t drop = 0;
	uint64_t base_index = 0, base_term = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		uint64_t next = seqs[i + 1];
		if (next > w->synced_seq || next > w->seq)
			break;
		uint64_t idx, term;
		if (segment_start_of(w, next, &idx, &term) != 0) {
			wal_errf(err, errlen, "wal: cannot read the start of segment %016" PRIu64 " in %s",
				 next, w->dir);
			goto out;
		}
		if (idx > upto)
			break;
		drop = i + 1;
		base_index = idx;
		base_term = term;
	}
	if (drop > 0) {
		wal_base b = {.present = true, .first_seq = seqs[drop], .index = base_index,
			      .term = base_term};
		if (write_base(w, &b, err, errlen) != 0)
			goto out;
		if (drop_segments(w, seqs[0], seqs[drop], &res->bytes_freed) != 0) {
			/* The base file is durable: replay finishes the job. */
			wal_errf(err, errlen, "wal: cannot remove compacted segments in %s: %s", w->dir,
				 strerror(errno));
			goto out;
		}
		res->segments_dropped = drop;
	}
	res->base_index = drop > 0 ? base_index : 0;
	res->first_seq = n > 0 ? seqs[drop] : w->seq;
	rc = 0;
out:
	free(seqs);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int wal_reset(wal *w, uint64_t index, uint64_t term, char *err, size_t errlen)
{
	/* One RESET record, fsynced: atomic like any record (a torn one is cut
	 * at replay, leaving the old log). The runtime puts the same record at
	 * the head of a ready's batch (wal_batch_add_reset) instead, so the
	 * entries after the snapshot ride the same fsync. */
	wal_batch *b = wal_batch_new();
	if (b == NULL || wal_batch_add_reset(b, index, term) != 0) {
		wal_batch_free(b);
		wal_errf(err, errlen, "wal: bad reset point or out of memory");
		return -1;
	}
	int rc = wal_write(w, b, true, err, errlen);
	wal_batch_free(b);
	return rc;
}

int wal_recovered_skip_to(wal_recovered *rec, uint64_t index, uint64_t term, char *err,
			  size_t errlen)
{
	if (index < rec->snap_index) {
		wal_errf(err, errlen,
			 "wal: the log starts after index %" PRIu64 " but the snapshot is at %" PRIu64
			 ": entries in between are missing",
			 rec->snap_index, index);
		return -1;
	}
	uint64_t last = rec->snap_index + rec->n_entries;
	size_t drop;
	if (index <= last) {
		uint64_t t = index == rec->snap_index ? rec->snap_term
						      : rec->entries[index - rec->snap_index - 1].term;
		if (index > 0 && t != term) {
			wal_errf(err, errlen,
				 "wal: the log holds term %" PRIu64 " at index %" PRIu64
				 " but the snapshot there is of term %" PRIu64,
				 t, index, term);
			return -1;
		}
		drop = (size_t)(index - rec->snap_index);
	} else {
		/* The snapshot is ahead of the log (installed, or applied before
		 * the local fsync): nothing of the log is needed. */
		drop = rec->n_entries;
	}
	for (size_t i = 0; i < drop; i++)
		free(rec->entries[i].data);
	memmove(rec->entries, rec->entries + drop, (rec->n_entries - drop) * sizeof *rec->entries);
	rec->n_entries -= drop;
	rec->snap_index = index;
	rec->snap_term = term;
	return 0;
}

int wal_fit_snapshot(wal *w, wal_recovered *rec, uint64_t index, uint64_t term, bool *reset,
		     char *err, size_t errlen)
{
	*reset = false;
	uint64_t last = rec->snap_index + rec->n_entries;
	bool holds = index >= rec->snap_index && index <= last &&
		     (index == rec->snap_index ? rec->snap_term
					       : rec->entries[index - rec->snap_index - 1].term) == term;
	if (holds || index < rec->snap_index)
		return wal_recovered_skip_to(rec, index, term, err, errlen);
	/* The snapshot is ahead of the log, or the log holds another term at
	 * its index: a crash after a received snapshot was made durable and
	 * before the RESET record was. The snapshot is committed state; what
	 * the log holds there is either older or a deposed leader's: reset. */
	if (wal_reset(w, index, term, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < rec->n_entries; i++)
		free(rec->entries[i].data);
	rec->n_entries = 0;
	rec->snap_index = index;
	rec->snap_term = term;
	*reset = true;
	return 0;
}
