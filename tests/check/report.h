/*
 * report.h — human descriptions of a failed key: the longest order the
 * search found and the operations that could not come next, each named by
 * its line numbers so the reader can find it in the history file.
 */
#ifndef RAFTKV_CHECK_REPORT_H
#define RAFTKV_CHECK_REPORT_H

#include "history.h"
#include "wgl.h"

void report_op(strbuf *b, const check_history *h, const op *o, const char *mark);
/* pruned: f comes from the pruned search (see supply.h), whose dead ends
 * include operations that fit but would leave a later read unsatisfiable. */
void report_failure(strbuf *b, const check_history *h, uint32_t key, const model *m,
		    const op *ops, size_t n, const wgl_failure *f, bool pruned);
/* The key, quoted for a message. */
void report_key(strbuf *b, const check_history *h, uint32_t key);

#endif
