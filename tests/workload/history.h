/*
 * history.h — the JSON Lines history of contract section 5, written as
 * events happen so that the file order is the real-time order.
 */
#ifndef RAFTKV_WL_HISTORY_H
#define RAFTKV_WL_HISTORY_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>

#include "classify.h"

typedef struct wl_history {
	FILE *f;               /* NULL: recording disabled, every call succeeds */
	char *buf;             /* stdio buffer, large so writes rarely syscall */
	uint64_t events;
} wl_history;

/* path NULL disables recording. 0, or -1 with a message on stderr. */
int history_open(wl_history *h, const char *path);

/* One event. type: "invoke" or an outcome name; value is borrowed (it may
 * be NULL for JSON null); r, when not NULL, adds "error" and "current".
 * 0, or -1 on a write error or out of memory. */
int history_event(wl_history *h, int process, const char *type, int f,
		  const char *key, const cJSON *value, uint64_t time, int node,
		  const wl_result *r);

/* Flushes and closes; 0, or -1 if anything was lost. */
int history_close(wl_history *h);

#endif
