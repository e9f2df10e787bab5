/*
 * wal_open.c — opening (directory, lock, replay, writer position) and closing.
 *
 * After open, everything in the files is fsynced (every segment, then the
 * directory): a previous process may have died with dirty pages still in the
 * page cache, and wal_drop_unsynced must only ever cut what this process
 * wrote after its own last fsync.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "wal_int.h"

#ifdef WAL_PLANTED_BUGS
int wal_planted_bug;
#endif

static void wal_free(wal *w)
{
	if (w->fd >= 0)
		close(w->fd);
	if (w->dirfd >= 0)
		close(w->dirfd); /* also releases the flock */
	pthread_mutex_destroy(&w->mu);
	free(w->dir);
	free(w);
}

void wal_close(wal *w)
{
	if (w)
		wal_free(w);
}

/* fdatasync of every segment before the last (the last one is synced
 * through the writer's descriptor): a previous process may have written any
 * of them with fsync off and died with their pages still dirty. */
static int sync_earlier_segments(wal *w, const wal_replay_end *end, char *err, size_t errlen)
{
	if (WAL_PLANTED_BUG(1))
		return 0;
	for (uint64_t seq = end->first_seq; end->last_seq != 0 && seq < end->last_seq; seq++) {
		char *path = wal_segment_path(w->dir, seq);
		if (!path) {
			wal_errf(err, errlen, "wal: out of memory");
			return -1;
		}
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fdatasync(fd) != 0) {
			wal_errf(err, errlen, "wal: fsync of %s failed: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			free(path);
			return -1;
		}
		close(fd);
		free(path);
	}
	return 0;
}

/* Makes the last segment the one being appended to, creating the first one
 * when the log is new (or its only segment was a torn creation). */
static int open_writer(wal *w, const wal_replay_end *end, char *err, size_t errlen)
{
	if (end->last_seq == 0) {
		if (wal_segment_create(w, end->first_seq, NULL, 0, &w->fd, &w->off) != 0) {
			wal_errf(err, errlen, "wal: cannot create a segment in %s: %s", w->dir,
				 strerror(errno));
			return -1;
		}
		w->seq = end->first_seq;
	} else {
		char *path = wal_segment_path(w->dir, end->last_seq);
		if (!path) {
			wal_errf(err, errlen, "wal: out of memory");
			return -1;
		}
		w->fd = open(path, O_WRONLY | O_CLOEXEC);
		if (w->fd < 0) {
			wal_errf(err, errlen, "wal: cannot open %s for writing: %s", path, strerror(errno));
			free(path);
			return -1;
		}
		free(path);
		w->seq = end->last_seq;
		w->off = end->last_size;
	}
	if (sync_earlier_segments(w, end, err, errlen) != 0)
		return -1;
	if (fdatasync(w->fd) != 0 || fsync(w->dirfd) != 0) {
		wal_errf(err, errlen, "wal: fsync in %s failed: %s", w->dir, strerror(errno));
		return -1;
	}
	w->synced_seq = w->seq;
	w->synced_off = w->off;
	w->synced_hs = w->hs;
	w->synced_last_index = w->last_index;
	w->synced_last_term = w->last_term;
	atomic_store(&w->unsynced, 0);
	return 0;
}

int wal_open(const char *dir, const wal_options *opts, wal **out, wal_recovered *rec,
	     char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!out || !rec) {
		wal_errf(err, errlen, "wal: bad arguments");
		return -1;
	}
	*out = NULL;
	memset(rec, 0, sizeof(*rec));
	rec->hs.vote = RAFT_NONE;
	if (!dir || !*dir) {
		wal_errf(err, errlen, "wal: no directory given");
		return -1;
	}
	if (wal_mkdirs(dir, err, errlen) != 0)
		return -1;

	wal *w = calloc(1, sizeof(*w));
	if (!w) {
		wal_errf(err, errlen, "wal: out of memory");
		return -1;
	}
	w->fd = -1;
	w->dirfd = -1;
	w->segment_bytes = opts && opts->segment_bytes ? opts->segment_bytes
						       : WAL_DEFAULT_SEGMENT_BYTES;
	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		free(w);
		wal_errf(err, errlen, "wal: cannot create a mutex");
		return -1;
	}
	w->dir = strdup(dir);
	if (!w->dir) {
		wal_errf(err, errlen, "wal: out of memory");
		goto fail;
	}
	w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0) {
		wal_errf(err, errlen, "wal: cannot open directory %s: %s", dir, strerror(errno));
		goto fail;
	}
	/* Two processes appending to one log would interleave records. */
	if (flock(w->dirfd, LOCK_EX | LOCK_NB) != 0) {
		wal_errf(err, errlen, "wal: %s is locked by another process (%s)", dir,
			 errno == EWOULDBLOCK ? "another node uses this data dir" : strerror(errno));
		goto fail;
	}

	wal_replay_end end;
	if (wal_replay(dir, w->dirfd, rec, &end, err, errlen) != 0)
		goto fail;
	w->hs = rec->hs;
	w->last_index = rec->snap_index + rec->n_entries;
	w->last_term = rec->n_entries ? rec->entries[rec->n_entries - 1].term : rec->snap_term;
	if (open_writer(w, &end, err, errlen) != 0) {
		wal_recovered_free(rec);
		goto fail;
	}
	*out = w;
	return 0;
fail:
	wal_free(w);
	return -1;
}
