/*
 * hugepages.h — the node's heap merged into transparent huge pages, so the
 * fork that writes a snapshot copies few page tables (hugepages.c says why
 * and how).
 */
#ifndef RAFTKV_HUGEPAGES_H
#define RAFTKV_HUGEPAGES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* True unless RAFTKV_NO_HUGEPAGES is set (non-empty) or the kernel's
 * transparent huge pages are "[never]" (or absent). */
bool hugepages_enabled(void);

/* The main heap's end now (the program break): its growth between two
 * calls is how much the heap grew. */
uintptr_t hugepages_heap_end(void);

/* Worker thread: merges the main heap ([heap] in /proc/self/maps) into huge
 * pages, 2 MiB at a time (madvise MADV_COLLAPSE, Linux >= 6.1), a pause
 * between steps; ranges merged already cost a look each. Stops early when
 * *stop becomes true. Returns the 2 MiB steps that succeeded, or -1 when
 * not one step could be taken (a kernel without MADV_COLLAPSE). */
long hugepages_collapse(const atomic_bool *stop);

#endif
