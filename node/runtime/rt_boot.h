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

/* The same counter, raised to at least at_least (one more than stored if
 * that is more): the nonce of a node whose data dir was lost, once the log
 * has shown it the nonces its earlier lives used (RT_NONCE_GENERATION in rt.h).
 * 0, or -1 with one line in err. */
int rt_boot_raise(const char *dir, uint64_t at_least, uint64_t *nonce, char *err, size_t errlen);

#endif
