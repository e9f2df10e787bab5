/*
 * snapshot.h — snapshot files of one node: the state machine at an applied
 * index, stored in <data-dir>/snapshots/ (layout in node/snapshot/FORMAT.md).
 *
 * A snapshot is written to a temporary file, fsynced, renamed to its final
 * name and the directory fsynced, so a crash leaves either the whole file
 * under its name or none (a leftover *.tmp is ignored and pruned). Loading
 * checks every byte (kv_snapshot.h) and never takes a damaged file: it falls
 * back to an older one when the log still holds the entries after it, and
 * otherwise fails with one line naming the file.
 *
 * Nothing here touches the Raft core or the loop: snapshot_save is a plain
 * blocking call, made by whoever owns a frozen view of the state machine (a
 * forked child, or a worker thread; see tests/bench/snapshot_bench.c for
 * what each costs the serving loop).
 */
#ifndef RAFTKV_SNAPSHOT_H
#define RAFTKV_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kv/kv_machine.h"
#include "../kv/kv_snapshot.h"

#define SNAPSHOT_KEEP 2 /* files kept by snapshot_prune */

/* "<dir>/snapshot-<index, 20 digits>-<term, 20 digits>.snap", malloc'd. */
char *snapshot_path(const char *dir, uint64_t index, uint64_t term);

/* Writes m as of meta to its file in dir (created if missing, its parent
 * fsynced). 0 and *bytes, or -1 with a one-line reason in err; on failure no
 * file under a final name was created or changed. */
int snapshot_save(const char *dir, const kv_machine *m, const kv_snap_meta *meta,
		  uint64_t *bytes, char *err, size_t errlen);

/* One snapshot file, by its name (its contents are not read). */
typedef struct snapshot_file {
	uint64_t index;
	uint64_t term;
	char name[64];
} snapshot_file;

/* The snapshot files in dir, newest (highest index) first; *out malloc'd.
 * A missing dir is an empty list. 0 or -1 with err. */
int snapshot_list(const char *dir, snapshot_file **out, size_t *n, char *err, size_t errlen);

typedef struct snapshot_loaded {
	bool found;          /* false: start from the empty state machine at index 0 */
	kv_snap_meta meta;   /* what was loaded (found only) */
	char path[512];      /* its file (found only) */
	size_t skipped;      /* damaged newer files passed over */
	char skipped_why[512]; /* the first of them and why, for a log line */
} snapshot_loaded;

/*
 * Loads the newest valid snapshot into *out (initialised by this call when 0
 * is returned). log_base is the index just before the first entry the log
 * still holds (0 when the log starts at 1): a snapshot older than log_base
 * cannot be used, because the entries after it are gone.
 *   - the newest file is valid: it is loaded;
 *   - it is damaged: the next older valid one (or the empty state, when the
 *     log starts at 1) is loaded if it is >= log_base; skipped/skipped_why say
 *     what was passed over;
 *   - otherwise -1, err naming the damaged file and why it cannot be replaced.
 */
int snapshot_load(const char *dir, uint64_t log_base, kv_machine *out, snapshot_loaded *res,
		  char *err, size_t errlen);

/* Reads and checks one snapshot file completely. 0 and *out, *meta; or -1. */
int snapshot_read_file(const char *path, kv_machine *out, kv_snap_meta *meta, char *err,
		       size_t errlen);

/* Writes the snapshot in a forked child (the loop's own copy-on-write view:
 * the parent goes on serving at once; see tests/bench/snapshot_bench.c for
 * the measured costs). *child is its pid and *result_fd the read end of a
 * pipe that becomes readable (EOF) when the child is done; the caller polls
 * it (uv_poll) and then calls snapshot_fork_finish. The child only writes
 * the file and exits: it touches no sockets and no other state. 0 or -1. */
int snapshot_fork_save(const char *dir, const kv_machine *m, const kv_snap_meta *meta,
		       int *child, int *result_fd, char *err, size_t errlen);

/* Reads the child's result, reaps it and closes result_fd. 0 and *bytes
 * when the snapshot is durable, -1 with the child's reason otherwise.
 * Blocks until the child is done. */
int snapshot_fork_finish(int child, int result_fd, uint64_t *bytes, char *err, size_t errlen);

/* Without blocking (result_fd set O_NONBLOCK by the caller): reads what the
 * child wrote so far into line (*have bytes of cap). 1 when its result line
 * is complete (or the pipe ended: the writer died), 0 when more is to come.
 * The line is written only after the file is durable, so the verdict needs
 * neither the pipe's end nor the child's exit (which comes after the child
 * tore down its copy-on-write image: reap it later, waitpid WNOHANG). */
int snapshot_fork_read(int result_fd, char *line, size_t cap, size_t *have);
/* The verdict of a line read by snapshot_fork_read: 0 and *bytes when the
 * snapshot is durable, -1 with the child's reason otherwise. */
int snapshot_fork_verdict(const char *line, size_t have, uint64_t *bytes, char *err,
			  size_t errlen);

/* Removes every snapshot but the newest keep (by index), and leftover
 * temporary files; fsyncs dir when something was removed. 0 or -1. */
int snapshot_prune(const char *dir, size_t keep, char *err, size_t errlen);

#endif
