/*
 * clock.h — the history's one clock: CLOCK_MONOTONIC nanoseconds since the
 * run started. Every event, nemesis log line and plot point uses it, so they
 * can be laid side by side.
 */
#ifndef RAFTKV_WL_CLOCK_H
#define RAFTKV_WL_CLOCK_H

#include <stdint.h>

/* Sets time zero. Call once, first. */
void wl_clock_start(void);

/* Nanoseconds since wl_clock_start; never smaller than a previous answer. */
uint64_t wl_now(void);

#endif
