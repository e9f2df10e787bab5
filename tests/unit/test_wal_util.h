/*
 * test_wal_util.h — helpers shared by the tests/unit/test_wal_*.c binaries:
 * scratch directories, deterministic entries, file surgery.
 *
 * Entry data is a pure function of (index, term), so any recovered entry can
 * be checked byte for byte without keeping what was written.
 */
#ifndef RAFTKV_TEST_WAL_UTIL_H
#define RAFTKV_TEST_WAL_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../node/wal/wal.h"

static inline int tw_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

/* A fresh scratch dir; the WAL goes to <dir>/wal (not created: wal_open must). */
typedef struct tw_dir {
	char root[64];
	char wal[96];
} tw_dir;

static inline void tw_dir_make(tw_dir *d)
{
	snprintf(d->root, sizeof(d->root), "/tmp/raftkv-wal-test-XXXXXX");
	assert_non_null(mkdtemp(d->root));
	snprintf(d->wal, sizeof(d->wal), "%s/wal", d->root);
}

static inline void tw_dir_remove(tw_dir *d)
{
	assert_int_equal(nftw(d->root, tw_rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* Data of entry (index, term): a short text, with a length that varies. */
static inline size_t tw_data(uint64_t index, uint64_t term, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "v%" PRIu64 "@%" PRIu64 ":", index, term);
	assert_true(n > 0 && (size_t)n < cap);
	size_t len = (size_t)n + (size_t)(index * 7 + term) % 40;
	assert_true(len < cap);
	for (size_t i = (size_t)n; i < len; i++)
		buf[i] = (char)('a' + (index + i) % 26);
	return len;
}

/* Writes entries first..first+n-1 of one term as one batch. */
static inline void tw_write_entries(wal *w, uint64_t first, size_t n, uint64_t term,
				    bool do_fsync)
{
	raft_entry *e = calloc(n, sizeof(*e));
	char(*bufs)[64] = calloc(n, 64);
	assert_non_null(e);
	assert_non_null(bufs);
	for (size_t i = 0; i < n; i++) {
		e[i].index = first + i;
		e[i].term = term;
		e[i].type = RAFT_ENTRY_NORMAL;
		e[i].len = (uint32_t)tw_data(first + i, term, bufs[i], 64);
		e[i].data = (uint8_t *)bufs[i];
	}
	wal_batch *b = wal_batch_new();
	assert_non_null(b);
	assert_int_equal(wal_batch_add_entries(b, e, n), 0);
	char err[256];
	assert_int_equal(wal_write(w, b, do_fsync, err, sizeof(err)), 0);
	wal_batch_free(b);
	free(bufs);
	free(e);
}

static inline void tw_write_hs(wal *w, uint64_t term, uint32_t vote, uint64_t commit,
			       bool do_fsync)
{
	raft_hard_state hs = { .term = term, .vote = vote, .commit = commit };
	wal_batch *b = wal_batch_new();
	assert_non_null(b);
	assert_int_equal(wal_batch_add_hard_state(b, &hs), 0);
	char err[256];
	assert_int_equal(wal_write(w, b, do_fsync, err, sizeof(err)), 0);
	wal_batch_free(b);
}

/* Checks one recovered entry against what tw_data would have written. */
static inline void tw_check_entry(const raft_entry *e, uint64_t index, uint64_t term)
{
	char buf[64];
	size_t len = tw_data(index, term, buf, sizeof(buf));
	assert_int_equal(e->index, index);
	assert_int_equal(e->term, term);
	assert_int_equal(e->len, len);
	assert_non_null(e->data);
	assert_memory_equal(e->data, buf, len);
}

/* Opens and expects success. */
static inline wal *tw_open(const char *dir, size_t seg_bytes, wal_recovered *rec)
{
	wal_options o = { .segment_bytes = seg_bytes };
	wal *w = NULL;
	char err[512];
	int r = wal_open(dir, &o, &w, rec, err, sizeof(err));
	if (r != 0)
		print_error("wal_open failed: %s\n", err);
	assert_int_equal(r, 0);
	assert_non_null(w);
	return w;
}

static inline char *tw_seg_path(const char *dir, uint64_t seq, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%016" PRIu64 ".wal", dir, seq);
	return buf;
}

static inline int64_t tw_file_size(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return -1;
	return (int64_t)st.st_size;
}

static inline size_t tw_count_segments(const char *dir)
{
	size_t n = 0;
	char p[256];
	for (uint64_t s = 1; s < 100000; s++) {
		if (tw_file_size(tw_seg_path(dir, s, p, sizeof(p))) < 0) {
			if (n > 0)
				break;
			continue;
		}
		n++;
	}
	return n;
}

static inline void tw_xor_byte(const char *path, int64_t off, uint8_t mask)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	uint8_t c;
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= mask;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	assert_int_equal(close(fd), 0);
}

static inline void tw_truncate(const char *path, int64_t size)
{
	assert_int_equal(truncate(path, size), 0);
}

static inline void tw_append_bytes(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

/* A whole (small: < 1 MiB) file, malloc'd; its size in *n. */
static inline uint8_t *tw_read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	uint8_t *buf = malloc(1 << 20);
	assert_non_null(buf);
	*n = fread(buf, 1, 1 << 20, f);
	assert_int_equal(ferror(f), 0);
	fclose(f);
	return buf;
}

/* wal_open (segments of seg_bytes, 0 = default) must refuse dir with a
 * one-line reason that holds each needle given (NULL = none); what names
 * the case in a failure (NULL = none). */
static inline void tw_open_refused(const char *dir, size_t seg_bytes, const char *what,
				   const char *needle1, const char *needle2)
{
	wal *w = NULL;
	wal_recovered rec;
	char err[512] = "";
	wal_options o = {.segment_bytes = seg_bytes};
	if (wal_open(dir, seg_bytes ? &o : NULL, &w, &rec, err, sizeof(err)) == 0) {
		wal_close(w);
		wal_recovered_free(&rec);
		fail_msg("%s%swal_open accepted a log it should refuse", what ? what : "", what ? ": " : "");
	}
	assert_null(w);
	assert_null(strchr(err, '\n'));
	if (needle1 && !strstr(err, needle1))
		fail_msg("%s%serror \"%s\" lacks \"%s\"", what ? what : "", what ? ": " : "", err, needle1);
	if (needle2 && !strstr(err, needle2))
		fail_msg("%s%serror \"%s\" lacks \"%s\"", what ? what : "", what ? ": " : "", err, needle2);
}

/* cmocka setup/teardown that give each test a fresh tw_dir in *state. */
static inline int tw_setup(void **state)
{
	tw_dir *d = calloc(1, sizeof(*d));
	assert_non_null(d);
	tw_dir_make(d);
	*state = d;
	return 0;
}

static inline int tw_teardown(void **state)
{
	tw_dir_remove(*state);
	free(*state);
	return 0;
}

#endif
