/*
 * classify.h — what an HTTP answer means for the history (contract sections
 * 2 and 5). The one rule that matters: only answers that prove the operation
 * was NOT applied may become `fail`; anything that leaves the outcome open is
 * `info`, or the checker would be told a lie. Reads have no effect, so a read
 * that errors in any way is simply a `fail`.
 */
#ifndef RAFTKV_WL_CLASSIFY_H
#define RAFTKV_WL_CLASSIFY_H

#include <cjson/cJSON.h>

enum wl_outcome { OUT_OK, OUT_FAIL, OUT_INFO, OUT_COUNT };
extern const char *const wl_outcome_name[OUT_COUNT];

typedef struct wl_result {
	int type;          /* enum wl_outcome */
	char *value;       /* ok read: the value read, NULL when absent */
	char *error;       /* fail/info: short words, e.g. "mismatch", "timeout" */
	cJSON *current;    /* cas mismatch: the value the node reported, if any */
} wl_result;

/* f: enum wl_f. status: HTTP status, 0 when no answer arrived (connection
 * refused, timeout; transport_err then says which). not_sent: the caller
 * knows that no byte of the request left (a fresh connection was refused).
 * body: the response body. Fills r (free with wl_result_free). 0, or -1
 * when out of memory. */
int wl_classify(int f, long status, const char *body, const char *transport_err,
		int not_sent, wl_result *r);
void wl_result_free(wl_result *r);

/* A cas refused because the value differed. */
int wl_result_mismatch(const wl_result *r);

#endif
