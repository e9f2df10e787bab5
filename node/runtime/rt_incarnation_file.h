/*
 * rt_incarnation_file.h — the node's incarnation, kept in DIR/INCARNATION
 * (decimal, one line), written atomically and fsynced before the node speaks
 * with it. A missing file with an empty WAL means an empty data dir: the
 * runtime then decides (rt_incarnation.h). A damaged file stops the start.
 */
#ifndef RAFTKV_RT_INCARNATION_FILE_H
#define RAFTKV_RT_INCARNATION_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 0 with *found false when there is no file; 0 with *found and *inc; -1 with err. */
int inc_file_load(const char *dir, bool *found, uint64_t *inc, char *err, size_t errlen);
int inc_file_store(const char *dir, uint64_t inc, char *err, size_t errlen);

#endif
