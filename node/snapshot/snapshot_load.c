/*
 * snapshot_load.c — finding, checking, loading and pruning snapshot files
 * (see snapshot.h). A file is trusted only after every byte of it checked:
 * a damaged snapshot is never loaded silently.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot.h"
#include "snapshot_int.h"

#define NAME_LEN (sizeof(SNAP_PREFIX) - 1 + 20 + 1 + 20 + sizeof(SNAP_SUFFIX) - 1)

static bool parse_u64_digits(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		uint64_t d = (uint64_t)(p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* "snapshot-<20 digits>-<20 digits>.snap", exactly. */
static bool parse_name(const char *name, uint64_t *index, uint64_t *term)
{
	size_t pl = sizeof(SNAP_PREFIX) - 1;
	if (strlen(name) != NAME_LEN || strncmp(name, SNAP_PREFIX, pl) != 0 ||
	    name[pl + 20] != '-' || strcmp(name + pl + 41, SNAP_SUFFIX) != 0)
		return false;
	return parse_u64_digits(name + pl, 20, index) && parse_u64_digits(name + pl + 21, 20, term);
}

static bool is_tmp_name(const char *name)
{
	size_t n = strlen(name), pl = sizeof(SNAP_PREFIX) - 1, sl = sizeof(SNAP_TMP_SUFFIX) - 1;
	return n > pl + sl && strncmp(name, SNAP_PREFIX, pl) == 0 &&
	       strcmp(name + n - sl, SNAP_TMP_SUFFIX) == 0;
}

_Static_assert(NAME_LEN < sizeof(((snapshot_file *)0)->name), "snapshot_file.name too short");

/* "dir/name", malloc'd (NULL on ENOMEM). */
static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static int newest_first(const void *a, const void *b)
{
	const snapshot_file *x = a, *y = b;
	if (x->index != y->index)
		return x->index < y->index ? 1 : -1;
	return x->term < y->term ? 1 : x->term > y->term ? -1 : 0;
}

int snapshot_list(const char *dir, snapshot_file **out, size_t *n, char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		snap_errf(err, errlen, "snapshot: cannot read %s: %s", dir, strerror(errno));
		return -1;
	}
	size_t cap = 0;
	snapshot_file *v = NULL;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		snapshot_file f;
		if (!parse_name(e->d_name, &f.index, &f.term))
			continue;
		memcpy(f.name, e->d_name, NAME_LEN + 1); /* parse_name checked the length */
		if (*n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			snapshot_file *nv = realloc(v, nc * sizeof *nv);
			if (nv == NULL) {
				free(v);
				closedir(d);
				snap_errf(err, errlen, "snapshot: out of memory");
				return -1;
			}
			v = nv;
			cap = nc;
		}
		v[(*n)++] = f;
	}
	closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof *v, newest_first);
	*out = v;
	return 0;
}

int snapshot_read_file(const char *path, kv_machine *out, kv_snap_meta *meta, char *err,
		       size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snap_errf(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	kv_snap_reader *r = kv_snap_reader_new();
	uint8_t *buf = malloc(KV_SNAP_CHUNK);
	int rc = -1;
	if (r == NULL || buf == NULL) {
		snap_errf(err, errlen, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t got = read(fd, buf, KV_SNAP_CHUNK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snap_errf(err, errlen, "read: %s", strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		if (kv_snap_reader_feed(r, buf, (size_t)got, err, errlen) != 0)
			goto out;
	}
	rc = kv_snap_reader_finish(r, out, meta, err, errlen);
out:
	kv_snap_reader_free(r);
	free(buf);
	close(fd);
	return rc;
}

/* Reads one listed file; a file whose contents disagree with its name is
 * as damaged as one whose checksum fails. */
static int load_one(const char *dir, const snapshot_file *f, kv_machine *out,
		    kv_snap_meta *meta, char *why, size_t whylen)
{
	char *path = join(dir, f->name);
	if (path == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	int rc = snapshot_read_file(path, out, meta, why, whylen);
	free(path);
	if (rc != 0) {
		size_t pl = strlen("snapshot: ");
		if (strncmp(why, "snapshot: ", pl) == 0) /* the file name says it already */
			memmove(why, why + pl, strlen(why + pl) + 1);
		return -1;
	}
	if (meta->index != f->index || meta->term != f->term) {
		snprintf(why, whylen, "holds index %" PRIu64 " term %" PRIu64 ", not what its name says",
			 meta->index, meta->term);
		kv_machine_destroy(out);
		return -1;
	}
	return 0;
}

int snapshot_load(const char *dir, uint64_t log_base, kv_machine *out, snapshot_loaded *res,
		  char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	snapshot_file *files;
	size_t n;
	if (snapshot_list(dir, &files, &n, err, errlen) != 0)
		return -1;
	char first_bad[512] = "";
	char why[300];
	int rc = -1;
	for (size_t i = 0; i < n; i++) {
		const snapshot_file *f = &files[i];
		if (f->index < log_base) {
			/* Too old for the log, and so is everything after it in
			 * the list: the entries it would need are gone. */
			break;
		}
		kv_snap_meta meta;
		if (load_one(dir, f, out, &meta, why, sizeof why) != 0) {
			if (res->skipped++ == 0) {
				snprintf(first_bad, sizeof first_bad, "%s/%s", dir, f->name);
				snprintf(res->skipped_why, sizeof res->skipped_why, "%s/%s: %s", dir,
					 f->name, why);
			}
			continue;
		}
		res->found = true;
		res->meta = meta;
		snprintf(res->path, sizeof res->path, "%s/%s", dir, f->name);
		rc = 0;
		goto out;
	}
	if (log_base == 0) {
		/* The log holds everything from index 1: the empty state
		 * machine is a valid starting point. */
		if (kv_machine_init(out) != 0) {
			snap_errf(err, errlen, "snapshot: out of memory");
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (res->skipped > 0)
		snap_errf(err, errlen,
			  "snapshot: %s; the log starts after index %" PRIu64
			  " and no older valid snapshot covers the gap; refusing to start",
			  res->skipped_why, log_base);
	else
		snap_errf(err, errlen,
			  "snapshot: the log starts after index %" PRIu64
			  " but %s holds no snapshot at or after it; refusing to start",
			  log_base, dir);
out:
	free(files);
	return rc;
}

int snapshot_prune(const char *dir, size_t keep, char *err, size_t errlen)
{
	snapshot_file *files;
	size_t n;
	if (snapshot_list(dir, &files, &n, err, errlen) != 0)
		return -1;
	bool removed = false;
	int rc = 0;
	for (size_t i = keep; i < n; i++) {
		char *path = join(dir, files[i].name);
		if (path == NULL || (unlink(path) != 0 && errno != ENOENT)) {
			snap_errf(err, errlen, "snapshot: cannot remove %s/%s: %s", dir, files[i].name,
				  path ? strerror(errno) : "out of memory");
			rc = -1;
		} else {
			removed = true;
		}
		free(path);
	}
	free(files);
	/* Temporary files of writes that never finished (a crash, a killed
	 * child). A running writer's own file is younger than its process;
	 * callers prune only when no write is in progress. */
	DIR *d = opendir(dir);
	if (d != NULL) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (!is_tmp_name(e->d_name))
				continue;
			char *path = join(dir, e->d_name);
			if (path != NULL && unlink(path) == 0)
				removed = true;
			free(path);
		}
		closedir(d);
	}
	if (removed && snap_fsync_dir(dir) != 0) {
		snap_errf(err, errlen, "snapshot: cannot fsync %s: %s", dir, strerror(errno));
		rc = -1;
	}
	return rc;
}
