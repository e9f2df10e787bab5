/*
 * notice.h — the node's stderr lines: one line each, prefixed with the node
 * id, so the agent can keep the file beside a test's history. (Named so that
 * "log" in raftkv always means the Raft log.)
 */
#ifndef RAFTKV_SERVER_NOTICE_H
#define RAFTKV_SERVER_NOTICE_H

#include <stdint.h>

void notice_set_node(uint32_t id);
void notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
