/*
 * wal_write.c — appending batches, fsync bookkeeping, and the simulated loss
 * of unsynced writes.
 *
 * A batch goes to disk with one pwritev (and, when a segment is rolled, the
 * new segment's header and hard state travel in the same call), followed by
 * at most one fdatasync of the current segment: that single fsync for many
 * queued proposals is the group commit.
 *
 * The writer remembers where its last successful fsync ended (segment and
 * offset). Everything after that point is what a power cut could lose, which
 * is exactly what wal_drop_unsynced removes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wal_int.h"

/* fdatasync of an older segment that was rolled away from while fsync was
 * off: its tail is still only in the page cache. */
static int sync_old_segment(wal *w, uint64_t seq)
{
	char *path = wal_segment_path(w->dir, seq);
	if (!path) {
		errno = ENOMEM;
		return -1;
	}
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -1;
	int r = fdatasync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

static int do_sync(wal *w, char *err, size_t errlen)
{
	for (uint64_t s = w->synced_seq; s < w->seq; s++) {
		if (sync_old_segment(w, s) != 0) {
			wal_errf(err, errlen, "wal: fsync of segment %llu in %s failed: %s",
				 (unsigned long long)s, w->dir, strerror(errno));
			return -1;
		}
	}
	if (fdatasync(w->fd) != 0) {
		wal_errf(err, errlen, "wal: fsync in %s failed: %s", w->dir, strerror(errno));
		return -1;
	}
	if (w->dir_dirty) {
		/* A new segment exists only once its directory entry is durable. */
		if (fsync(w->dirfd) != 0) {
			wal_errf(err, errlen, "wal: fsync of directory %s failed: %s", w->dir,
				 strerror(errno));
			return -1;
		}
		w->dir_dirty = false;
	}
	w->synced_seq = w->seq;
	w->synced_off = w->off;
	w->synced_hs = w->hs;
	w->synced_last_index = w->last_index;
	w->synced_last_term = w->last_term;
	atomic_store(&w->unsynced, 0);
	return 0;
}

/* Starts segment seq + 1 holding the new segment's prefix and the batch. */
static int roll_and_write(wal *w, const wal_batch *b, char *err, size_t errlen)
{
	int fd;
	uint64_t size;
	if (wal_segment_create(w, w->seq + 1, b->buf, b->len, &fd, &size) != 0) {
		wal_errf(err, errlen, "wal: cannot create segment %llu in %s: %s",
			 (unsigned long long)(w->seq + 1), w->dir, strerror(errno));
		return -1;
	}
	/* The old segment's unsynced tail stays in the page cache; do_sync
	 * reaches it through synced_seq. */
	close(w->fd);
	w->fd = fd;
	w->seq++;
	w->off = size;
	w->dir_dirty = true;
	atomic_fetch_add(&w->unsynced, size);
	return 0;
}

static int append(wal *w, const wal_batch *b, char *err, size_t errlen)
{
	struct iovec iov = { .iov_base = b->buf, .iov_len = b->len };
	if (wal_pwritev_all(w->fd, &iov, 1, w->off) != 0) {
		int e = errno;
		/* Leave no half record behind if we can; either way the log is
		 * marked broken by the caller. */
		if (ftruncate(w->fd, (off_t)w->off) != 0) {
			/* replay will cut the torn tail */
		}
		wal_errf(err, errlen, "wal: write to %s failed: %s", w->dir, strerror(e));
		return -1;
	}
	w->off += b->len;
	atomic_fetch_add(&w->unsynced, b->len);
	return 0;
}

int wal_write(wal *w, const wal_batch *b, bool do_fsync, char *err, size_t errlen)
{
	if (!w || !b) {
		wal_errf(err, errlen, "wal: bad arguments");
		return -1;
	}
	if (pthread_mutex_lock(&w->mu) != 0) {
		wal_errf(err, errlen, "wal: mutex failure");
		return -1;
	}
	int rc = -1;
	if (w->broken) {
		wal_errf(err, errlen, "wal: log in %s is unusable after an earlier I/O error; restart the node",
			 w->dir);
		goto out;
	}
	if (b->has_entries && (!b->has_reset || b->entries_first) &&
	    b->first_index > w->last_index + 1) {
		/* Replay would refuse the gap and the node could never restart. */
		wal_errf(err, errlen, "wal: entries start at %llu but the log ends at %llu (gap)",
			 (unsigned long long)b->first_index, (unsigned long long)w->last_index);
		goto out;
	}
	if (b->len > 0) {
		int r;
		if (w->off >= w->segment_bytes) {
			/* A failed create leaves nothing behind: not broken. */
			if (roll_and_write(w, b, err, errlen) != 0)
				goto out;
			r = 0;
		} else {
			r = append(w, b, err, errlen);
		}
		if (r != 0) {
			w->broken = true;
			goto out;
		}
		if (b->has_hs)
			w->hs = b->hs;
		if (b->has_entries || b->has_reset) {
			w->last_index = b->last_index;
			w->last_term = b->last_term;
		}
	}
	bool all_synced = w->synced_seq == w->seq && w->synced_off == w->off && !w->dir_dirty;
	if (do_fsync && !all_synced && do_sync(w, err, errlen) != 0) {
		/* After a failed fsync the kernel may have dropped the dirty pages
		 * and a retry would "succeed": never trust this log again. */
		w->broken = true;
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int wal_drop_unsynced(wal *w)
{
	if (!w || pthread_mutex_lock(&w->mu) != 0)
		return -1;
	int rc = -1;
	if (w->synced_seq == w->seq && w->synced_off == w->off) {
		rc = 0;
		goto out;
	}
	close(w->fd);
	w->fd = -1;
	for (uint64_t s = w->seq; s > w->synced_seq; s--) {
		char *path = wal_segment_path(w->dir, s);
		if (!path)
			goto broken;
		int r = unlink(path);
		free(path);
		if (r != 0 && errno != ENOENT)
			goto broken;
	}
	char *path = wal_segment_path(w->dir, w->synced_seq);
	if (!path)
		goto broken;
	w->fd = open(path, O_WRONLY | O_CLOEXEC);
	free(path);
	if (w->fd < 0 || ftruncate(w->fd, (off_t)w->synced_off) != 0)
		goto broken;
	w->seq = w->synced_seq;
	w->off = w->synced_off;
	w->hs = w->synced_hs;
	w->last_index = w->synced_last_index;
	w->last_term = w->synced_last_term;
	w->dir_dirty = false;
	atomic_store(&w->unsynced, 0);
	rc = 0;
	goto out;
broken:
	w->broken = true;
out:
	pthread_mutex_unlock(&w->mu);
	return rc;
}

uint64_t wal_unsynced_bytes(const wal *w)
{
	return w ? atomic_load(&((wal *)w)->unsynced) : 0;
}
