/*
 * plot.h — --plot: one SVG, written directly (no gnuplot needed): latency of
 * every operation against time on a log scale, one colour per operation type
 * and a distinct mark for fail/info; throughput per second beneath; fault
 * intervals shaded across both, so a latency spike can be laid against the
 * fault that caused it.
 */
#ifndef RAFTKV_WL_PLOT_H
#define RAFTKV_WL_PLOT_H

#include "options.h"
#include "stats.h"

/* 0, or -1 with a message on stderr. */
int plot_svg(const char *path, const wl_options *o, const wl_stats *s);

#endif
