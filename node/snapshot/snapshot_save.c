/*
 * snapshot_save.c — writing a snapshot file durably (see snapshot.h):
 * temporary file, stream with checksum, fsync, rename, directory fsync.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/files.h"
#include "snapshot.h"
#include "snapshot_int.h"

void snap_errf(char *err, size_t errlen, const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

char *snapshot_path(const char *dir, uint64_t index, uint64_t term)
{
	size_t n = strlen(dir) + 64;
	char *p = malloc(n);
	if (p != NULL)
		snprintf(p, n, "%s/" SNAP_PREFIX "%020" PRIu64 "-%020" PRIu64 SNAP_SUFFIX, dir, index,
			 term);
	return p;
}

int snap_fsync_dir(const char *dir)
{
	return files_fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

/* The snapshot dir and any missing parent, each made durable. */
int snap_ensure_dir(const char *dir, char *err, size_t errlen)
{
	char why[300];
	if (files_mkdir_p(dir, true, why, sizeof why) != 0) {
		snap_errf(err, errlen, "snapshot: %s", why);
		return -1;
	}
	return 0;
}

/* Write-behind: every SNAP_WRITE_BEHIND bytes the file's new range is sent
 * to the disk (sync_file_range WRITE) and the range before it waited for,
 * so at most two ranges are dirty at any time. Without it a 122 MB snapshot
 * sat in the page cache until its fsync, and that fsync's one large flush
 * held up the node's WAL fdatasyncs behind it (ext4 orders a commit after
 * the data it allocated): the p99 write latency during a snapshot. 1 MiB,
 * not 8: a WAL fdatasync that queues behind one range waits for less (make
 * bench-snapshot part B, 4 alternating pairs at load 4-6: p99 during/before
 * 1.23-1.61 against 1.49-2.84 with 8 MiB; the 122 MB file still took
 * 0.32-0.64 s). Advisory: a failure here is left to the final fsync. */
#define SNAP_WRITE_BEHIND ((off_t)1 << 20)

typedef struct fd_out {
	int fd;
	off_t off;     /* bytes written */
	off_t kicked;  /* [0, kicked) sent to the disk ... */
	off_t prev;    /* ... [prev, kicked) the last range sent, not waited for */
} fd_out;

static void write_behind(fd_out *o)
{
	if (o->off - o->kicked < SNAP_WRITE_BEHIND)
		return;
	off_t start = o->kicked, len = o->off - o->kicked;
	(void)sync_file_range(o->fd, start, len, SYNC_FILE_RANGE_WRITE);
	if (start > o->prev)
		(void)sync_file_range(o->fd, o->prev, start - o->prev,
				      SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
					      SYNC_FILE_RANGE_WAIT_AFTER);
	o->prev = start;
	o->kicked = o->off;
}

static int fd_sink(void *ctx, const uint8_t *buf, size_t len)
{
	fd_out *o = ctx;
	while (len > 0) {
		ssize_t w = write(o->fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		len -= (size_t)w;
		o->off += w;
	}
	write_behind(o);
	return 0;
}

int snapshot_save(const char *dir, const kv_machine *m, const kv_snap_meta *meta,
		  uint64_t *bytes, char *err, size_t errlen)
{
	if (snap_ensure_dir(dir, err, errlen) != 0)
		return -1;
	char *final = snapshot_path(dir, meta->index, meta->term);
	size_t tn = strlen(dir) + 80;
	char *tmp = malloc(tn);
	if (final == NULL || tmp == NULL) {
		free(final);
		free(tmp);
		snap_errf(err, errlen, "snapshot: out of memory");
		return -1;
	}
	/* The pid keeps two writers (a forked child and a restarted parent)
	 * from sharing a temporary file. */
	snprintf(tmp, tn, "%s/" SNAP_PREFIX "%020" PRIu64 "-%ld" SNAP_TMP_SUFFIX, dir, meta->index,
		 (long)getpid());
	int rc = -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snap_errf(err, errlen, "snapshot: cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	char why[200];
	fd_out out = {.fd = fd};
	if (kv_snapshot_write(m, meta, fd_sink, &out, bytes, why, sizeof why) != 0) {
		snap_errf(err, errlen, "%s (writing %s: %s)", why, tmp, strerror(errno));
		goto out_unlink;
	}
	if (fsync(fd) != 0) {
		snap_errf(err, errlen, "snapshot: fsync %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	if (close(fd) != 0) {
		fd = -1;
		snap_errf(err, errlen, "snapshot: close %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, final) != 0) {
		snap_errf(err, errlen, "snapshot: rename %s: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	if (snap_fsync_dir(dir) != 0) {
		/* The file is complete under its name but the name may not
		 * survive a power cut; the caller must not drop the log for it. */
		snap_errf(err, errlen, "snapshot: fsync %s: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
	goto out;
out_unlink:
	if (fd >= 0)
		close(fd);
	fd = -1;
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	free(final);
	free(tmp);
	return rc;
}
