/*
 * rt_boot.h — the boot nonce: this boot's identity inside every command it
 * proposes, so de-duplication (node/kv/kv_dedup.c) can tell a newer boot's
 * commands from an older one's. It must grow from boot to boot of a node.
 * A wall-clock reading does not (a clock stepped backwards between two boots
 * would make every command of the new boot "stale": issue 10 item 5), so it
 * is a counter kept in the data dir, bumped durably before it is used.
 */
#ifndef RAFTKV_RT_BOOT_H
#define RAFTKV_RT_BOOT_H

#include <stddef.h>
#include <stdint.h>

/* Reads dir/BOOT (absent = 0), writes back one more (atomically: tmp,
 * fsync, rename, fsync dir) and returns it in *nonce. 0, or -1 with one
 * line in err (a damaged file is refused, not guessed at). */
int rt_boot_next(const char *dir, uint64_t *nonce, char *err, size_t errlen);

/* The same, but a dir without BOOT starts at `first` instead of 1. A node
 * whose data dir was wiped comes back with the same id and a new boot
 * counter: counting from 1 again, its commands would carry the (origin,
 * nonce, request id) of its previous life's, and the node would take an old
 * entry of that life, replayed while it catches up, for the answer to its
 * own waiting request (an acknowledged write that never applies; the new
 * command is then skipped as already seen). So the node starts a fresh dir
 * above every nonce an earlier life can have used: the wall clock in
 * microseconds at that first boot (an earlier life started earlier, and
 * counted up by one per restart). Only a wall clock stepped back between
 * two lives by more than their distance breaks this. */
int rt_boot_next_from(const char *dir, uint64_t first, uint64_t *nonce, char *err, size_t errlen);

#endif
