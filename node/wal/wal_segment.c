/*
 * wal_segment.c — segment files: names, headers, listing, reading, creating.
 *
 * A segment is "<16 decimal digits>.wal": the digits are its sequence number,
 * zero-padded so that names sort like numbers and the fault agent can find
 * every log file by its suffix. Each begins with a 32-byte header carrying its
 * own sequence number, so a file copied or renamed into the wrong place is
 * noticed instead of being replayed out of order.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../common/crc32c.h"
#include "../common/files.h"
#include "wal_int.h"

void wal_errf(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap); /* truncation of a message is harmless */
	va_end(ap);
}

char *wal_segment_path(const char *dir, uint64_t seq)
{
	size_t n = strlen(dir) + 1 + WAL_SEQ_DIGITS + sizeof(WAL_SUFFIX);
	char *p = malloc(n);
	if (!p)
		return NULL;
	snprintf(p, n, "%s/%016" PRIu64 "%s", dir, seq, WAL_SUFFIX);
	return p;
}

void wal_segment_header(uint8_t out[WAL_HDR_SIZE], uint64_t seq)
{
	memcpy(out, WAL_MAGIC, 8);
	wal_put32(out + 8, WAL_VERSION);
	wal_put32(out + 12, WAL_HDR_SIZE);
	wal_put64(out + 16, seq);
	wal_put32(out + 24, 0);
	wal_put32(out + 28, crc32c(0, out, 28));
}

int wal_segment_header_check(const uint8_t *buf, size_t n, uint64_t seq, char *err,
			     size_t errlen)
{
	if (n < WAL_HDR_SIZE || crc32c(0, buf, 28) != wal_get32(buf + 28)) {
		wal_errf(err, errlen, "torn or corrupt segment header");
		return 0;
	}
	/* The checksum holds, so these were written this way on purpose. */
	if (memcmp(buf, WAL_MAGIC, 8) != 0) {
		wal_errf(err, errlen, "not a raftkv WAL segment (bad magic)");
		return -1;
	}
	if (wal_get32(buf + 8) != WAL_VERSION || wal_get32(buf + 12) != WAL_HDR_SIZE) {
		wal_errf(err, errlen, "unsupported WAL format version %" PRIu32,
			 wal_get32(buf + 8));
		return -1;
	}
	if (wal_get64(buf + 16) != seq) {
		wal_errf(err, errlen, "header says segment %" PRIu64 " but the file name says %" PRIu64,
			 wal_get64(buf + 16), seq);
		return -1;
	}
	return 1;
}

/* Parses "<16 digits>.wal"; false for any other name (ignored: editor
 * backups, the fault agent's scratch files, ...). */
static bool parse_name(const char *name, uint64_t *seq)
{
	if (strlen(name) != WAL_SEQ_DIGITS + strlen(WAL_SUFFIX) ||
	    strcmp(name + WAL_SEQ_DIGITS, WAL_SUFFIX) != 0)
		return false;
	uint64_t v = 0;
	for (int i = 0; i < WAL_SEQ_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(name[i] - '0'); /* 16 digits cannot overflow */
	}
	*seq = v;
	return v > 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int wal_segment_list(const char *dir, uint64_t **out, size_t *n_out, char *err,
		     size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		wal_errf(err, errlen, "wal: cannot list %s: %s", dir, strerror(errno));
		return -1;
	}
	uint64_t *seqs = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		uint64_t seq;
		if (!parse_name(de->d_name, &seq))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			uint64_t *ns = realloc(seqs, nc * sizeof(*ns));
			if (!ns) {
				free(seqs);
				closedir(d);
				wal_errf(err, errlen, "wal: out of memory listing %s", dir);
				return -1;
			}
			seqs = ns;
			cap = nc;
		}
		seqs[n++] = seq;
		errno = 0;
	}
	int rerr = errno;
	closedir(d);
	if (rerr) {
		free(seqs);
		wal_errf(err, errlen, "wal: cannot list %s: %s", dir, strerror(rerr));
		return -1;
	}
	if (n > 1)
		qsort(seqs, n, sizeof(*seqs), cmp_u64);
	*out = seqs;
	*n_out = n;
	return 0;
}

int wal_read_file(int dirfd, const char *name, uint8_t **buf_out, size_t *n_out)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	size_t size = (size_t)st.st_size;
	uint8_t *buf = NULL;
	size_t got = 0;
	if (size > 0) {
		buf = malloc(size);
		if (!buf) {
			close(fd);
			errno = ENOMEM;
			return -1;
		}
		while (got < size) {
			ssize_t r = read(fd, buf + got, size - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				int e = errno;
				free(buf);
				close(fd);
				errno = e;
				return -1;
			}
			if (r == 0)
				break; /* shrank under us: use what is there */
			got += (size_t)r;
		}
	}
	close(fd);
	*buf_out = buf;
	*n_out = got;
	return 0;
}

/* A directory we create only survives a crash once its parent is fsynced:
 * files_mkdir_p(durable) does that for each one. */
int wal_mkdirs(const char *dir, char *err, size_t errlen)
{
	char why[300];
	if (files_mkdir_p(dir, true, why, sizeof why) != 0) {
		wal_errf(err, errlen, "wal: %s", why);
		return -1;
	}
	return 0;
}

int wal_pwritev_all(int fd, struct iovec *iov, int iovcnt, uint64_t off)
{
	while (iovcnt > 0) {
		if (iov->iov_len == 0) {
			iov++;
			iovcnt--;
			continue;
		}
		ssize_t r = pwritev(fd, iov, iovcnt, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = EIO;
			return -1;
		}
		off += (uint64_t)r;
		size_t left = (size_t)r;
		while (iovcnt > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return 0;
}

int wal_segment_create(struct wal *w, uint64_t seq, const uint8_t *extra, size_t extra_len,
		       int *fd_out, uint64_t *size_out)
{
	char *path = wal_segment_path(w->dir, seq);
	if (!path) {
		errno = ENOMEM;
		return -1;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;
		free(path);
		errno = e;
		return -1;
	}
	/* Header, then the start record: the current hard state, so that the
	 * state never lives only in an older segment that compaction may
	 * delete, and where the log ends, so that replay notices an earlier
	 * segment that lost records at its end. */
	uint8_t prefix[WAL_HDR_SIZE + WAL_REC_HDR + WAL_START_PAYLOAD];
	wal_segment_header(prefix, seq);
	wal_record_segment_start(prefix + WAL_HDR_SIZE, &w->hs, w->last_index, w->last_term);
	struct iovec iov[2] = {
		{ .iov_base = prefix, .iov_len = sizeof(prefix) },
		{ .iov_base = (void *)extra, .iov_len = extra_len },
	};
	if (wal_pwritev_all(fd, iov, extra_len ? 2 : 1, 0) != 0) {
		int e = errno;
		close(fd);
		if (unlink(path) != 0) {
			/* nothing more to do: replay treats a torn segment as a torn tail */
		}
		free(path);
		errno = e;
		return -1;
	}
	free(path);
	*fd_out = fd;
	*size_out = sizeof(prefix) + extra_len;
	return 0;
}
