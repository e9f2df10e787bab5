/*
 * history.h — the in-memory history behind check_history (internal).
 * Events are stored validated, in order, with each invoke linked to its
 * completion, so the checker and the writers never re-validate.
 */
#ifndef RAFTKV_CHECK_HISTORY_H
#define RAFTKV_CHECK_HISTORY_H

#include "check.h"
#include "util.h"

#define HEV_NONE UINT32_MAX

typedef struct hev {
	int64_t process, time;
	const char *value, *value2; /* NULL = absent; NUL-terminated copies */
	size_t value_len, value2_len;
	uint32_t key;   /* id in check_history.keys */
	uint32_t line;  /* line or event number, for messages */
	uint32_t match; /* the partner event (invoke <-> completion), or HEV_NONE */
	uint8_t type, f;
	bool mismatch;
} hev;

typedef struct hproc {
	int64_t pid;
	uint32_t open;      /* outstanding invoke's event index + 1, or 0 */
	uint32_t info_line; /* line of its info completion, or 0 */
	bool used;
} hproc;

struct check_history {
	hev *ev;
	size_t n, cap;
	strtab keys;
	arena values;
	hproc *procs;
	size_t nprocs, procs_cap; /* open addressing, power of two */
	int64_t last_time;
	strbuf err;
};

/* check_history_add with the number to name in messages ("line 12"). */
int history_add(check_history *h, const check_event *ev, const char *what, uint64_t line);
/* Records a message "what N: text" as the current error. Returns -1. */
int history_fail(check_history *h, const char *what, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
