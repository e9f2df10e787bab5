/*
 * files.h — the file helpers every part of raftkv shares: creating a
 * directory path, fsyncing a path, and replacing a small file atomically
 * (tmp, fsync, rename, fsync the directory), so that a crash leaves either
 * the old content or the new, never a torn mix.
 */
#ifndef RAFTKV_FILES_H
#define RAFTKV_FILES_H

#include <stdbool.h>
#include <stddef.h>

/* mkdir -p. With durable, each directory created is made to survive a crash
 * by fsyncing its parent. Ends with a check that dir is a directory.
 * 0, or -1 with a one-line err ("cannot create a/b: Permission denied"). */
int files_mkdir_p(const char *dir, bool durable, char *err, size_t errlen);

/* Opens path with flags (O_RDONLY | O_DIRECTORY for a directory), fsyncs,
 * closes. 0, or -1 with errno set. */
int files_fsync_path(const char *path, int flags);

/* Writes len bytes as dir/name: dir/name.tmp written and fsynced, renamed
 * over dir/name, dir fsynced. 0, or -1 with a one-line err. */
int files_write_atomic(const char *dir, const char *name, const void *data, size_t len,
		       char *err, size_t errlen);

#endif
