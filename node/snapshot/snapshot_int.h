/* snapshot_int.h — what the files of node/snapshot share (names, helpers). */
#ifndef RAFTKV_SNAPSHOT_INT_H
#define RAFTKV_SNAPSHOT_INT_H

#include <stddef.h>

#define SNAP_PREFIX "snapshot-"
#define SNAP_SUFFIX ".snap"
#define SNAP_TMP_SUFFIX ".tmp"

void snap_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Creates dir (one level) if missing, fsyncing its parent. 0 or -1 with err. */
int snap_ensure_dir(const char *dir, char *err, size_t errlen);
/* fsync of a directory; 0 or -1 with errno. */
int snap_fsync_dir(const char *dir);

#endif
