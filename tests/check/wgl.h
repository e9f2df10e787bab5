/*
 * wgl.h — the linearizability search for one key: the Wing-Gong algorithm
 * with Lowe's memoisation ("just-in-time linearisation", as in porcupine).
 *
 * Operations become call and return entries in one time-ordered list (calls
 * first among equal times, so equal times are concurrent). The search walks
 * the list: a call before the first pending return may be linearised next if
 * the model allows it and (set, state) was not seen before; it is then lifted
 * out and the walk restarts. Reaching a return means that operation had to be
 * linearised already: backtrack. Optional (info) operations have no return
 * entry, so nothing ever forces them; the search succeeds once every required
 * operation is placed. Candidates are tried in invoke order, info ones too:
 * trying info operations last was measured to be much slower on Jepsen etcd
 * histories, where a timed-out write usually did take effect soon.
 *
 * Two prunings keep concurrent histories from exploding, both sound:
 *  - a read or cas-mismatch that fits the current value and is minimal is
 *    placed at once with no alternatives (it changes nothing, so if any order
 *    works, one with it first does);
 *  - supply.h's rules reject a move after which some later read could never
 *    see its value.
 * Both are checked against an exhaustive search on random small histories in
 * tests/unit/test_check_model.c.
 */
#ifndef RAFTKV_CHECK_WGL_H
#define RAFTKV_CHECK_WGL_H

#include "memo.h"
#include "model.h"

typedef enum wgl_result {
	WGL_OK,      /* linearizable */
	WGL_BAD,     /* not; see wgl_failure */
	WGL_TIMEOUT, /* deadline passed */
	WGL_MEMORY,  /* memo would pass the cap, or malloc failed */
	WGL_BUDGET,  /* max_steps moves made without a verdict */
} wgl_result;

#define WGL_MAX_PENDING 12

/* Where the search got deepest before every branch died. */
typedef struct wgl_failure {
	uint32_t *order; /* the longest linearisable prefix found (op indices) */
	size_t norder;
	uint32_t state;   /* model state after it */
	uint32_t blocker; /* op whose return came before it could be placed */
	uint32_t pending[WGL_MAX_PENDING]; /* ops that could have come next, */
	size_t npending, npending_total;   /* none of which fit */
} wgl_failure;

typedef struct wgl_limits {
	int64_t deadline_ns; /* CLOCK_MONOTONIC; 0 = none */
	size_t max_memory;   /* memo + model bytes */
	uint64_t max_steps;  /* 0 = none */
	bool no_prune;       /* skip supply.h's dead-end rules: slower, but the
	                        deepest point then reads naturally in a report */
} wgl_limits;

/* fail may be NULL; when given and the result is WGL_BAD, free with
 * wgl_failure_free. steps (may be NULL) gets the number of moves made. */
wgl_result wgl_check(model *m, const op *ops, size_t n, memo *memo, const wgl_limits *lim,
		     wgl_failure *fail, uint64_t *steps);
void wgl_failure_free(wgl_failure *f);

int64_t wgl_now_ns(void);

#endif
